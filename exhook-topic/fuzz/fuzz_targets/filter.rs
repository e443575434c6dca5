//! Any text: validation never panics, a valid filter matches what
//! `FilterIndex` says it matches, and error spans stay inside the input.
#![no_main]

use exhook_topic::{FilterIndex, matches, subscription_topic, validate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (filter, topic) = text.split_once('\n').unwrap_or((text, "a/b"));
    match validate(filter) {
        Ok(()) => {
            let mut index = FilterIndex::new();
            index.insert(filter, 0);
            assert_eq!(index.matches_any(topic), matches(filter, topic));
        }
        Err(error) => {
            let span = error.span();
            assert!(span.start <= span.end && span.end <= filter.len().max(1));
        }
    }
    let _ = subscription_topic(filter);
});
