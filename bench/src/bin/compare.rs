//! Runs the hand-written provider and `examples/bench_provider.rs`
//! alternately, several rounds, under the same load, and prints each figure
//! with the ratio exhook / hand-written:
//!
//! ```text
//! cargo run --release -p exhook-bench --bin compare -- [rounds] [seconds per run]
//! ```
//!
//! Each server is pinned to CPU 1 and the load to CPU 0 when `taskset` is
//! available.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use exhook_bench::load::{self, Report};

const SERIAL: (usize, usize) = (1, 1);
const CONCURRENT: (usize, usize) = (4, 64);

struct Figures {
    serial: Report,
    concurrent: Report,
    rss_kib: u64,
}

fn build() {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "-q",
            "-p",
            "exhook-bench",
            "--bin",
            "baseline",
        ])
        .args(["-p", "exhook-examples", "--example", "bench_provider"])
        .status()
        .expect("cargo");
    assert!(status.success(), "build failed");
}

fn spawn(binary: &std::path::Path, port: u16) -> Child {
    let pinned = Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok();
    let mut command = if pinned {
        let mut c = Command::new("taskset");
        c.args(["-c", "1"]).arg(binary);
        c
    } else {
        Command::new(binary)
    };
    command
        .env("EXHOOK_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the provider")
}

async fn measure(binary: &std::path::Path, port: u16, seconds: u64) -> Figures {
    let mut child = spawn(binary, port);
    let target = format!("127.0.0.1:{port}");
    let mut channels = None;
    for _ in 0..100 {
        if let Ok(c) = load::connect(&target, CONCURRENT.0).await {
            channels = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let channels = channels.expect("the provider did not start");
    let run = Duration::from_secs(seconds);
    // Warm up, then the two measured runs.
    load::run(&channels, 16, Duration::from_secs(1)).await;
    let serial = load::run(&channels[..SERIAL.0], SERIAL.1, run).await;
    let concurrent = load::run(&channels, CONCURRENT.1, run).await;
    let rss_kib = load::peak_rss_kib(child.id()).unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    Figures {
        serial,
        concurrent,
        rss_kib,
    }
}

/// A figure's name and how to read it from one run.
type Row<'a> = (&'a str, &'a dyn Fn(&Figures) -> f64);

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rounds = args.first().copied().unwrap_or(3).max(1);
    let seconds = args.get(1).copied().unwrap_or(5).max(1);
    build();
    let dir = std::env::current_exe()
        .expect("own path")
        .parent()
        .expect("target dir")
        .to_owned();
    let providers = [
        ("hand-written", dir.join("baseline")),
        ("exhook", dir.join("examples/bench_provider")),
    ];
    // The load runs on CPU 0, the servers on CPU 1.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let mut results: [Vec<Figures>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        // Alternate which provider goes first.
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for index in order {
            let figures =
                runtime.block_on(measure(&providers[index].1, 19_400 + index as u16, seconds));
            eprintln!(
                "round {} {:>12}: serial {:.0}/s p99 {:?} | 4x64 {:.0}/s p99 {:?} | RSS {} KiB | errors {}",
                round + 1,
                providers[index].0,
                figures.serial.rps,
                figures.serial.p99,
                figures.concurrent.rps,
                figures.concurrent.p99,
                figures.rss_kib,
                figures.serial.errors + figures.concurrent.errors,
            );
            results[index].push(figures);
        }
    }
    let figure = |i: usize, f: &dyn Fn(&Figures) -> f64| median(results[i].iter().map(f).collect());
    let rows: [Row<'_>; 9] = [
        ("serial calls/s", &|f| f.serial.rps),
        ("serial p50 µs", &|f| f.serial.p50.as_secs_f64() * 1e6),
        ("serial p99 µs", &|f| f.serial.p99.as_secs_f64() * 1e6),
        ("serial p99.9 µs", &|f| f.serial.p999.as_secs_f64() * 1e6),
        ("4x64 calls/s", &|f| f.concurrent.rps),
        ("4x64 p50 µs", &|f| f.concurrent.p50.as_secs_f64() * 1e6),
        ("4x64 p99 µs", &|f| f.concurrent.p99.as_secs_f64() * 1e6),
        ("4x64 p99.9 µs", &|f| f.concurrent.p999.as_secs_f64() * 1e6),
        ("peak RSS KiB", &|f| f.rss_kib as f64),
    ];
    println!("median of {rounds} rounds, {seconds} s per run");
    println!("| figure | hand-written | exhook | exhook / hand-written |");
    println!("|---|---|---|---|");
    for (name, f) in rows {
        let (base, ours) = (figure(0, f), figure(1, f));
        println!("| {name} | {base:.0} | {ours:.0} | {:.3} |", ours / base);
    }
}
