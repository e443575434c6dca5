//! `exhook probe`: load the provider as EMQX does and tell what it offers.

use exhook_hooks::Version;
use serde_json::json;
use tonic::Code;

use crate::emqx::{self, Break, Problem};
use crate::exit::{self, Exit};
use crate::load::{self, Attempt, Health};
use crate::output::Out;
use crate::request::Event;
use crate::target::Common;

/// Arguments of `exhook probe`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The provider, as in EMQX's `url`: http://host:port or https://host:port.
    url: String,
    /// Only ask grpc.health (no OnProviderLoaded): for container and
    /// Kubernetes health checks, which should not load the provider.
    #[arg(long)]
    health_only: bool,
    /// With --health-only: the service to ask about, such as
    /// emqx.exhook.v3.HookProvider (NOT_SERVING once a shutdown starts);
    /// the server as a whole by default.
    #[arg(long, default_value = "", requires = "health_only")]
    service: String,
}

pub(crate) async fn run(args: Args, common: &Common, out: Out) -> Exit {
    let channel = match common.connect(&args.url).await {
        Ok(channel) => channel,
        Err(error) => return exit::unreachable(out, &error),
    };
    if args.health_only {
        let health = load::health(&channel, &args.service, common.timeout).await;
        let code = if health == Health::Serving {
            exit::OK
        } else {
            exit::PROBLEMS
        };
        if out.json {
            out.print_json(&json!({ "url": args.url, "health": health.json() }));
        } else {
            println!("{}: health {}", args.url, paint_health(out, &health));
        }
        return code;
    }
    let health = load::health(&channel, "", common.timeout).await;
    let event = Event {
        cluster_name: common.cluster_name.clone(),
        ..Event::default()
    };
    let mut attempts = Vec::new();
    for version in [Version::V3, Version::V2, Version::V1] {
        attempts.push(load::load(&channel, version, &event, common.timeout).await);
    }
    let chosen = match common.proto.version() {
        Some(version) => attempts.iter().find(|a| a.version == version),
        None => attempts.iter().find(|a| a.answer.is_ok()),
    };
    let mut problems = Vec::new();
    match &health {
        Health::Serving => {}
        Health::NotServing(status) => problems.push(Problem::new(
            Break::NotServing,
            format!("health says {status}"),
        )),
        Health::Missing(why) => problems.push(Problem::new(Break::NoHealth, why.clone())),
        Health::Failed(why) => problems.push(Problem::new(Break::NoHealth, why.clone())),
    }
    let version_health = match chosen {
        Some(attempt) => {
            Some(load::health(&channel, attempt.version.service_name(), common.timeout).await)
        }
        None => None,
    };
    if let Some(attempt) = chosen {
        match &attempt.answer {
            Ok(loaded) => problems.extend(loaded.problems.iter().cloned()),
            Err(status) => problems.push(Problem::new(
                Break::LoadFailed,
                format!("{}: {}", attempt.version, emqx::failure(status)),
            )),
        }
    }
    let loads = chosen.is_some_and(|a| a.answer.as_ref().is_ok_and(|l| !l.fails));
    let unreachable = attempts.iter().all(|a| {
        a.answer
            .as_ref()
            .is_err_and(|s| s.code() == Code::Unavailable)
    });
    if out.json {
        out.print_json(&json!({
            "url": args.url,
            "health": health.json(),
            "service_health": version_health.as_ref().map(Health::json),
            "versions": attempts.iter().map(Attempt::json).collect::<Vec<_>>(),
            "version": chosen.map(|a| a.version.to_string()),
            "rtt_ms": chosen.map(|a| load::ms(a.rtt)),
            "hooks": chosen.and_then(|a| a.answer.as_ref().ok()).map(emqx::Loaded::json),
            "loads": loads,
            "problems": problems.iter().map(Problem::json).collect::<Vec<_>>(),
        }));
    } else {
        print_text(
            out,
            &args.url,
            &health,
            version_health.as_ref(),
            &attempts,
            chosen,
            &problems,
        );
    }
    if unreachable {
        exit::UNREACHABLE
    } else if loads && !matches!(health, Health::NotServing(_)) {
        exit::OK
    } else {
        exit::PROBLEMS
    }
}

fn paint_health(out: Out, health: &Health) -> String {
    match health {
        Health::Serving => out.good(&health.label()),
        Health::Missing(_) => out.warn(&health.label()),
        _ => out.bad(&health.label()),
    }
}

fn print_text(
    out: Out,
    url: &str,
    health: &Health,
    version_health: Option<&Health>,
    attempts: &[Attempt],
    chosen: Option<&Attempt>,
    problems: &[Problem],
) {
    println!("{} {url}", out.bold("provider"));
    println!("  health:    {}", paint_health(out, health));
    for attempt in attempts {
        let status = match &attempt.answer {
            Ok(_) => out.good("answers OnProviderLoaded"),
            Err(status) => out.dim(&format!("no ({})", emqx::failure(status))),
        };
        println!(
            "  {} (EMQX {:<7}) {status}  {:.2} ms",
            attempt.version,
            emqx::emqx_line(attempt.version),
            attempt.rtt.as_secs_f64() * 1e3
        );
    }
    match chosen {
        Some(Attempt {
            version,
            rtt,
            answer: Ok(loaded),
        }) => {
            println!(
                "{} {version} in {:.2} ms; {} {}:",
                out.bold("loaded on"),
                rtt.as_secs_f64() * 1e3,
                loaded.hooks.len(),
                if loaded.hooks.len() == 1 {
                    "hook"
                } else {
                    "hooks"
                }
            );
            if let Some(health) = version_health {
                println!(
                    "  health of {}: {}",
                    version.service_name(),
                    paint_health(out, health)
                );
            }
            for (hook, topics) in &loaded.hooks {
                if topics.is_empty() {
                    println!("  {hook}");
                } else {
                    println!("  {hook:<22} topics {}", topics.join(", "));
                }
            }
        }
        Some(Attempt {
            version,
            answer: Err(_),
            ..
        }) => println!("{} on {version}", out.bad("does not load")),
        None => println!(
            "{}",
            out.bad("no protocol version answers OnProviderLoaded")
        ),
    }
    print_problems(out, problems);
}

/// Prints problems, each with the EMQX behaviour it causes.
pub(crate) fn print_problems(out: Out, problems: &[Problem]) {
    if problems.is_empty() {
        println!("{}", out.good("no protocol problems"));
        return;
    }
    println!(
        "{}",
        out.bad(&format!("{} protocol problem(s):", problems.len()))
    );
    for problem in problems {
        println!(
            "  {} {}",
            out.bad(&format!("[{}]", problem.kind.code())),
            problem.detail
        );
        println!("      {} {}", out.dim("EMQX:"), problem.kind.emqx());
    }
}
