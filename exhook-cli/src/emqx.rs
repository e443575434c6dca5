//! What EMQX does with a provider's answers: how it loads the advertised
//! hooks, folds `IGNORE` / `CONTINUE` / `STOP_AND_RETURN` answers, reads a
//! publish answer back into the message, and applies `failed_action` and
//! `request_timeout` (`emqx_exhook_server`, `emqx_exhook_handler`; see the
//! protocol notes). Everything the CLI says about EMQX's behaviour is here.

use std::fmt;

use exhook_hooks::{Answer, Hook, Version};
use exhook_runtime::proto::v3::{self, LoadedResponse, ValuedResponse, valued_response};
use prost::Message as _;
use serde_json::{Value as Json, json};
use tonic::{Code, Status};

/// What EMQX does when a call fails (an error status, a transport error, or
/// no answer within `request_timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FailedAction {
    /// Refuse: authenticate and authorize answer false, a message goes on
    /// unchanged and the chain stops. EMQX's default.
    Deny,
    /// Skip this provider: the chain's result stands.
    Ignore,
}

impl fmt::Display for FailedAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailedAction::Deny => "deny",
            FailedAction::Ignore => "ignore",
        })
    }
}

/// A protocol break: what the provider did wrong, and what EMQX does about it.
/// Each kind's EMQX behaviour is written once, in [`Break::emqx`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Break {
    /// `OnProviderLoaded` failed or timed out.
    LoadFailed,
    /// A `HookSpec.name` EMQX does not know in this generation.
    UnknownHook,
    /// The same hook advertised twice.
    DuplicateHook,
    /// Topics on a hook other than `message.*`.
    TopicsIgnored,
    /// An error (often `UNIMPLEMENTED`) for a hook the provider did not
    /// advertise.
    UnadvertisedFails,
    /// An advertised hook answered with an error.
    CallFailed,
    /// A valued answer without the `oneof` its hook reads.
    WrongOneof,
    /// A publish answer whose message has no topic.
    PublishDropsTopic,
    /// A publish answer whose message lost the QoS it was sent with.
    PublishDropsQos,
    /// No answer within `request_timeout`.
    Slow,
    /// No `grpc.health.v1.Health` service.
    NoHealth,
    /// The health service says `NOT_SERVING`.
    NotServing,
}

impl Break {
    /// A stable name, for `--json`.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Break::LoadFailed => "load_failed",
            Break::UnknownHook => "unknown_hook",
            Break::DuplicateHook => "duplicate_hook",
            Break::TopicsIgnored => "topics_ignored",
            Break::UnadvertisedFails => "unadvertised_hook_fails",
            Break::CallFailed => "call_failed",
            Break::WrongOneof => "wrong_oneof",
            Break::PublishDropsTopic => "publish_drops_topic",
            Break::PublishDropsQos => "publish_drops_qos",
            Break::Slow => "slower_than_request_timeout",
            Break::NoHealth => "no_health_service",
            Break::NotServing => "not_serving",
        }
    }

    /// What EMQX does because of it.
    pub(crate) fn emqx(self) -> &'static str {
        match self {
            Break::LoadFailed => {
                "EMQX logs \"Load server failed\" (timeout or the error), calls no hook of this provider and \
                 retries after auto_reconnect (60s); meanwhile logins and ACL checks fall to failed_action (deny by default)"
            }
            Break::UnknownHook => {
                "EMQX fails the whole load ({unknown_hookpoint, Name}), calls no hook and retries after auto_reconnect"
            }
            Break::DuplicateHook => {
                "EMQX registers the hook once, with the first entry (resolve_hookspec folds the list into a map): later \
                 entries and their topics are dropped without a log line, so messages that only their topics match are \
                 never sent to the provider"
            }
            Break::TopicsIgnored => {
                "EMQX keeps topics only for the four message.* hooks: this hook is called for every client and topic"
            }
            Break::UnadvertisedFails => {
                "after a provider restart EMQX keeps calling the hooks of its previous load until it reloads; each error is a \
                 failed call: failed_action applies (deny refuses logins and ACL checks), so answer neutrally instead"
            }
            Break::CallFailed => {
                "EMQX counts the call failed and applies failed_action: with deny, authenticate refuses the login, authorize \
                 denies, a message goes on unchanged; notifications are only logged"
            }
            Break::WrongOneof => {
                "EMQX logs unknown_responsed_value and ignores the answer, as if it were IGNORE"
            }
            Break::PublishDropsTopic => {
                "EMQX reads topic, qos and payload back from the answer: the message is routed to the empty topic, so no \
                 subscriber gets it (return a modified copy of the request's message)"
            }
            Break::PublishDropsQos => {
                "EMQX reads qos back from the answer: the message is delivered at QoS 0 (return a modified copy of the \
                 request's message)"
            }
            Break::Slow => {
                "EMQX gives up after request_timeout and applies failed_action; the MQTT client waits that long on each \
                 such hook"
            }
            Break::NoHealth => {
                "EMQX itself does not use it, but Kubernetes gRPC probes, grpc_health_probe and load balancers find the \
                 provider unhealthy"
            }
            Break::NotServing => {
                "probes and load balancers take the provider out of service; EMQX still calls it"
            }
        }
    }
}

