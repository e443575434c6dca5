//! `exhook check`: run one MQTT client's life through the provider as EMQX
//! would, report what EMQX would have done at each step, and every protocol
//! break met on the way.

use std::time::{Duration, Instant};

use exhook_hooks::{Answer, Hook, Version};
use serde_json::{Value as Json, json};
use tonic::Code;
use tonic::transport::Channel;

use crate::emqx::{self, Break, Effect, FailedAction, Loaded, Problem};
use crate::exit::{self, Exit};
use crate::load::{self, Health};
use crate::output::Out;
use crate::request::{self, Event};
use crate::target::Common;
use crate::wire;

/// Arguments of `exhook check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The provider: http://host:port or https://host:port.
    url: String,
    /// The client's user name.
    #[arg(long, default_value = "exhook-check")]
    username: String,
    /// The client's password.
    #[arg(long, default_value = "exhook-check", hide_default_value = true)]
    password: String,
    /// The topic to subscribe and publish to; by default one that the
    /// provider's message.publish filters match.
    #[arg(long)]
    topic: Option<String>,
    /// What EMQX does when a call fails.
    #[arg(long, value_enum, default_value = "deny")]
    failed_action: FailedAction,
}

/// One hook call of the lifecycle.
struct Step {
    phase: &'static str,
    hook: Hook,
    rtt: Option<Duration>,
    effect: Effect,
    error: Option<String>,
}

/// The lifecycle's state: where to call, what was loaded, what was seen.
struct Run<'a> {
    channel: &'a Channel,
    version: Version,
    loaded: &'a Loaded,
    timeout: Duration,
    failed_action: FailedAction,
    steps: Vec<Step>,
    problems: Vec<Problem>,
}

impl Run<'_> {
    /// Calls `hook` if EMQX would, and records what EMQX does with the answer.
    async fn step(&mut self, phase: &'static str, hook: Hook, event: &Event) -> Effect {
        let topic = hook.is_message_hook().then_some(event.topic.as_str());
        if !self.loaded.calls(hook, topic) {
            self.steps.push(Step {
                phase,
                hook,
                rtt: None,
                effect: Effect::NotCalled,
                error: None,
            });
            return Effect::NotCalled;
        }
        let start = Instant::now();
        let outcome = wire::unary(
            self.channel,
            wire::path(hook, self.version),
            request::encode(hook, self.version, event),
            self.timeout,
        )
        .await;
        let rtt = start.elapsed();
        let sent = request::message(event);
        let (effect, problems) =
            emqx::effect(hook, &outcome, self.failed_action, event.result, &sent);
        self.problems.extend(problems);
        let error = outcome.as_ref().err().map(emqx::failure);
        if let Err(status) = &outcome {
            let kind = emqx::failure_kind(status, rtt, self.timeout);
            self.problems.push(Problem::new(
                kind,
                format!("{hook}: {}", emqx::failure(status)),
            ));
        }
        self.steps.push(Step {
            phase,
            hook,
            rtt: Some(rtt),
            effect: effect.clone(),
            error,
        });
        effect
    }
}

pub(crate) async fn run(args: Args, common: &Common, out: Out) -> Exit {
    let channel = match common.connect(&args.url).await {
        Ok(channel) => channel,
        Err(error) => return exit::unreachable(out, &error),
    };
    let mut problems = Vec::new();
    match load::health(&channel, "", common.timeout).await {
        Health::Serving => {}
        Health::NotServing(status) => problems.push(Problem::new(
            Break::NotServing,
            format!("health says {status}"),
        )),
        Health::Missing(why) | Health::Failed(why) => {
            problems.push(Problem::new(Break::NoHealth, why))
        }
    }
    let base = Event {
        clientid: format!("exhook-check-{}", std::process::id()),
        username: args.username.clone(),
        password: args.password.clone(),
        cluster_name: common.cluster_name.clone(),
        qos: 1,
        ..Event::default()
    };
    let attempts = load::load_any(&channel, common.proto.version(), &base, common.timeout).await;
    let attempt = attempts.last().expect("at least one version is tried");
    let version = attempt.version;
    let loaded = match &attempt.answer {
        Ok(loaded) => loaded.clone(),
        Err(status) if status.code() == Code::Unavailable => {
            return exit::unreachable(out, &emqx::failure(status));
        }
        Err(status) => {
            let kind = if status.code() == Code::DeadlineExceeded {
                "timeout"
            } else {
                "error"
            };
            problems.push(Problem::new(
                Break::LoadFailed,
                format!(
                    "OnProviderLoaded on {version}: {kind}: {}",
                    emqx::failure(status)
                ),
            ));
            return report(
                out,
                &args.url,
                version,
                attempt.rtt,
                None,
                &[],
                &problems,
                0,
            );
        }
    };
    problems.extend(loaded.problems.iter().cloned());
    if loaded.fails {
        return report(
            out,
            &args.url,
            version,
            attempt.rtt,
            Some(&loaded),
            &[],
            &problems,
            0,
        );
    }
    let topic = args
        .topic
        .clone()
        .unwrap_or_else(|| loaded.publish_topic("exhook/check"));
    let event = Event { topic, ..base };
    let mut run = Run {
        channel: &channel,
        version,
        loaded: &loaded,
        timeout: common.timeout,
        failed_action: args.failed_action,
        steps: Vec::new(),
        problems: Vec::new(),
    };
    lifecycle(&mut run, &event).await;
    // Hooks not advertised must still answer: EMQX may call them with the
    // hook list of an earlier load.
    let mut neutral = 0;
    for hook in Hook::advertisable().filter(|h| !loaded.hooks.iter().any(|(l, _)| l == h)) {
        let body = request::encode(hook, version, &event);
        match wire::unary(&channel, wire::path(hook, version), body, common.timeout).await {
            Ok(_) => neutral += 1,
            Err(status) => run.problems.push(Problem::new(
                Break::UnadvertisedFails,
                format!(
                    "{} (not advertised) answered {}",
                    hook.name(version),
                    emqx::failure(&status)
                ),
            )),
        }
    }
    problems.append(&mut run.problems);
    report(
        out,
        &args.url,
        version,
        attempt.rtt,
        Some(&loaded),
        &run.steps,
        &problems,
        neutral,
    )
}

