//! Deadlines: the `grpc-timeout` EMQX sends with every call (its
//! `request_timeout`, `5S` by default), and what to answer when a handler
//! outlives it.

use std::time::Duration;

use http::HeaderMap;

use crate::hook::Hook;
use crate::proto::v3::{EmptySuccess, LoadedResponse, ValuedResponse, valued_response};

/// How much earlier than the caller's deadline a call is answered: 5% of the
/// budget, from 2 ms to 100 ms. The caller (EMQX, or tonic's own layer in
/// front of this one) gives up at the deadline itself, so an answer meant to
/// count, such as [`OnTimeout::Ignore`], has to leave before it.
fn margin(budget: Duration) -> Duration {
    (budget / 20).clamp(Duration::from_millis(2), Duration::from_millis(100))
}

/// What a call answers when its handlers outlive the deadline.
///
/// ```
/// use exhook_runtime::{Hook, OnTimeout};
///
/// // Let a slow user lookup count as "no opinion" rather than as a failure
/// // (which EMQX's default `failed_action = deny` turns into a denial).
/// let choice = (Hook::ClientAuthenticate, OnTimeout::Ignore);
/// # let _ = choice;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnTimeout {
    /// Fail the call with `DEADLINE_EXCEEDED`; EMQX applies `failed_action`.
    #[default]
    Fail,
    /// Answer as if every handler had ignored the event: `IGNORE` for
    /// valued hooks, success for the others.
    Ignore,
}

/// The per-hook choices, indexed by hook.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TimeoutAnswers([OnTimeout; Hook::COUNT]);

impl TimeoutAnswers {
    pub(crate) fn set(&mut self, hook: Hook, answer: OnTimeout) {
        self.0[hook.index()] = answer;
    }

    pub(crate) fn get(&self, hook: Hook) -> OnTimeout {
        self.0[hook.index()]
    }
}

/// How long a call may run: the shorter of the request's `grpc-timeout` and
/// the server's own limit, less a margin.
pub(crate) fn budget(headers: &HeaderMap, limit: Option<Duration>) -> Option<Duration> {
    // A handful of headers arrive with each call: comparing names is
    // cheaper than hashing one.
    let sent = headers
        .iter()
        .find(|(name, _)| name.as_str() == "grpc-timeout")
        .and_then(|(_, value)| value.to_str().ok())
        .and_then(parse_grpc_timeout);
    let budget = match (sent, limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }?;
    Some(budget.saturating_sub(margin(budget)))
}

/// `grpc-timeout` per the gRPC HTTP/2 spec: up to 8 digits and a unit
/// (`H`, `M`, `S`, `m`, `u`, `n`).
pub(crate) fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// The neutral answer of each response type, for [`OnTimeout::Ignore`].
pub trait NeutralAnswer: Sized {
    fn neutral() -> Option<Self>;
}

impl NeutralAnswer for EmptySuccess {
    fn neutral() -> Option<Self> {
        Some(EmptySuccess {})
    }
}

impl NeutralAnswer for ValuedResponse {
    fn neutral() -> Option<Self> {
        Some(ValuedResponse {
            r#type: valued_response::ResponsedType::Ignore as i32,
            value: None,
        })
    }
}

impl NeutralAnswer for LoadedResponse {
    /// A load that timed out has no neutral answer: advertising nothing
    /// would silently disable the provider.
    fn neutral() -> Option<Self> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_values() {
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_grpc_timeout("1500m"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_grpc_timeout("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("250u"), Some(Duration::from_micros(250)));
        assert_eq!(
            parse_grpc_timeout("99999999n"),
            Some(Duration::from_nanos(99_999_999))
        );
        for bad in ["", "S", "5", "5s", "123456789S", "-1S", "1.5S", "５S"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn budget_is_the_shorter_limit_less_the_margin() {
        let ms = Duration::from_millis;
        let mut headers = HeaderMap::new();
        assert_eq!(budget(&headers, None), None);
        assert_eq!(budget(&headers, Some(ms(1000))), Some(ms(950)));
        // EMQX's default `request_timeout` of 5 s arrives as `5S`.
        headers.insert("grpc-timeout", "5S".parse().unwrap());
        assert_eq!(budget(&headers, None), Some(ms(4900)));
        assert_eq!(budget(&headers, Some(ms(1000))), Some(ms(950)));
        headers.insert("grpc-timeout", "20m".parse().unwrap());
        assert_eq!(budget(&headers, None), Some(ms(18)));
    }
}