/// One protocol break found, with what showed it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub(crate) kind: Break,
    pub(crate) detail: String,
}

impl Problem {
    pub(crate) fn new(kind: Break, detail: impl Into<String>) -> Self {
        Problem {
            kind,
            detail: detail.into(),
        }
    }

    pub(crate) fn json(&self) -> Json {
        json!({ "problem": self.kind.code(), "detail": self.detail, "emqx": self.kind.emqx() })
    }
}

/// The hooks EMQX registers from a `LoadedResponse` (`resolve_hookspec/1`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Loaded {
    /// The registered hooks with their topic filters (`message.*` only;
    /// empty: every topic), in the provider's order.
    pub(crate) hooks: Vec<(Hook, Vec<String>)>,
    /// What EMQX would reject or ignore.
    pub(crate) problems: Vec<Problem>,
    /// Whether EMQX fails the whole load.
    pub(crate) fails: bool,
}

impl Loaded {
    /// Whether EMQX calls `hook` for `topic` (`None` for hooks without one).
    pub(crate) fn calls(&self, hook: Hook, topic: Option<&str>) -> bool {
        let Some((_, filters)) = self.hooks.iter().find(|(h, _)| *h == hook) else {
            return false;
        };
        match topic {
            Some(topic) if hook.is_message_hook() => {
                // EMQX never sends message.* hooks for `$SYS/…` topics.
                !topic.starts_with("$SYS/")
                    && (filters.is_empty()
                        || filters.iter().any(|f| {
                            exhook_runtime::TopicFilter::new(f).is_ok_and(|f| f.matches(topic))
                        }))
            }
            _ => true,
        }
    }

    /// A topic EMQX sends `message.publish` for: one the first filter
    /// matches, or `fallback` when every topic is sent.
    pub(crate) fn publish_topic(&self, fallback: &str) -> String {
        self.hooks
            .iter()
            .find(|(hook, _)| *hook == Hook::MessagePublish)
            .and_then(|(_, filters)| filters.iter().find_map(|f| topic_for(f)))
            .unwrap_or_else(|| fallback.to_owned())
    }

    pub(crate) fn json(&self) -> Json {
        Json::Array(
            self.hooks
                .iter()
                .map(|(hook, topics)| json!({ "name": hook.to_string(), "topics": topics }))
                .collect(),
        )
    }
}

/// A topic that `filter` matches: `+` becomes a level, `#` goes.
fn topic_for(filter: &str) -> Option<String> {
    let levels: Vec<&str> = filter
        .split('/')
        .filter(|level| *level != "#")
        .map(|level| if level == "+" { "exhook" } else { level })
        .collect();
    let topic = levels.join("/");
    (!topic.is_empty() && !topic.starts_with('$')).then_some(topic)
}