/// The calls EMQX makes for one client, in EMQX's order.
async fn lifecycle(run: &mut Run<'_>, event: &Event) {
    run.step("connect", Hook::ClientConnect, event).await;
    let login = run
        .step(
            "authenticate",
            Hook::ClientAuthenticate,
            &Event {
                result: true,
                ..event.clone()
            },
        )
        .await;
    let allowed = !matches!(login, Effect::Login { allowed: false, .. });
    run.step("authenticate", Hook::SessionCreated, event).await;
    run.step("authenticate", Hook::ClientConnected, event).await;
    run.step(
        "authenticate",
        Hook::ClientConnack,
        &Event {
            result: allowed,
            ..event.clone()
        },
    )
    .await;
    run.step(
        "subscribe",
        Hook::ClientAuthorize,
        &Event {
            subscribe: true,
            ..event.clone()
        },
    )
    .await;
    run.step("subscribe", Hook::ClientSubscribe, event).await;
    run.step("subscribe", Hook::SessionSubscribed, event).await;
    run.step(
        "publish",
        Hook::ClientAuthorize,
        &Event {
            subscribe: false,
            ..event.clone()
        },
    )
    .await;
    let published = run.step("publish", Hook::MessagePublish, event).await;
    let routed = match published {
        Effect::Routed { message, .. } => Some(*message),
        Effect::Dropped { .. } => None,
        _ => Some(request::message(event)),
    };
    if let Some(message) = routed {
        let delivered = Event {
            topic: message.topic.clone(),
            payload: message.payload.clone(),
            qos: message.qos,
            ..event.clone()
        };
        let subscribed = exhook_runtime::TopicFilter::new(event.topic.as_str())
            .is_ok_and(|f| f.matches(&message.topic));
        if subscribed {
            run.step("deliver", Hook::MessageDelivered, &delivered)
                .await;
            if delivered.qos > 0 {
                run.step("ack", Hook::MessageAcked, &delivered).await;
            }
        } else {
            run.step(
                "deliver",
                Hook::MessageDropped,
                &Event {
                    reason: "no_subscribers".to_owned(),
                    ..delivered
                },
            )
            .await;
        }
    }
    run.step("disconnect", Hook::ClientUnsubscribe, event).await;
    run.step("disconnect", Hook::SessionUnsubscribed, event)
        .await;
    run.step("disconnect", Hook::ClientDisconnected, event)
        .await;
    run.step("disconnect", Hook::SessionTerminated, event).await;
}

#[allow(clippy::too_many_arguments)]
fn report(
    out: Out,
    url: &str,
    version: Version,
    load_rtt: Duration,
    loaded: Option<&Loaded>,
    steps: &[Step],
    problems: &[Problem],
    neutral: usize,
) -> Exit {
    if out.json {
        out.print_json(&json!({
            "url": url,
            "version": version.to_string(),
            "load_rtt_ms": load::ms(load_rtt),
            "hooks": loaded.map(Loaded::json),
            "steps": steps.iter().map(|s| json!({
                "phase": s.phase, "hook": s.hook.name(version), "called": s.rtt.is_some(),
                "rtt_ms": s.rtt.map(load::ms), "error": s.error, "emqx": s.effect.json(),
            })).collect::<Vec<Json>>(),
            "unadvertised_answered": neutral,
            "problems": problems.iter().map(Problem::json).collect::<Vec<_>>(),
            "clean": problems.is_empty(),
        }));
    } else {
        println!(
            "{} {url} on {version} (EMQX {})",
            out.bold("check"),
            emqx::emqx_line(version)
        );
        match loaded {
            Some(loaded) => println!(
                "  {:<13}{:<22}{:>9.2} ms  {} hooks advertised",
                "load",
                "OnProviderLoaded",
                load_rtt.as_secs_f64() * 1e3,
                loaded.hooks.len()
            ),
            None => println!(
                "  {:<13}{:<22}{}",
                "load",
                "OnProviderLoaded",
                out.bad("failed")
            ),
        }
        for step in steps {
            let rtt = step.rtt.map_or_else(
                || out.dim("        -   "),
                |rtt| format!("{:>9.2} ms", rtt.as_secs_f64() * 1e3),
            );
            let effect = match (&step.error, &step.effect) {
                (_, Effect::NotCalled) => out.dim(&step.effect.describe()),
                (Some(error), effect) => out.bad(&format!("{error}: {}", effect.describe())),
                (None, effect) if step.hook.answer() == Answer::Notify => {
                    out.dim(&effect.describe())
                }
                (None, effect) => effect.describe(),
            };
            println!(
                "  {:<13}{:<22}{rtt}  {effect}",
                step.phase,
                step.hook.name(version)
            );
        }
        if loaded.is_some_and(|l| !l.fails) {
            println!("  unadvertised hooks answered neutrally: {neutral}");
        }
        crate::probe::print_problems(out, problems);
    }
    if problems.is_empty() {
        exit::OK
    } else {
        exit::PROBLEMS
    }
}
