//! Runs h2load (Debian's `nghttp2-client`) against each benchmark provider
//! in alternating rounds and prints the medians with the ratio of each to
//! the hand-written provider:
//!
//! ```text
//! cargo run --release -p exhook-bench --bin compare -- [rounds] [seconds per run]
//! ```
//!
//! The providers: the hand-written tonic one (`bench/src/baseline.rs`),
//! exhook's `examples/bench_provider.rs` echoing the whole message
//! (`EXHOOK_BENCH_FULL_ANSWERS=1`) and with compact answers, and the Go
//! grpc-go peer (`bench/go`, built by `bench/go/build.sh`). Each server is
//! pinned to CPU 0 and h2load to CPU 1 with `taskset`; every server gets the
//! same loads: the benchmark's `message.publish` frame (339 bytes) and one
//! with a 64 KiB payload on 4 connections × 64 streams, and the first one
//! call at a time (`-c 1 -m 1`). Figures from a busy machine are not
//! comparable with each other. `EXHOOK_COMPARE_BEFORE=<path>` adds another
//! build of `bench_provider` (echoing the whole message) to the rounds.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SERVER_CPU: &str = "0";
const LOAD_CPU: &str = "1";
const PATH: &str = "/emqx.exhook.v3.HookProvider/OnMessagePublish";

/// A provider: its name in the table, the binary, and its environment.
struct Provider {
    name: &'static str,
    binary: PathBuf,
    env: &'static [(&'static str, &'static str)],
}

/// One h2load load: the message's payload (`None`: the sensor reading),
/// connections and streams per connection.
struct Load {
    payload: Option<usize>,
    connections: usize,
    streams: usize,
}

const LOADS: [Load; 3] = [
    Load {
        payload: None,
        connections: 4,
        streams: 64,
    },
    Load {
        payload: Some(64 * 1024),
        connections: 4,
        streams: 64,
    },
    Load {
        payload: None,
        connections: 1,
        streams: 1,
    },
];

/// What h2load reports of one run.
#[derive(Debug, Clone, Copy)]
struct Run {
    calls_per_second: f64,
    mean_micros: f64,
    failed: u64,
}

/// A row of the table: its name and how to read it from one round.
type Row = (String, Box<dyn Fn(&Round) -> f64>);

/// All runs of one provider in one round.
struct Round {
    loads: Vec<Run>,
    rss_kib: u64,
}

