//! The rules of MQTT 5.0 §4.7 / §4.8 and EMQX's `emqx_topic` as a table.

use exhook_topic::{FilterErrorKind as K, FilterIndex, matches, validate};

/// (filter, topic, matches)
const MATCHES: &[(&str, &str, bool)] = &[
    // literal levels
    ("a", "a", true),
    ("a", "b", false),
    ("a/b", "a/b", true),
    ("a/b", "a/c", false),
    ("a/b/c", "a/b/c", true),
    ("a/b/c", "a/b", false),
    ("a/b", "a/b/c", false),
    ("sensors", "sensors/temp", false),
    ("a/b/c", "a/b/c/", false),
    ("a//b", "a/b", false),
    ("a//b", "a//b", true),
    ("a/b", "a//b", false),
    ("/a", "/a", true),
    ("/a", "a", false),
    ("a/", "a/", true),
    ("a/", "a", false),
    ("/", "/", true),
    ("//", "//", true),
    ("//", "/", false),
    ("a", "A", false),
    ("Sensors/#", "sensors/x", false),
    ("café", "cafe\u{301}", false),
    ("cafe\u{301}", "cafe\u{301}", true),
    ("Straße", "STRASSE", false),
    ("ﬁ", "fi", false),
    ("a/b", "a/\u{FEFF}b", false),
    ("a/\u{FEFF}b", "a/\u{FEFF}b", true),
    ("a/\u{200B}", "a/", false),
    ("a.b", "axb", false),
    ("a*", "abc", false),
    ("a?", "ab", false),
    ("[ab]", "a", false),
    ("a\\b", "a\\b", true),
    (" a", "a", false),
    ("a ", "a", false),
    ("a b", "a b", true),
    ("日本/東京", "日本/東京", true),
    ("日本/+", "日本/大阪", true),
    ("😀/#", "😀/a/b", true),
    ("a", "a/", false),
    // `+`: exactly one level, possibly empty
    ("+", "a", true),
    ("+", "", true),
    ("+", "/", false),
    ("+", "/finance", false),
    ("+", "a/b", false),
    ("a/+", "a/b", true),
    ("a/+", "a/", true),
    ("a/+", "a", false),
    ("a/+", "a/b/c", false),
    ("a/+/c", "a/b/c", true),
    ("a/+/c", "a//c", true),
    ("a/+/c", "a/b/d", false),
    ("a/+/c", "a/b/c/d", false),
    ("+/+", "/", true),
    ("+/+", "a/", true),
    ("+/+", "/a", true),
    ("+/+", "a/b", true),
    ("+/+", "a", false),
    ("+/+", "a/b/c", false),
    ("/+", "/finance", true),
    ("/+", "finance", false),
    ("+/+/+", "//", true),
    ("+/+/+", "a/b/c", true),
    ("+/+/+", "a/b", false),
    ("+/b", "a/b", true),
    ("+/b", "/b", true),
    ("+/b", "a/c", false),
    ("sport/+", "sport/", true),
    ("sport/+", "sport", false),
    ("sport/tennis/+", "sport/tennis/player1", true),
    ("sport/tennis/+", "sport/tennis/player1/ranking", false),
    ("+//+", "a//b", true),
    ("+//+", "a/b", false),
    ("+/", "a/", true),
    ("+/", "a", false),
    ("a/+", "a/＋", true),
    ("+", "a／b", true),
    // `#`: zero or more trailing levels, including the parent
    ("#", "a", true),
    ("#", "a/b/c", true),
    ("#", "/", true),
    ("#", "//", true),
    ("#", "", true),
    ("a/#", "a", true),
    ("a/#", "a/", true),
    ("a/#", "a/b", true),
    ("a/#", "a/b/c", true),
    ("a/#", "a//", true),
    ("a/#", "a//b", true),
    ("a/#", "ab", false),
    ("a/#", "b/a", false),
    ("a/b/#", "a", false),
    ("a/b/#", "a/b", true),
    ("a/b/#", "a/bc", false),
    ("sensors/#", "sensors2", false),
    ("sensors/#", "sensors", true),
    ("sport/#", "sport", true),
    ("sport/tennis/player1/#", "sport/tennis/player1", true),
    (
        "sport/tennis/player1/#",
        "sport/tennis/player1/ranking",
        true,
    ),
    (
        "sport/tennis/player1/#",
        "sport/tennis/player1/score/wimbledon",
        true,
    ),
    ("sport/tennis/player1/#", "sport/tennis", false),
    ("+/#", "a", true),
    ("+/#", "a/b", true),
    ("+/#", "/", true),
    ("+/#", "", true),
    ("//#", "/", true),
    ("//#", "//", true),
    ("//#", "a", false),
    ("/#", "/", true),
    ("/#", "/a", true),
    ("/#", "a", false),
    ("/#", "", true), // an empty topic is one empty level; `#` takes the parent
    ("a/+/#", "a/b", true),
    ("a/+/#", "a", false),
    ("a/+/#", "a/b/c/d", true),
    ("+/+/#", "a", false),
    ("+/+/#", "a/b", true),
    // `$` topics never match a leading wildcard
    ("#", "$SYS/x", false),
    ("#", "$SYS", false),
    ("#", "$", false),
    ("#", "$share/g/t", false),
    ("#", "$queue/t", false),
    ("#", "$delayed/10/t", false),
    ("#", "$foo", false),
    ("+", "$SYS", false),
    ("+", "$", false),
    ("+/#", "$SYS/x", false),
    ("+/x", "$SYS/x", false),
    ("+/+", "$SYS/x", false),
    ("+/monitor/Clients", "$SYS/monitor/Clients", false),
    ("$SYS/#", "$SYS", true),
    ("$SYS/#", "$SYS/", true),
    ("$SYS/#", "$SYS/x", true),
    ("$SYS/#", "$SYS/brokers/emqx@127.0.0.1/version", true),
    ("$SYS/+", "$SYS/", true),
    ("$SYS/+", "$SYS", false),
    ("$SYS/+", "$SYS/x", true),
    ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
    ("$SYS", "$SYS", true),
    ("$/#", "$", true),
    ("$", "$", true),
    ("$SYS/#", "$sys/x", false),
    ("$share/g/#", "$share/g/t", true),
    ("$share/g/#", "t", false),
    // only the first character counts as `$`
    ("a/+", "a/$b", true),
    ("a/#", "a/$SYS", true),
    ("+/+", "/$SYS", true),
    ("#", " $SYS/x", true),
    ("#", "＄SYS/x", true),
    ("+/SYS", "S/SYS", true),
    ("tenant/#", "tenant/$foo/x", true),
    // misplaced wildcards of invalid filters are text (EMQX never validates HookSpec topics)
    ("a/#/b", "a/x/b", false),
    ("a/#/b", "a/b", false),
    ("sport+", "sport", false),
    ("sport+", "sports", false),
    ("a/b#", "a/b", false),
    ("a/b#", "a/bx", false),
    ("", "a", false),
    ("", "/", false),
    ("##", "a", false),
    ("#/a", "x/a", false),
];

