/// Why a valid topic filter is still wrong on an ExHook hook.
///
/// EMQX matches `HookSpec` topics literally with `emqx_topic:match/2`: it
/// never strips subscription prefixes, and it never sends `$SYS/…` messages
/// to `message.*` hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HookPolicy {
    /// `$share/…`, `$queue/…` or `$exclusive/…`: a subscription prefix, which
    /// the broker would compare as literal text.
    SubscriptionPrefix,
    /// `$SYS/…` on a `message.*` hook: the broker never sends such messages,
    /// so the handler could only ever see the topic `$SYS` itself.
    SysTopic,
}

impl HookPolicy {
    /// A sentence for diagnostics.
    pub fn message(self) -> &'static str {
        match self {
            Self::SubscriptionPrefix => {
                "`$share/`, `$queue/` and `$exclusive/` are subscription prefixes; EMQX matches hook topics literally, so this filter would only match topics that start with the prefix itself"
            }
            Self::SysTopic => {
                "EMQX never sends `$SYS/…` messages to `message.*` hooks, so this filter can only match the topic `$SYS` itself"
            }
        }
    }
}

/// Checks a valid filter for use on a hook; `message_hook` is true for the
/// four `message.*` hooks, whose filters EMQX applies itself.
///
/// ```
/// use exhook_topic::{hook_policy, HookPolicy};
///
/// assert_eq!(hook_policy("$share/g/a", false), Some(HookPolicy::SubscriptionPrefix));
/// assert_eq!(hook_policy("$SYS/#", true), Some(HookPolicy::SysTopic));
/// assert_eq!(hook_policy("$SYS/#", false), None);
/// assert_eq!(hook_policy("sensors/#", true), None);
/// ```
pub fn hook_policy(filter: &str, message_hook: bool) -> Option<HookPolicy> {
    if ["$share/", "$queue/", "$exclusive/"]
        .iter()
        .any(|prefix| filter.starts_with(prefix))
    {
        Some(HookPolicy::SubscriptionPrefix)
    } else if message_hook && filter.starts_with("$SYS/") {
        Some(HookPolicy::SysTopic)
    } else {
        None
    }
}