fn run_command(command: &mut Command, what: &str) -> String {
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(output.status.success(), "{what} failed");
    String::from_utf8(output.stdout).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Builds the Rust providers and the Go peer; returns the providers.
fn build() -> Vec<Provider> {
    run_command(
        Command::new(env!("CARGO"))
            .args(["build", "--release", "-q", "-p", "exhook-bench"])
            .args(["--bin", "baseline"])
            .args(["-p", "exhook-examples", "--example", "bench_provider"]),
        "cargo build",
    );
    let go_build = Path::new(env!("CARGO_MANIFEST_DIR")).join("go/build.sh");
    let go_peer = run_command(&mut Command::new(&go_build), "bench/go/build.sh");
    let go_peer = PathBuf::from(go_peer.lines().last().expect("the Go peer's path"));
    let dir = std::env::current_exe()
        .expect("own path")
        .parent()
        .expect("target dir")
        .to_owned();
    let exhook = dir.join("examples/bench_provider");
    let mut providers = vec![
        Provider {
            name: "hand-written tonic",
            binary: dir.join("baseline"),
            env: &[],
        },
        Provider {
            name: "exhook, whole message",
            binary: exhook.clone(),
            env: &[("EXHOOK_BENCH_FULL_ANSWERS", "1")],
        },
        Provider {
            name: "exhook, compact answers",
            binary: exhook,
            env: &[],
        },
        Provider {
            name: "Go grpc-go",
            binary: go_peer,
            env: &[],
        },
    ];
    // Another build of `bench_provider`, such as the one before a change,
    // echoing the whole message in the same rounds.
    if let Some(before) = std::env::var_os("EXHOOK_COMPARE_BEFORE") {
        providers.push(Provider {
            name: "exhook before, whole message",
            binary: PathBuf::from(before),
            env: &[("EXHOOK_BENCH_FULL_ANSWERS", "1")],
        });
    }
    providers
}

fn start(provider: &Provider, port: u16) -> Child {
    let mut child = Command::new("taskset")
        .args(["-c", SERVER_CPU])
        .arg(&provider.binary)
        .env("EXHOOK_LISTEN", format!("127.0.0.1:{port}"))
        .envs(provider.env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", provider.binary.display()));
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("{} did not start listening", provider.name);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// The first number in `text` with its unit scaled to microseconds
/// (`12.5ms`, `830us`, `1.2s`).
fn micros(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let value: f64 = text[..split].parse().ok()?;
    match &text[split..] {
        "us" => Some(value),
        "ms" => Some(value * 1e3),
        "s" => Some(value * 1e6),
        _ => None,
    }
}

/// Reads h2load's summary: `finished in …, N req/s, …`, `requests: … N
/// failed, N errored, N timeout` and `time for request: min max mean …`.
fn parse(output: &str) -> Option<Run> {
    let mut calls_per_second = None;
    let mut mean_micros = None;
    let mut failed = 0;
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("finished in ") {
            calls_per_second = rest
                .split(", ")
                .find_map(|part| part.strip_suffix(" req/s"))
                .and_then(|n| n.parse().ok());
        } else if let Some(rest) = line.strip_prefix("requests: ") {
            for part in rest.split(", ") {
                if let Some((n, "failed" | "errored" | "timeout")) = part.split_once(' ') {
                    failed += n.parse::<u64>().ok()?;
                }
            }
        } else if let Some(rest) = line.strip_prefix("time for request:") {
            mean_micros = rest.split_whitespace().nth(2).and_then(micros);
        }
    }
    Some(Run {
        calls_per_second: calls_per_second?,
        mean_micros: mean_micros?,
        failed,
    })
}

fn h2load(load: &Load, frame: &Path, port: u16, seconds: u64) -> Run {
    let output = run_command(
        Command::new("taskset")
            .args(["-c", LOAD_CPU, "h2load", "-t", "1", "--warm-up-time", "1"])
            .args(["-D", &seconds.to_string()])
            .args(["-c", &load.connections.to_string()])
            .args(["-m", &load.streams.to_string()])
            .arg("-d")
            .arg(frame)
            .args(["-H", "content-type: application/grpc", "-H", "te: trailers"])
            .arg(format!("http://127.0.0.1:{port}{PATH}")),
        "h2load (apt-get install nghttp2-client)",
    );
    parse(&output).unwrap_or_else(|| panic!("unexpected h2load output:\n{output}"))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rounds = args.first().copied().unwrap_or(3).max(1) as usize;
    let seconds = args.get(1).copied().unwrap_or(5).max(1);
    let providers = build();
    // Each load's request body in a file for h2load, and its name.
    let (frames, names): (Vec<PathBuf>, Vec<String>) = LOADS
        .iter()
        .enumerate()
        .map(|(i, load)| {
            let request = match load.payload {
                Some(len) => exhook_bench::publish_request_with_payload(len),
                None => exhook_bench::publish_request(),
            };
            let frame = exhook_bench::grpc_frame(&request);
            let path = std::env::temp_dir()
                .join(format!("exhook-compare-{}-{i}.grpc", std::process::id()));
            std::fs::write(&path, &frame).expect("write a frame");
            let name = match (load.connections, load.streams) {
                (1, 1) => format!("{} B, serial", frame.len()),
                (c, m) => format!("{} B, {c}×{m}", frame.len()),
            };
            (path, name)
        })
        .collect();

    let mut results: Vec<Vec<Round>> = providers.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds {
        // Each round starts with the next provider.
        for offset in 0..providers.len() {
            let index = (round + offset) % providers.len();
            let provider = &providers[index];
            let port = 19_400 + index as u16;
            let mut child = start(provider, port);
            let loads: Vec<Run> = LOADS
                .iter()
                .zip(&frames)
                .map(|(load, frame)| h2load(load, frame, port, seconds))
                .collect();
            let rss_kib = exhook_bench::load::peak_rss_kib(child.id()).unwrap_or(0);
            let _ = child.kill();
            let _ = child.wait();
            let figures: Vec<String> = names
                .iter()
                .zip(&loads)
                .map(|(name, run)| {
                    format!(
                        "{name} {:.0}/s mean {:.0} µs{}",
                        run.calls_per_second,
                        run.mean_micros,
                        if run.failed > 0 {
                            format!(" FAILED {}", run.failed)
                        } else {
                            String::new()
                        }
                    )
                })
                .collect();
            eprintln!(
                "round {} {:>24}: {} | RSS {rss_kib} KiB",
                round + 1,
                provider.name,
                figures.join(" | ")
            );
            results[index].push(Round { loads, rss_kib });
        }
    }
    for frame in &frames {
        let _ = std::fs::remove_file(frame);
    }

    // The rows: each load's calls per second, the serial mean round trip,
    // the peak RSS.
    let mut rows: Vec<Row> = Vec::new();
    for (i, (load, name)) in LOADS.iter().zip(&names).enumerate() {
        rows.push((
            format!("{name} calls/s"),
            Box::new(move |r: &Round| r.loads[i].calls_per_second),
        ));
        if load.connections * load.streams == 1 {
            rows.push((
                format!("{name} mean µs"),
                Box::new(move |r: &Round| r.loads[i].mean_micros),
            ));
        }
    }
    rows.push((
        "peak RSS KiB".into(),
        Box::new(|r: &Round| r.rss_kib as f64),
    ));

    println!("h2load, median of {rounds} rounds, {seconds} s per run; (ratio to hand-written)");
    let columns: Vec<&str> = providers.iter().map(|p| p.name).collect();
    println!("| figure | {} |", columns.join(" | "));
    println!("|---|{}", "---|".repeat(columns.len()));
    for (name, figure) in rows {
        let medians: Vec<f64> = results
            .iter()
            .map(|rounds| median(rounds.iter().map(&figure).collect()))
            .collect();
        let cells: Vec<String> = medians
            .iter()
            .enumerate()
            .map(|(i, m)| {
                if i == 0 {
                    format!("{m:.0}")
                } else {
                    format!("{m:.0} ({:.3})", m / medians[0])
                }
            })
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
}