/// The rule a filter breaks and where, or `None` when it is valid.
type Verdict = Option<(K, std::ops::Range<usize>)>;

/// (filter, verdict)
const VALIDITY: &[(&str, Verdict)] = &[
    ("#", None),
    ("+", None),
    ("+/#", None),
    ("/#", None),
    ("/+", None),
    ("+/", None),
    ("+//+", None),
    ("a/+/#", None),
    ("/", None),
    ("//", None),
    ("$", None),
    ("$SYS/#", None),
    ("$share", None),
    ("$SHARE/g/#", None),
    ("$shared/g/a", None),
    ("$share/g/a/#", None),
    ("$share/g//", None),
    ("$share/$queue/t", None),
    ("$share/g/topic/$share", None),
    ("$queue/t", None),
    ("$exclusive/t/#", None),
    ("a b/ c", None),
    ("＋/＃/／", None),
    ("日本/+/#", None),
    ("a\\b", None),
    ("\u{FEFF}", None),
    ("", Some((K::Empty, 0..0))),
    ("a\0b", Some((K::Nul, 1..2))),
    ("sport/tennis#", Some((K::HashNotWholeLevel, 12..13))),
    ("a/#/b", Some((K::HashNotLast, 2..3))),
    ("#/", Some((K::HashNotLast, 0..1))),
    ("a/#/", Some((K::HashNotLast, 2..3))),
    ("##", Some((K::HashNotWholeLevel, 0..1))),
    ("#/#", Some((K::HashNotLast, 0..1))),
    ("#/a", Some((K::HashNotLast, 0..1))),
    ("sport/tennis/#/ranking", Some((K::HashNotLast, 13..14))),
    ("sport+", Some((K::PlusNotWholeLevel, 5..6))),
    ("+a", Some((K::PlusNotWholeLevel, 0..1))),
    ("++", Some((K::PlusNotWholeLevel, 0..1))),
    ("a/+b/#", Some((K::PlusNotWholeLevel, 2..3))),
    ("a\\+", Some((K::PlusNotWholeLevel, 2..3))),
    ("sport/+/player+", Some((K::PlusNotWholeLevel, 14..15))),
    ("$share/g", Some((K::ShareMissingFilter, 0..8))),
    ("$share/#", Some((K::ShareMissingFilter, 0..8))),
    ("$share/", Some((K::ShareMissingFilter, 0..7))),
    ("$share//t", Some((K::ShareEmptyGroup, 7..8))),
    ("$share//", Some((K::ShareEmptyGroup, 7..8))),
    ("$share/g/", Some((K::ShareEmptyFilter, 0..9))),
    ("$share/+/t", Some((K::ShareGroupWildcard, 7..8))),
    ("$share/g+/t", Some((K::ShareGroupWildcard, 8..9))),
    ("$share/#g/t", Some((K::ShareGroupWildcard, 7..8))),
    ("$share/g/a/#/b", Some((K::HashNotLast, 11..12))),
    ("$share/g/a+", Some((K::PlusNotWholeLevel, 10..11))),
    ("$share/g/$share/t", Some((K::ShareNested, 9..17))),
    ("$share/g/$queue/t", Some((K::ShareNested, 9..17))),
    ("$queue/", Some((K::ShareEmptyFilter, 0..7))),
    ("$queue/a#", Some((K::HashNotWholeLevel, 8..9))),
    ("$exclusive/", Some((K::ShareEmptyFilter, 0..11))),
    ("$share/g\0/t", Some((K::Nul, 8..9))),
];