/// Reads the advertised hooks as an EMQX of generation `version` does.
pub(crate) fn resolve_hooks(version: Version, answer: &LoadedResponse) -> Loaded {
    let mut loaded = Loaded::default();
    for spec in &answer.hooks {
        if spec.name.is_empty() {
            continue; // EMQX skips specs without a name.
        }
        let Some(hook) = Hook::from_name(&spec.name)
            .filter(|h| h.is_advertisable() && h.name(version) == spec.name)
        else {
            loaded.fails = true;
            let hint = Hook::from_name(&spec.name)
                .filter(|h| h.is_advertisable())
                .map(|h| {
                    format!(
                        " (EMQX {} calls it {})",
                        emqx_line(version),
                        h.name(version)
                    )
                })
                .unwrap_or_default();
            loaded.problems.push(Problem::new(
                Break::UnknownHook,
                format!("`{}` is not a hook point{hint}", spec.name),
            ));
            continue;
        };
        if let Some((_, kept)) = loaded.hooks.iter().find(|(h, _)| *h == hook) {
            let detail = if hook.is_message_hook() {
                format!(
                    "`{}` is advertised more than once: EMQX keeps the first entry's topics {} and drops {}",
                    spec.name,
                    topics_text(kept),
                    topics_text(&spec.topics)
                )
            } else {
                format!(
                    "`{}` is advertised more than once: EMQX keeps the first entry",
                    spec.name
                )
            };
            loaded
                .problems
                .push(Problem::new(Break::DuplicateHook, detail));
            continue;
        }
        let topics = if hook.is_message_hook() {
            spec.topics.clone()
        } else {
            if !spec.topics.is_empty() {
                loaded.problems.push(Problem::new(
                    Break::TopicsIgnored,
                    format!(
                        "`{}` is advertised with topics {:?}",
                        spec.name, spec.topics
                    ),
                ));
            }
            Vec::new()
        };
        loaded.hooks.push((hook, topics));
    }
    loaded
}

/// Topic filters as the report shows them; none means every topic.
fn topics_text(topics: &[String]) -> String {
    if topics.is_empty() {
        "(every topic)".to_owned()
    } else {
        format!("{topics:?}")
    }
}

/// The EMQX releases speaking `version`.
pub(crate) fn emqx_line(version: Version) -> &'static str {
    match version {
        Version::V1 => "4.3-4.4",
        Version::V2 => "5.0-5.8",
        Version::V3 => "5.9+",
    }
}

/// How EMQX reads one valued answer (`merge_responsed_bool/2`,
/// `merge_responsed_message/2`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reading<T> {
    /// `IGNORE`: the next provider gets the unchanged request.
    Ignore,
    /// `CONTINUE` with the value: passed on to the next provider.
    Continue(T),
    /// `STOP_AND_RETURN` with the value: the chain ends with it.
    Stop(T),
    /// Another type, or not the `oneof` the hook reads:
    /// `unknown_responsed_value`, treated as `IGNORE`.
    Unknown(String),
}

