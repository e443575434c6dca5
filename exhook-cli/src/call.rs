//! `exhook call`: send one event and tell what EMQX would do with the answer.

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Instant;

use bytes::Bytes;
use exhook_hooks::{Answer, Hook};
use exhook_runtime::proto::v3::{LoadedResponse, ValuedResponse, valued_response};
use prost::Message as _;
use serde_json::{Value as Json, json};
use tonic::Code;

use crate::emqx::{self, FailedAction, Problem};
use crate::exit::{self, Exit};
use crate::load;
use crate::output::Out;
use crate::request::{self, Event};
use crate::target::Common;
use crate::wire;

/// Arguments of `exhook call`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The provider: http://host:port or https://host:port.
    url: String,
    /// The hook point, as EMQX names it (client.authenticate,
    /// client.check_acl, message.publish, ...) or as its attribute
    /// (on_client_authenticate).
    hook: String,
    /// The client id.
    #[arg(long)]
    clientid: Option<String>,
    /// The user name.
    #[arg(long)]
    username: Option<String>,
    /// Read the password from standard input (one line), so it stays out of
    /// the shell history and the process list.
    #[arg(long)]
    password_stdin: bool,
    /// The message topic, or the topic or filter of authorize and
    /// (un)subscribe.
    #[arg(long)]
    topic: Option<String>,
    /// The message payload.
    #[arg(long, conflicts_with = "payload_file")]
    payload: Option<String>,
    /// The message payload, from a file.
    #[arg(long, value_name = "FILE")]
    payload_file: Option<PathBuf>,
    /// The message QoS, or the subscription's.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=2))]
    qos: Option<u32>,
    /// Authorize a SUBSCRIBE instead of a PUBLISH.
    #[arg(long)]
    subscribe: bool,
    /// The chain's result EMQX sends to authenticate / authorize (true when
    /// no authenticator or authorization source of EMQX decided).
    #[arg(long)]
    result: Option<bool>,
    /// The event's fields as a JSON object, overridden by the flags: clientid,
    /// username, password, peerhost, topic, payload, qos, result, action
    /// ("publish" or "subscribe"), reason, node.
    #[arg(long, value_name = "FILE")]
    request_json: Option<PathBuf>,
    /// What EMQX does when the call fails.
    #[arg(long, value_enum, default_value = "deny")]
    failed_action: FailedAction,
}

/// The hook named `name` in any of its spellings.
pub(crate) fn parse_hook(name: &str) -> Result<Hook, String> {
    Hook::from_name(name)
        .or_else(|| Hook::from_attribute(name))
        .ok_or_else(|| {
            let names: Vec<String> = Hook::ALL.iter().map(ToString::to_string).collect();
            format!("unknown hook `{name}`; one of: {}", names.join(", "))
        })
}

/// The event described by the JSON file and the flags.
fn event(args: &Args, common: &Common) -> Result<Event, String> {
    let mut event = Event {
        cluster_name: common.cluster_name.clone(),
        ..Event::default()
    };
    if let Some(path) = &args.request_json {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        let json: Json =
            serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
        apply_json(&mut event, &json).map_err(|error| format!("{}: {error}", path.display()))?;
    }
    if let Some(clientid) = &args.clientid {
        event.clientid.clone_from(clientid);
    }
    if let Some(username) = &args.username {
        event.username.clone_from(username);
    }
    if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|error| format!("reading the password: {error}"))?;
        event.password = line.trim_end_matches(['\r', '\n']).to_owned();
    }
    if let Some(topic) = &args.topic {
        event.topic.clone_from(topic);
    }
    if let Some(payload) = &args.payload {
        event.payload = Bytes::from(payload.clone());
    }
    if let Some(path) = &args.payload_file {
        event.payload = std::fs::read(path)
            .map_err(|error| format!("{}: {error}", path.display()))?
            .into();
    }
    if let Some(qos) = args.qos {
        event.qos = qos;
    }
    if args.subscribe {
        event.subscribe = true;
    }
    if let Some(result) = args.result {
        event.result = result;
    }
    Ok(event)
}

/// Sets the event's fields from a JSON object; an unknown field or a
/// wrong type is an error.
fn apply_json(event: &mut Event, json: &Json) -> Result<(), String> {
    let object = json.as_object().ok_or("expected a JSON object")?;
    for (key, value) in object {
        let text = || {
            value
                .as_str()
                .map(str::to_owned)
                .ok_or(format!("`{key}` must be a string"))
        };
        match key.as_str() {
            "clientid" => event.clientid = text()?,
            "username" => event.username = text()?,
            "password" => event.password = text()?,
            "peerhost" => event.peerhost = text()?,
            "topic" => event.topic = text()?,
            "payload" => event.payload = Bytes::from(text()?),
            "reason" => event.reason = text()?,
            "node" => event.node = text()?,
            "qos" => {
                event.qos = value
                    .as_u64()
                    .filter(|q| *q <= 2)
                    .ok_or("`qos` must be 0, 1 or 2")? as u32;
            }
            "result" => event.result = value.as_bool().ok_or("`result` must be true or false")?,
            "action" => {
                event.subscribe = match value.as_str() {
                    Some("publish") => false,
                    Some("subscribe") => true,
                    _ => return Err("`action` must be \"publish\" or \"subscribe\"".to_owned()),
                }
            }
            other => return Err(format!("unknown field `{other}`")),
        }
    }
    Ok(())
}

