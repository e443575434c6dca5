//! `matches` and `FilterIndex` against an independent model of
//! `emqx_topic:match/2`: recursive over level lists, the way EMQX writes it.

use exhook_topic::{FilterIndex, matches};
use proptest::prelude::*;

/// EMQX's clauses, one by one.
fn model(topic: &str, filter: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let topic: Vec<&str> = topic.split('/').collect();
    let filter: Vec<&str> = filter.split('/').collect();
    match_levels(&topic, &filter)
}

fn match_levels(topic: &[&str], filter: &[&str]) -> bool {
    match (topic, filter) {
        ([], []) => true,
        (_, ["#"]) => true,
        ([t, topic @ ..], [f, filter @ ..]) if t == f || *f == "+" => match_levels(topic, filter),
        _ => false,
    }
}

fn level() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("$SYS".to_owned()),
        Just("$".to_owned()),
        Just("é".to_owned()),
        Just("A".to_owned()),
    ]
}

fn topic() -> impl Strategy<Value = String> {
    prop::collection::vec(level(), 1..5).prop_map(|levels| levels.join("/"))
}

fn filter() -> impl Strategy<Value = String> {
    let level = prop_oneof![4 => level(), 2 => Just("+".to_owned()), 1 => Just("#".to_owned())];
    prop::collection::vec(level, 1..5).prop_map(|levels| levels.join("/"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn matches_agrees_with_the_model(filter in filter(), topic in topic()) {
        prop_assert_eq!(matches(&filter, &topic), model(&topic, &filter), "filter {:?} topic {:?}", filter, topic);
    }

    #[test]
    fn index_agrees_with_matching_one_by_one(filters in prop::collection::vec(filter(), 0..24), topic in topic()) {
        let mut index = FilterIndex::new();
        for (id, filter) in filters.iter().enumerate() {
            index.insert(filter, id);
        }
        let mut hits = Vec::new();
        index.for_each_match(&topic, |id| hits.push(id));
        hits.sort_unstable();
        let expected: Vec<usize> = (0..filters.len()).filter(|&id| matches(&filters[id], &topic)).collect();
        prop_assert_eq!(hits, expected, "filters {:?} topic {:?}", filters, topic);
    }

    #[test]
    fn valid_filters_have_well_placed_wildcards(filter in filter()) {
        let levels: Vec<&str> = filter.split('/').collect();
        let hash_ok = levels.iter().enumerate().all(|(i, l)| *l != "#" || i == levels.len() - 1);
        let valid = !filter.is_empty() && hash_ok;
        prop_assert_eq!(exhook_topic::validate(&filter).is_ok(), valid, "{:?}", filter);
    }

    #[test]
    fn validation_never_panics(text in "\\PC{0,40}") {
        let _ = exhook_topic::validate(&text);
        let _ = exhook_topic::subscription_topic(&text);
    }
}