impl<T> Reading<T> {
    fn of(
        answer: &ValuedResponse,
        value: impl FnOnce(&valued_response::Value) -> Option<T>,
    ) -> Reading<T> {
        use valued_response::ResponsedType;
        let found = answer.value.as_ref().and_then(value);
        match (ResponsedType::try_from(answer.r#type), found) {
            (Ok(ResponsedType::Ignore), _) => Reading::Ignore,
            (Ok(ResponsedType::Continue), Some(value)) => Reading::Continue(value),
            (Ok(ResponsedType::StopAndReturn), Some(value)) => Reading::Stop(value),
            (kind, _) => Reading::Unknown(format!(
                "type {}, value {}",
                kind.map_or_else(
                    |_| answer.r#type.to_string(),
                    |k| k.as_str_name().to_owned()
                ),
                match &answer.value {
                    None => "none",
                    Some(valued_response::Value::BoolResult(_)) => "bool_result",
                    Some(valued_response::Value::Message(_)) => "message",
                }
            )),
        }
    }
}

/// How EMQX reads an authenticate or authorize answer.
pub(crate) fn read_bool(answer: &ValuedResponse) -> Reading<bool> {
    Reading::of(answer, |value| match value {
        valued_response::Value::BoolResult(b) => Some(*b),
        valued_response::Value::Message(_) => None,
    })
}

/// How EMQX reads a publish answer.
pub(crate) fn read_message(answer: &ValuedResponse) -> Reading<v3::Message> {
    Reading::of(answer, |value| match value {
        valued_response::Value::Message(m) => Some(m.clone()),
        valued_response::Value::BoolResult(_) => None,
    })
}

/// Whether EMQX can read `answer`, the encoded answer to `hook`: it must
/// decode as the hook's answer type and, when valued, carry the `oneof` the
/// hook reads (else EMQX logs `unknown_responsed_value`). Cheaper than
/// [`effect`]: `exhook bench` checks every answer with it.
pub(crate) fn readable(hook: Hook, answer: bytes::Bytes) -> Result<(), String> {
    let undecodable = |error: prost::DecodeError| format!("undecodable answer: {error}");
    let valued = |answer| ValuedResponse::decode(answer).map_err(undecodable);
    let reading = match hook.answer() {
        Answer::Notify => {
            return v3::EmptySuccess::decode(answer)
                .map(drop)
                .map_err(undecodable);
        }
        Answer::Load => {
            return LoadedResponse::decode(answer)
                .map(drop)
                .map_err(undecodable);
        }
        Answer::Decide => Reading::of(&valued(answer)?, |value| {
            matches!(value, valued_response::Value::BoolResult(_)).then_some(())
        }),
        Answer::Publish => Reading::of(&valued(answer)?, |value| {
            matches!(value, valued_response::Value::Message(_)).then_some(())
        }),
    };
    match reading {
        Reading::Unknown(what) => Err(format!("unknown_responsed_value: {what}")),
        Reading::Ignore | Reading::Continue(()) | Reading::Stop(()) => Ok(()),
    }
}

/// What EMQX does after one provider's answer (or failure) for one event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    /// A notification: EMQX ignores the answer.
    Notified,
    /// The login goes on (`ok`) or is refused (`not_authorized`).
    Login { allowed: bool, why: String },
    /// The publish or subscribe is allowed or denied.
    Access { allowed: bool, why: String },
    /// The message is routed as given (topic, qos, payload after the answer).
    Routed {
        message: Box<v3::Message>,
        why: String,
    },
    /// The message is dropped (`allow_publish = "false"`): routed nowhere.
    Dropped { why: String },
    /// The provider was not registered for it: EMQX makes no call.
    NotCalled,
}

impl Effect {
    /// One line for people.
    pub(crate) fn describe(&self) -> String {
        match self {
            Effect::Notified => "notification: EMQX goes on whatever the answer".to_owned(),
            Effect::Login { allowed: true, why } => format!("login allowed ({why})"),
            Effect::Login {
                allowed: false,
                why,
            } => format!("login refused, not_authorized ({why})"),
            Effect::Access { allowed: true, why } => format!("allowed ({why})"),
            Effect::Access {
                allowed: false,
                why,
            } => format!("denied ({why})"),
            Effect::Routed { message, why } => format!(
                "routed to `{}` at QoS {} with {} payload bytes ({why})",
                message.topic,
                message.qos,
                message.payload.len()
            ),
            Effect::Dropped { why } => format!("dropped, routed to no one ({why})"),
            Effect::NotCalled => "not called: not advertised (for this topic)".to_owned(),
        }
    }

