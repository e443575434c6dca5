use crate::error::{FilterError, FilterErrorKind};

/// The longest topic filter, in bytes of UTF-8 (MQTT 5.0 §4.7.3).
pub const MAX_FILTER_LEN: usize = 65_535;

const SHARE: &str = "$share/";
const QUEUE: &str = "$queue/";
const EXCLUSIVE: &str = "$exclusive/";

/// Checks a topic filter against MQTT 5.0 §4.7 / §4.8 and EMQX's own rules.
///
/// Valid filters include `#`, `+`, `/`, `//`, `+/+`, `$SYS/#`, `$share/g/a/#`
/// and any Unicode text. The error says which rule was broken and where.
///
/// ```
/// use exhook_topic::{validate, FilterErrorKind};
///
/// assert!(validate("a//+/#").is_ok());
/// assert_eq!(validate("a/#/b").unwrap_err().kind(), FilterErrorKind::HashNotLast);
/// assert_eq!(validate("a/+b").unwrap_err().kind(), FilterErrorKind::PlusNotWholeLevel);
/// assert_eq!(validate("$share//t").unwrap_err().kind(), FilterErrorKind::ShareEmptyGroup);
/// ```
pub fn validate(filter: &str) -> Result<(), FilterError> {
    if filter.is_empty() {
        return Err(FilterError::new(FilterErrorKind::Empty, 0..0));
    }
    if filter.len() > MAX_FILTER_LEN {
        return Err(FilterError::new(
            FilterErrorKind::TooLong,
            MAX_FILTER_LEN..filter.len(),
        ));
    }
    if let Some(at) = filter.find('\0') {
        return Err(FilterError::new(FilterErrorKind::Nul, at..at + 1));
    }
    let real_start = real_filter_start(filter)?;
    validate_levels(&filter[real_start..], real_start)
}

/// Where the filter proper starts once a `$share/<group>/`, `$queue/` or
/// `$exclusive/` prefix is taken off, checking the prefix on the way.
fn real_filter_start(filter: &str) -> Result<usize, FilterError> {
    let start = if let Some(rest) = filter.strip_prefix(SHARE) {
        let Some(slash) = rest.find('/') else {
            return Err(FilterError::new(
                FilterErrorKind::ShareMissingFilter,
                0..filter.len(),
            ));
        };
        if slash == 0 {
            return Err(FilterError::new(
                FilterErrorKind::ShareEmptyGroup,
                SHARE.len()..SHARE.len() + 1,
            ));
        }
        if let Some(at) = rest[..slash].find(['+', '#']) {
            let at = SHARE.len() + at;
            return Err(FilterError::new(
                FilterErrorKind::ShareGroupWildcard,
                at..at + 1,
            ));
        }
        let start = SHARE.len() + slash + 1;
        let real = &filter[start..];
        if real.starts_with(SHARE) || real.starts_with(QUEUE) {
            return Err(FilterError::new(
                FilterErrorKind::ShareNested,
                start..filter.len(),
            ));
        }
        start
    } else if filter.starts_with(QUEUE) {
        QUEUE.len()
    } else if filter.starts_with(EXCLUSIVE) {
        EXCLUSIVE.len()
    } else {
        return Ok(0);
    };
    if start == filter.len() {
        return Err(FilterError::new(
            FilterErrorKind::ShareEmptyFilter,
            0..filter.len(),
        ));
    }
    Ok(start)
}

/// Checks wildcard placement level by level; `offset` maps positions in
/// `filter` back to the whole string.
fn validate_levels(filter: &str, offset: usize) -> Result<(), FilterError> {
    let mut level_start = 0;
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let at = offset + level_start;
        if let Some(hash) = level.find('#') {
            if level != "#" {
                let pos = at + hash;
                return Err(FilterError::new(
                    FilterErrorKind::HashNotWholeLevel,
                    pos..pos + 1,
                ));
            }
            if levels.peek().is_some() {
                return Err(FilterError::new(FilterErrorKind::HashNotLast, at..at + 1));
            }
        }
        if let Some(plus) = level.find('+')
            && level != "+"
        {
            let pos = at + plus;
            return Err(FilterError::new(
                FilterErrorKind::PlusNotWholeLevel,
                pos..pos + 1,
            ));
        }
        level_start += level.len() + 1;
    }
    Ok(())
}

/// The part of a subscribed filter that is matched against topics: the filter
/// without `$share/<group>/`, `$queue/` or `$exclusive/`.
///
/// EMQX sends subscriptions to `client.subscribe`, `client.unsubscribe`,
/// `session.subscribed` and `session.unsubscribed` with these prefixes kept;
/// strings that are not well-formed prefixed filters come back unchanged.
///
/// ```
/// use exhook_topic::subscription_topic;
///
/// assert_eq!(subscription_topic("$share/workers/jobs/#"), "jobs/#");
/// assert_eq!(subscription_topic("$queue/jobs"), "jobs");
/// assert_eq!(subscription_topic("jobs/+"), "jobs/+");
/// assert_eq!(subscription_topic("$share/no-filter"), "$share/no-filter");
/// ```
pub fn subscription_topic(filter: &str) -> &str {
    if let Some(rest) = filter.strip_prefix(SHARE) {
        match rest.find('/') {
            Some(slash) if slash > 0 => &rest[slash + 1..],
            _ => filter,
        }
    } else if let Some(rest) = filter.strip_prefix(QUEUE) {
        rest
    } else if let Some(rest) = filter.strip_prefix(EXCLUSIVE) {
        rest
    } else {
        filter
    }
}
