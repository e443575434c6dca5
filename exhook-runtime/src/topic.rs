//! `TopicFilter`: MQTT topic filters with EMQX's exact rules.

use std::fmt;
use std::str::FromStr;

pub use exhook_topic::{FilterError as TopicFilterError, FilterErrorKind as TopicFilterErrorKind};

/// A valid MQTT topic filter, matched exactly as EMQX matches it.
///
/// The rules, each with an example:
///
/// * Levels are split on every `/`, and empty levels count:
///   `a//b` has three levels, so it does not match `a/b`.
/// * `+` matches exactly one level, which may be empty:
///   `a/+` matches `a/x` and `a/`, not `a` or `a/x/y`.
/// * `#` must be the last level and matches the level above it and
///   everything below: `a/#` matches `a`, `a/` and `a/x/y`.
/// * A topic that starts with `$` never matches a filter that starts with a
///   wildcard: `#` and `+/x` do not match `$SYS/x`; `$SYS/#` does.
/// * Everything else is compared byte for byte, without trimming, case
///   folding or Unicode normalisation: `Sensors` does not match `sensors`.
///
/// ```
/// use exhook_runtime::TopicFilter;
///
/// let filter: TopicFilter = "sensors/+/temp".parse()?;
/// assert!(filter.matches("sensors/kitchen/temp"));
/// assert!(filter.matches("sensors//temp"));
/// assert!(!filter.matches("sensors/kitchen/temp/raw"));
/// assert_eq!(filter.to_string(), "sensors/+/temp");
///
/// let err = "sensors/#/temp".parse::<TopicFilter>().unwrap_err();
/// assert_eq!(err.span(), 8..9);
/// # Ok::<(), exhook_runtime::TopicFilterError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicFilter {
    filter: Box<str>,
}

impl TopicFilter {
    /// Validates `filter` (MQTT 5.0 §4.7 and §4.8, and EMQX's checks).
    pub fn new(filter: impl Into<String>) -> Result<Self, TopicFilterError> {
        let filter = filter.into();
        exhook_topic::validate(&filter)?;
        Ok(TopicFilter {
            filter: filter.into_boxed_str(),
        })
    }

    /// Whether `topic` matches, by EMQX's `emqx_topic:match/2` rules.
    pub fn matches(&self, topic: &str) -> bool {
        exhook_topic::matches(&self.filter, topic)
    }

    /// The filter as text.
    pub fn as_str(&self) -> &str {
        &self.filter
    }

    /// Whether a client's subscription to `subscribed` is covered by this
    /// filter, as the runtime matches `topic = …` on the subscribe hooks:
    /// the subscription without its `$share/<group>/`, `$queue/` or
    /// `$exclusive/` prefix ([`subscription_topic`]) is matched as a topic.
    ///
    /// ```
    /// use exhook_runtime::TopicFilter;
    ///
    /// let jobs = TopicFilter::new("jobs/#").unwrap();
    /// assert!(jobs.matches_subscription("$share/workers/jobs/+"));
    /// assert!(jobs.matches_subscription("$queue/jobs/1"));
    /// assert!(!jobs.matches_subscription("$share/workers/mail/+"));
    /// ```
    pub fn matches_subscription(&self, subscribed: &str) -> bool {
        self.matches(subscription_topic(subscribed))
    }
}

/// A subscription's filter without the `$share/<group>/`, `$queue/` or
/// `$exclusive/` prefix EMQX accepts before it, exactly as the runtime strips
/// it before matching handlers' `topic = …` filters.
///
/// ```
/// use exhook_runtime::subscription_topic;
///
/// assert_eq!(subscription_topic("$share/workers/jobs/#"), "jobs/#");
/// assert_eq!(subscription_topic("$exclusive/alarms"), "alarms");
/// assert_eq!(subscription_topic("jobs/+"), "jobs/+");
/// ```
pub fn subscription_topic(subscribed: &str) -> &str {
    exhook_topic::subscription_topic(subscribed)
}

impl FromStr for TopicFilter {
    type Err = TopicFilterError;

    fn from_str(filter: &str) -> Result<Self, Self::Err> {
        TopicFilter::new(filter)
    }
}

impl fmt::Display for TopicFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.filter)
    }
}

impl AsRef<str> for TopicFilter {
    fn as_ref(&self) -> &str {
        &self.filter
    }
}