    pub(crate) fn json(&self) -> Json {
        match self {
            Effect::Notified => json!({ "effect": "notified" }),
            Effect::Login { allowed, why } => {
                json!({ "effect": if *allowed { "login_allowed" } else { "login_refused" }, "why": why })
            }
            Effect::Access { allowed, why } => {
                json!({ "effect": if *allowed { "allowed" } else { "denied" }, "why": why })
            }
            Effect::Routed { message, why } => json!({
                "effect": "routed", "why": why, "topic": message.topic, "qos": message.qos,
                "payload": String::from_utf8_lossy(&message.payload),
            }),
            Effect::Dropped { why } => json!({ "effect": "dropped", "why": why }),
            Effect::NotCalled => json!({ "effect": "not_called" }),
        }
    }
}

/// A call's result: the answer's bytes, or the failure.
pub(crate) type Outcome = Result<bytes::Bytes, Status>;

/// What EMQX does with `outcome` for `hook`, as the only provider of the
/// chain: `chain_result` is the `result` sent (authenticate, authorize),
/// `sent` the message sent (publish). Also returns the breaks the answer
/// shows.
pub(crate) fn effect(
    hook: Hook,
    outcome: &Outcome,
    failed_action: FailedAction,
    chain_result: bool,
    sent: &v3::Message,
) -> (Effect, Vec<Problem>) {
    let answer = match outcome {
        Ok(bytes) => bytes,
        Err(status) => {
            return (
                failed(hook, status, failed_action, chain_result, sent),
                Vec::new(),
            );
        }
    };
    let mut problems = Vec::new();
    let effect = match hook.answer() {
        Answer::Notify | Answer::Load => Effect::Notified,
        Answer::Decide => {
            let reading = match ValuedResponse::decode(answer.clone()) {
                Ok(valued) => read_bool(&valued),
                Err(error) => Reading::Unknown(format!("undecodable answer: {error}")),
            };
            let (result, why) = match reading {
                Reading::Ignore => (
                    chain_result,
                    "IGNORE: EMQX's result so far stands".to_owned(),
                ),
                Reading::Continue(value) => (value, format!("CONTINUE with {value}")),
                Reading::Stop(value) => (value, format!("STOP_AND_RETURN with {value}")),
                Reading::Unknown(what) => {
                    problems.push(Problem::new(
                        Break::WrongOneof,
                        format!("{hook} answered {what}; it must carry bool_result"),
                    ));
                    (
                        chain_result,
                        format!(
                            "unknown_responsed_value ({what}), ignored: EMQX's result so far stands"
                        ),
                    )
                }
            };
            decided(hook, result, why)
        }
        Answer::Publish => {
            let reading = match ValuedResponse::decode(answer.clone()) {
                Ok(valued) => read_message(&valued),
                Err(error) => Reading::Unknown(format!("undecodable answer: {error}")),
            };
            match reading {
                Reading::Ignore => Effect::Routed {
                    message: Box::new(sent.clone()),
                    why: "IGNORE: unchanged".to_owned(),
                },
                Reading::Unknown(what) => {
                    problems.push(Problem::new(
                        Break::WrongOneof,
                        format!("message.publish answered {what}; it must carry message"),
                    ));
                    Effect::Routed {
                        message: Box::new(sent.clone()),
                        why: format!("unknown_responsed_value ({what}), ignored: unchanged"),
                    }
                }
                Reading::Continue(answered) => routed(sent, &answered, "CONTINUE", &mut problems),
                Reading::Stop(answered) => {
                    routed(sent, &answered, "STOP_AND_RETURN", &mut problems)
                }
            }
        }
    };
    (effect, problems)
}

