//! Load against one provider:
//! `loadgen 127.0.0.1:9000 [connections] [streams per connection] [seconds] [server pid]`.

use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target = args.first().map_or("127.0.0.1:9000", String::as_str);
    let number =
        |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (connections, streams, seconds) =
        (number(1, 4) as usize, number(2, 64) as usize, number(3, 10));
    let channels = exhook_bench::load::connect(target, connections).await?;
    let report = exhook_bench::load::run(&channels, streams, Duration::from_secs(seconds)).await;
    println!(
        "{connections} connections x {streams} streams, {seconds} s: {:.0} calls/s, p50 {:?}, p99 {:?}, p99.9 {:?}, errors {}",
        report.rps, report.p50, report.p99, report.p999, report.errors
    );
    if let Some(pid) = args.get(4).and_then(|p| p.parse().ok()) {
        println!(
            "server peak RSS: {} KiB",
            exhook_bench::load::peak_rss_kib(pid).unwrap_or(0)
        );
    }
    Ok(())
}
