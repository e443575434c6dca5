//! `exhook`: load, call, check and benchmark any EMQX ExHook provider (in any
//! language) exactly as EMQX does, and print the EMQX configuration for it.
//!
//! ```text
//! exhook probe http://127.0.0.1:9000
//! exhook call http://127.0.0.1:9000 client.authenticate --username alice --password-stdin
//! exhook check http://127.0.0.1:9000
//! exhook bench http://127.0.0.1:9000 --hook publish --connections 8 --duration 30s
//! exhook emqx-config http://exhook.internal:9000 --emqx 5 --name auth
//! ```

#![warn(missing_docs)]

mod bench;
mod call;
mod check;
mod config;
mod emqx;
mod exit;
mod h2;
mod load;
mod output;
mod probe;
mod request;
mod target;
mod wire;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::output::Out;
use crate::target::Common;

/// Load, call, check and benchmark an EMQX ExHook provider (in any language)
/// the way EMQX does.
#[derive(Debug, Parser)]
#[command(name = "exhook", version, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    common: Common,
}

const EXAMPLES: &str = "\
Examples:
  exhook probe http://127.0.0.1:9000             what it advertises, health, round trip, versions
  exhook call http://127.0.0.1:9000 client.authenticate --username alice --password-stdin
  exhook check http://127.0.0.1:9000 --proto v1  a client's life as EMQX 4.4 runs it
  exhook bench http://127.0.0.1:9000 --rate 5000 --duration 30s
  exhook emqx-config http://exhook:9000 --emqx 4

Exit codes: 0 ok, 1 the provider answered with problems (does not load, not serving,
a protocol break, a failed call), 2 bad usage, 3 the provider cannot be reached.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Load the provider as EMQX does (OnProviderLoaded with broker info) and
    /// print the advertised hooks and topics, grpc.health, the round trip and
    /// which protocol versions answer.
    #[command(after_help = "\
Examples:
  exhook probe http://127.0.0.1:9000
  exhook probe https://exhook.internal:9000 --cacert ca.pem --cert emqx.pem --key emqx.key
  exhook probe http://127.0.0.1:9000 --health-only       # container / Kubernetes health check
  exhook probe http://127.0.0.1:9000 --proto v1 --json | jq .hooks

Exits 0 when the provider loads (and is not NOT_SERVING), 1 when it does not, 3 when unreachable.")]
    Probe(probe::Args),
    /// Send one event and print the raw answer and what EMQX would do with it.
    #[command(after_help = "\
Examples:
  echo secret | exhook call http://127.0.0.1:9000 client.authenticate --username alice --password-stdin
  exhook call http://127.0.0.1:9000 client.authorize --username alice --topic 'sensors/1' --subscribe
  exhook call http://127.0.0.1:9000 message.publish --topic sensors/1 --payload '{\"t\":21}' --qos 1
  exhook call http://127.0.0.1:9000 message.publish --request-json event.json --json")]
    Call(call::Args),
    /// Run EMQX's client lifecycle against the provider (connect, authenticate,
    /// subscribe, publish, deliver, ack, disconnect), report what EMQX would do
    /// at each step, and every protocol break with the EMQX behaviour it causes.
    #[command(after_help = "\
Examples:
  exhook check http://127.0.0.1:9000
  exhook check http://127.0.0.1:9000 --proto v1 --timeout 1s --failed-action ignore
  exhook check http://127.0.0.1:9000 --username gooduser --topic sensors/1 --json

Exits 0 when the report is clean, 1 when it lists problems, 3 when unreachable.")]
    Check(check::Args),
    /// EMQX-like load: long-lived connections, each client's calls on one
    /// connection; calls/s and p50/p99/p99.9 latency.
    #[command(after_help = "\
Examples:
  exhook bench http://127.0.0.1:9000 --duration 30s
  exhook bench http://127.0.0.1:9000 --hook mixed --connections 8 --concurrency 512 --calls 1000000
  exhook bench http://127.0.0.1:9000 --rate 20000 --duration 1m --payload-size 1024   # open loop

Prints text with a histogram on a terminal, JSON otherwise (or with --json).")]
    Bench(bench::Args),
    /// Print the EMQX configuration for this provider: the exhook.servers block
    /// (EMQX 5, HOCON) or the emqx_exhook.conf lines (EMQX 4).
    #[command(
        name = "emqx-config",
        after_help = "\
Examples:
  exhook emqx-config http://exhook.default.svc:9000 --name auth --failed-action deny
  exhook emqx-config https://exhook.internal:9000 --cacert ca.pem --cert emqx.pem --key emqx.key
  exhook emqx-config http://10.0.0.5:9000 --emqx 4 --timeout 3s"
    )]
    EmqxConfig(config::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Out::new(cli.common.json);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return exit::code(exit::usage(&format!("cannot start the runtime: {error}")));
        }
    };
    let common = cli.common;
    let code = runtime.block_on(async {
        match cli.command {
            Command::Probe(args) => probe::run(args, &common, out).await,
            Command::Call(args) => call::run(args, &common, out).await,
            Command::Check(args) => check::run(args, &common, out).await,
            Command::Bench(args) => bench::run(args, &common, out).await,
            Command::EmqxConfig(args) => config::run(args, &common),
        }
    });
    exit::code(code)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent_and_every_subcommand_has_examples() {
        super::Cli::command().debug_assert();
        for sub in super::Cli::command().get_subcommands() {
            let help = sub
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(
                help.contains(&format!("exhook {}", sub.get_name())),
                "{}",
                sub.get_name()
            );
        }
    }
}