/// What EMQX does with a publish answer that carries a message: drop it on
/// `allow_publish = "false"`, else route what it reads back. An answer
/// that lost the topic or QoS it was sent with is a break.
fn routed(
    sent: &v3::Message,
    answered: &v3::Message,
    kind: &str,
    problems: &mut Vec<Problem>,
) -> Effect {
    let message = assign(sent, answered);
    if message
        .headers
        .get("allow_publish")
        .is_some_and(|v| v == "false")
    {
        return Effect::Dropped {
            why: format!("{kind} with header allow_publish = \"false\""),
        };
    }
    if answered.topic.is_empty() && !sent.topic.is_empty() {
        problems.push(Problem::new(
            Break::PublishDropsTopic,
            format!(
                "the answer's message has topic \"\" (sent `{}`)",
                sent.topic
            ),
        ));
    }
    if answered.qos == 0 && sent.qos != 0 {
        problems.push(Problem::new(
            Break::PublishDropsQos,
            format!("the answer's message has qos 0 (sent {})", sent.qos),
        ));
    }
    Effect::Routed {
        message: Box::new(message),
        why: format!("{kind} with the answer's topic, qos and payload"),
    }
}

/// The message after EMQX reads a publish answer back (`assign_to_message/2`,
/// `enrich_header/2`): only `qos`, `topic` and `payload` are taken, and the
/// `allow_publish` header sets the drop flag.
pub(crate) fn assign(sent: &v3::Message, answered: &v3::Message) -> v3::Message {
    let mut message = sent.clone();
    message.qos = answered.qos;
    message.topic = answered.topic.clone();
    message.payload = answered.payload.clone();
    match answered.headers.get("allow_publish") {
        Some(flag) => {
            message
                .headers
                .insert("allow_publish".to_owned(), flag.clone());
        }
        None => {
            message.headers.remove("allow_publish");
        }
    }
    message
}

fn decided(hook: Hook, allowed: bool, why: String) -> Effect {
    if hook == Hook::ClientAuthenticate {
        Effect::Login { allowed, why }
    } else {
        Effect::Access { allowed, why }
    }
}

/// A failed call: `failed_action` decides (`emqx_exhook:call_fold/5`).
fn failed(
    hook: Hook,
    status: &Status,
    failed_action: FailedAction,
    chain_result: bool,
    sent: &v3::Message,
) -> Effect {
    let cause = if status.code() == Code::DeadlineExceeded {
        "no answer within request_timeout".to_owned()
    } else {
        format!("{:?}: {}", status.code(), status.message())
    };
    match (hook.answer(), failed_action) {
        (Answer::Notify | Answer::Load, _) => Effect::Notified,
        (Answer::Decide, FailedAction::Deny) => decided(
            hook,
            false,
            format!("failed ({cause}); failed_action = deny"),
        ),
        (Answer::Decide, FailedAction::Ignore) => decided(
            hook,
            chain_result,
            format!("failed ({cause}); failed_action = ignore: EMQX's result so far stands"),
        ),
        (Answer::Publish, action) => Effect::Routed {
            message: Box::new(sent.clone()),
            why: format!(
                "failed ({cause}); failed_action = {action}: a failed publish goes on unchanged"
            ),
        },
    }
}

/// Which break a failed call shows: one that took (nearly) the whole
/// request timeout was too slow, whether the client gave up or the server
/// answered its own deadline (DEADLINE_EXCEEDED, or CANCELLED from tonic).
pub(crate) fn failure_kind(
    status: &Status,
    rtt: std::time::Duration,
    timeout: std::time::Duration,
) -> Break {
    if status.code() == Code::DeadlineExceeded || rtt >= timeout.mul_f64(0.9) {
        Break::Slow
    } else {
        Break::CallFailed
    }
}

/// A failure as EMQX would log it, for notification hooks too.
pub(crate) fn failure(status: &Status) -> String {
    format!("{:?}: {}", status.code(), status.message())
}

#[cfg(test)]
mod tests {
    use super::*;
    use exhook_runtime::proto::v3::HookSpec;
    use valued_response::{ResponsedType, Value};

    fn valued(kind: ResponsedType, value: Option<Value>) -> Outcome {
        Ok(ValuedResponse {
            r#type: kind as i32,
            value,
        }
        .encode_to_vec()
        .into())
    }

    fn sent() -> v3::Message {
        v3::Message {
            topic: "a/b".into(),
            qos: 1,
            payload: "x".into(),
            ..Default::default()
        }
    }