#[test]
fn matching_table() {
    assert!(MATCHES.len() >= 150, "{} cases", MATCHES.len());
    let mut failures = Vec::new();
    for (filter, topic, expected) in MATCHES {
        if matches(filter, topic) != *expected {
            failures.push(format!(
                "matches({filter:?}, {topic:?}) should be {expected}"
            ));
        }
        let mut index = FilterIndex::new();
        index.insert(filter, 7);
        if index.matches_any(topic) != *expected {
            failures.push(format!(
                "index of {filter:?} on {topic:?} should be {expected}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn validity_table() {
    let mut failures = Vec::new();
    for (filter, expected) in VALIDITY {
        let got = validate(filter).err().map(|e| (e.kind(), e.span()));
        if got != *expected {
            failures.push(format!(
                "validate({filter:?}) = {got:?}, expected {expected:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn length_limit_counts_bytes() {
    let longest = "a".repeat(65_535);
    assert!(validate(&longest).is_ok());
    let too_long = "a".repeat(65_536);
    let error = validate(&too_long).unwrap_err();
    assert_eq!((error.kind(), error.span()), (K::TooLong, 65_535..65_536));
    // 21,845 three-byte characters are 65,535 bytes; one more is too long.
    let wide = "語".repeat(21_845);
    assert!(validate(&wide).is_ok());
    assert_eq!(
        validate(&format!("{wide}a")).unwrap_err().kind(),
        K::TooLong
    );
    // A shared filter's prefix counts too.
    let shared = format!("$share/g/{}", "a".repeat(65_535 - 9));
    assert!(validate(&shared).is_ok());
    assert_eq!(
        validate(&format!("{shared}a")).unwrap_err().kind(),
        K::TooLong
    );
    assert!(matches(&longest, &longest));
}

#[test]
fn every_rule_has_a_note() {
    for (_, expected) in VALIDITY {
        if let Some((kind, _)) = expected {
            assert!(
                kind.rule().contains('§') || kind.rule().contains("EMQX"),
                "{kind:?}"
            );
            assert!(!kind.to_string().is_empty());
        }
    }
}
