/// Whether `topic` matches `filter`, exactly as EMQX's `emqx_topic:match/2`.
///
/// * Levels are split on every `/`; empty levels are levels (`a//b` has three).
/// * `+` matches exactly one level, which may be empty (`a/+` matches `a/`).
/// * A final `#` matches zero or more levels, so `a/#` also matches `a`.
/// * A topic whose first character is `$` never matches a filter that starts
///   with `+` or `#` (`#` does not match `$SYS/x`; `$SYS/#` does).
/// * Everything else is compared byte for byte: no trimming, case folding or
///   Unicode normalisation.
/// * Filters are not validated: an invalid filter's misplaced wildcards are
///   compared as text, so they match no real topic.
///
/// ```
/// use exhook_topic::matches;
///
/// assert!(matches("sensors/#", "sensors"));
/// assert!(matches("sensors/+/temp", "sensors//temp"));
/// assert!(!matches("sensors/+", "sensors"));
/// assert!(!matches("+/status", "$SYS/status"));
/// assert!(matches("$SYS/#", "$SYS/brokers"));
/// assert!(!matches("Sensors/#", "sensors/a"));
/// ```
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut filter_levels = filter.split('/');
    let mut topic_levels = topic.split('/');
    loop {
        match (filter_levels.next(), topic_levels.next()) {
            (None, None) => return true,
            (Some("#"), _) if filter_levels.clone().next().is_none() => return true,
            (Some("+"), Some(_)) => {}
            (Some(f), Some(t)) if f == t => {}
            _ => return false,
        }
    }
}