    #[test]
    fn bool_answers_fold_as_emqx_folds_them() {
        let hook = Hook::ClientAuthenticate;
        let deny = FailedAction::Deny;
        let cases = [
            (
                valued(ResponsedType::StopAndReturn, Some(Value::BoolResult(true))),
                false,
                true,
            ),
            (
                valued(ResponsedType::StopAndReturn, Some(Value::BoolResult(false))),
                true,
                false,
            ),
            (
                valued(ResponsedType::Continue, Some(Value::BoolResult(false))),
                true,
                false,
            ),
            (
                valued(ResponsedType::Ignore, Some(Value::BoolResult(false))),
                true,
                true,
            ),
            (valued(ResponsedType::Ignore, None), false, false),
        ];
        for (outcome, chain, expected) in cases {
            let (effect, problems) = effect(hook, &outcome, deny, chain, &sent());
            assert!(
                matches!(effect, Effect::Login { allowed, .. } if allowed == expected),
                "{effect:?}"
            );
            assert!(problems.is_empty());
        }
        let wrong = valued(ResponsedType::StopAndReturn, Some(Value::Message(sent())));
        let (effect, problems) = effect(hook, &wrong, deny, true, &sent());
        assert!(matches!(effect, Effect::Login { allowed: true, .. }));
        assert_eq!(problems[0].kind, Break::WrongOneof);
    }

    #[test]
    fn failures_follow_failed_action() {
        let error: Outcome = Err(Status::unimplemented("no"));
        let (denied, _) = effect(
            Hook::ClientAuthorize,
            &error,
            FailedAction::Deny,
            true,
            &sent(),
        );
        assert!(matches!(denied, Effect::Access { allowed: false, .. }));
        let (ignored, _) = effect(
            Hook::ClientAuthorize,
            &error,
            FailedAction::Ignore,
            true,
            &sent(),
        );
        assert!(matches!(ignored, Effect::Access { allowed: true, .. }));
        let (publish, _) = effect(
            Hook::MessagePublish,
            &error,
            FailedAction::Deny,
            true,
            &sent(),
        );
        assert!(matches!(publish, Effect::Routed { message, .. } if *message == sent()));
    }