pub(crate) async fn run(args: Args, common: &Common, out: Out) -> Exit {
    let hook = match parse_hook(&args.hook) {
        Ok(hook) => hook,
        Err(error) => return exit::usage(&error),
    };
    let event = match event(&args, common) {
        Ok(event) => event,
        Err(error) => return exit::usage(&error),
    };
    let channel = match common.connect(&args.url).await {
        Ok(channel) => channel,
        Err(error) => return exit::unreachable(out, &error),
    };
    // EMQX loads a provider before calling any hook.
    let attempts = load::load_any(&channel, common.proto.version(), &event, common.timeout).await;
    let last = attempts.last().expect("at least one version is tried");
    if last
        .answer
        .as_ref()
        .is_err_and(|s| s.code() == Code::Unavailable)
    {
        return exit::unreachable(out, &emqx::failure(last.answer.as_ref().unwrap_err()));
    }
    let version = last.version;
    let advertised =
        last.answer.as_ref().ok().map(|loaded| {
            loaded.calls(hook, hook.is_message_hook().then_some(event.topic.as_str()))
        });
    let start = Instant::now();
    let outcome = wire::unary(
        &channel,
        wire::path(hook, version),
        request::encode(hook, version, &event),
        common.timeout,
    )
    .await;
    let rtt = start.elapsed();
    let sent = request::message(&event);
    let (effect, mut problems) =
        emqx::effect(hook, &outcome, args.failed_action, event.result, &sent);
    if let Err(status) = &outcome {
        let kind = emqx::failure_kind(status, rtt, common.timeout);
        problems.push(Problem::new(
            kind,
            format!("{hook}: {}", emqx::failure(status)),
        ));
    }
    let answer = describe_answer(hook, &outcome);
    if out.json {
        out.print_json(&json!({
            "hook": hook.name(version), "version": version.to_string(), "rpc": hook.rpc(version),
            "advertised": advertised, "rtt_ms": load::ms(rtt), "answer": answer, "emqx": effect.json(),
            "problems": problems.iter().map(Problem::json).collect::<Vec<_>>(),
        }));
    } else {
        println!(
            "{} {} on {version} ({:.2} ms)",
            out.bold("call"),
            hook.rpc(version),
            rtt.as_secs_f64() * 1e3
        );
        if advertised == Some(false) {
            println!(
                "  {}",
                out.warn("not advertised for this event: EMQX would not call it")
            );
        }
        println!(
            "  answer: {}",
            serde_json::to_string(&answer).unwrap_or_default()
        );
        println!("  {} {}", out.bold("EMQX:"), effect.describe());
        if !problems.is_empty() {
            crate::probe::print_problems(out, &problems);
        }
    }
    if outcome.is_ok() {
        exit::OK
    } else {
        exit::PROBLEMS
    }
}

/// The answer as decoded, for printing.
fn describe_answer(hook: Hook, outcome: &emqx::Outcome) -> Json {
    let bytes = match outcome {
        Ok(bytes) => bytes.clone(),
        Err(status) => {
            return json!({ "error": format!("{:?}", status.code()), "message": status.message() });
        }
    };
    match hook.answer() {
        Answer::Notify => json!({ "EmptySuccess": {}, "bytes": bytes.len() }),
        Answer::Load => match LoadedResponse::decode(bytes) {
            Ok(loaded) => {
                json!({ "hooks": loaded.hooks.iter().map(|h| json!({"name": h.name, "topics": h.topics})).collect::<Vec<_>>() })
            }
            Err(error) => json!({ "undecodable": error.to_string() }),
        },
        Answer::Decide | Answer::Publish => match ValuedResponse::decode(bytes) {
            Ok(valued) => {
                let kind = valued_response::ResponsedType::try_from(valued.r#type).map_or_else(
                    |_| valued.r#type.to_string(),
                    |k| k.as_str_name().to_owned(),
                );
                let value = match valued.value {
                    None => Json::Null,
                    Some(valued_response::Value::BoolResult(b)) => json!({ "bool_result": b }),
                    Some(valued_response::Value::Message(m)) => json!({ "message": {
                        "topic": m.topic, "qos": m.qos, "payload": String::from_utf8_lossy(&m.payload),
                        "from": m.from, "id": m.id, "headers": m.headers,
                    }}),
                };
                json!({ "type": kind, "value": value })
            }
            Err(error) => json!({ "undecodable": error.to_string() }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_json_fills_the_event_and_rejects_unknown_fields() {
        let mut event = Event::default();
        let json = serde_json::json!({ "clientid": "c", "qos": 2, "action": "subscribe", "result": false, "payload": "p" });
        apply_json(&mut event, &json).unwrap();
        assert_eq!(
            (
                event.clientid.as_str(),
                event.qos,
                event.subscribe,
                event.result,
                &event.payload[..]
            ),
            ("c", 2, true, false, &b"p"[..])
        );
        assert!(apply_json(&mut event, &serde_json::json!({ "qos": 3 })).is_err());
        assert!(
            apply_json(&mut event, &serde_json::json!({ "clinetid": "typo" }))
                .unwrap_err()
                .contains("clinetid")
        );
    }

    #[test]
    fn hooks_are_found_by_every_spelling() {
        assert_eq!(parse_hook("client.check_acl"), Ok(Hook::ClientAuthorize));
        assert_eq!(parse_hook("on_message_publish"), Ok(Hook::MessagePublish));
        assert!(parse_hook("publish").is_err());
    }
}
