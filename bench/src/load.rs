//! Load over loopback: many concurrent HTTP/2 streams over several
//! connections, as EMQX uses `pool_size` connections, each call a
//! `message.publish` of about 300 bytes.

use std::time::{Duration, Instant};

use tonic::transport::{Channel, Endpoint};

use crate::proto::hook_provider_client::HookProviderClient;

/// The figures of one run.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    /// Calls answered per second.
    pub rps: f64,
    /// Latency percentiles.
    pub p50: Duration,
    pub p99: Duration,
    pub p999: Duration,
    /// Calls that failed.
    pub errors: u64,
}

/// Opens `connections` HTTP/2 connections to `target` (`host:port`).
pub async fn connect(
    target: &str,
    connections: usize,
) -> Result<Vec<Channel>, tonic::transport::Error> {
    let mut channels = Vec::with_capacity(connections);
    for _ in 0..connections {
        // One `connect` per channel: each is its own TCP connection.
        channels.push(
            Endpoint::from_shared(format!("http://{target}"))?
                .tcp_nodelay(true)
                .connect()
                .await?,
        );
    }
    Ok(channels)
}

/// Sends calls for `duration` with `streams` concurrent callers on each
/// channel; each caller waits for its answer before sending again.
pub async fn run(channels: &[Channel], streams: usize, duration: Duration) -> Report {
    let request = crate::publish_request();
    let deadline = Instant::now() + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for channel in channels {
        for _ in 0..streams {
            let mut client = HookProviderClient::new(channel.clone());
            let request = request.clone();
            tasks.spawn(async move {
                let mut latencies = Vec::with_capacity(1 << 14);
                let mut errors = 0u64;
                while Instant::now() < deadline {
                    let started = Instant::now();
                    match client.on_message_publish(request.clone()).await {
                        Ok(_) => latencies.push(started.elapsed()),
                        Err(_) => errors += 1,
                    }
                }
                (latencies, errors)
            });
        }
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut errors = 0;
    while let Some(result) = tasks.join_next().await {
        if let Ok((mut part, failed)) = result {
            latencies.append(&mut part);
            errors += failed;
        }
    }
    let elapsed = started.elapsed().as_secs_f64().max(duration.as_secs_f64());
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Report {
        rps: latencies.len() as f64 / elapsed,
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
        errors,
    }
}

/// The peak resident set of process `pid`, in KiB (Linux `VmHWM`).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