    #[test]
    fn publish_answers_give_back_only_topic_qos_payload_and_the_drop_flag() {
        let mut answered = v3::Message {
            topic: "c".into(),
            qos: 2,
            payload: "y".into(),
            from: "someone".into(),
            ..Default::default()
        };
        let (routed, problems) = effect(
            Hook::MessagePublish,
            &valued(
                ResponsedType::Continue,
                Some(Value::Message(answered.clone())),
            ),
            FailedAction::Deny,
            true,
            &sent(),
        );
        let Effect::Routed { message, .. } = routed else {
            panic!("{routed:?}")
        };
        assert_eq!(
            (
                message.topic.as_str(),
                message.qos,
                &message.payload[..],
                message.from.as_str()
            ),
            ("c", 2, &b"y"[..], "")
        );
        assert!(problems.is_empty());
        answered
            .headers
            .insert("allow_publish".into(), "false".into());
        let (dropped, _) = effect(
            Hook::MessagePublish,
            &valued(ResponsedType::StopAndReturn, Some(Value::Message(answered))),
            FailedAction::Deny,
            true,
            &sent(),
        );
        assert!(matches!(dropped, Effect::Dropped { .. }));
        let bare = v3::Message {
            payload: "z".into(),
            ..Default::default()
        };
        let (_, problems) = effect(
            Hook::MessagePublish,
            &valued(ResponsedType::Continue, Some(Value::Message(bare))),
            FailedAction::Deny,
            true,
            &sent(),
        );
        let kinds: Vec<Break> = problems.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [Break::PublishDropsTopic, Break::PublishDropsQos]);
        let (_, problems) = effect(
            Hook::MessagePublish,
            &valued(ResponsedType::Continue, Some(Value::BoolResult(true))),
            FailedAction::Deny,
            true,
            &sent(),
        );
        assert_eq!(problems[0].kind, Break::WrongOneof);
    }

    #[test]
    fn the_check_topic_matches_the_filter_it_comes_from() {
        for filter in ["sensors/#", "a/+/c", "t/1", "+/x/#"] {
            let topic = topic_for(filter).unwrap();
            assert!(
                exhook_runtime::TopicFilter::new(filter)
                    .unwrap()
                    .matches(&topic),
                "{filter} {topic}"
            );
        }
        assert_eq!(topic_for("#"), None);
    }

    #[test]
    fn an_answer_is_readable_only_with_the_oneof_its_hook_reads() {
        let encode = |r#type: ResponsedType, value: Option<Value>| {
            bytes::Bytes::from(
                ValuedResponse {
                    r#type: r#type as i32,
                    value,
                }
                .encode_to_vec(),
            )
        };
        let message = Value::Message(v3::Message::default());
        let allow = encode(ResponsedType::StopAndReturn, Some(Value::BoolResult(true)));
        let publish = encode(ResponsedType::Continue, Some(message.clone()));
        let ignore = encode(ResponsedType::Ignore, None);
        assert_eq!(readable(Hook::ClientAuthenticate, allow.clone()), Ok(()));
        assert_eq!(readable(Hook::MessagePublish, publish.clone()), Ok(()));
        assert_eq!(readable(Hook::MessagePublish, ignore.clone()), Ok(()));
        assert_eq!(readable(Hook::ClientAuthorize, ignore), Ok(()));
        assert!(
            readable(Hook::MessagePublish, allow)
                .is_err_and(|e| e.contains("unknown_responsed_value"))
        );
        assert!(readable(Hook::ClientAuthenticate, publish).is_err());
        assert!(
            readable(
                Hook::ClientAuthenticate,
                encode(ResponsedType::Continue, None)
            )
            .is_err()
        );
        let garbage = bytes::Bytes::from_static(&[0xff, 0xff, 0xff]);
        assert!(
            readable(Hook::ClientConnected, garbage.clone())
                .is_err_and(|e| e.contains("undecodable"))
        );
        assert!(readable(Hook::MessagePublish, garbage).is_err());
        assert_eq!(readable(Hook::ClientConnected, bytes::Bytes::new()), Ok(()));
    }

    #[test]
    fn loading_rejects_unknown_names_per_generation_and_keeps_the_first_duplicate() {
        let spec = |name: &str, topics: &[&str]| HookSpec {
            name: name.into(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
        };
        let answer = LoadedResponse {
            hooks: vec![
                spec("message.publish", &["a/#"]),
                spec("message.publish", &["b/#"]),
                spec("client.connect", &["x"]),
                spec("", &[]),
            ],
        };
        let loaded = resolve_hooks(Version::V3, &answer);
        assert!(!loaded.fails);
        assert_eq!(
            loaded.hooks,
            [
                (Hook::MessagePublish, vec!["a/#".to_owned()]),
                (Hook::ClientConnect, vec![])
            ]
        );
        let kinds: Vec<Break> = loaded.problems.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [Break::DuplicateHook, Break::TopicsIgnored]);
        assert!(
            loaded.problems[0]
                .detail
                .contains(r#"first entry's topics ["a/#"] and drops ["b/#"]"#),
            "{}",
            loaded.problems[0].detail
        );
        assert!(
            loaded.calls(Hook::MessagePublish, Some("a/1"))
                && !loaded.calls(Hook::MessagePublish, Some("b/1"))
        );
        let v5_name = LoadedResponse {
            hooks: vec![spec("client.authorize", &[])],
        };
        assert!(resolve_hooks(Version::V1, &v5_name).fails);
        assert!(!resolve_hooks(Version::V2, &v5_name).fails);
        assert!(
            resolve_hooks(
                Version::V3,
                &LoadedResponse {
                    hooks: vec![spec("client.nope", &[])]
                }
            )
            .fails
        );
    }
}
