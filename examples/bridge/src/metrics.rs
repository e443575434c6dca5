//! The bridge's counters, in Prometheus' text format, optionally served
//! over HTTP at `/metrics`.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tracing::warn;

/// A number that goes up (and, for a gauge, down).
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`; the new value.
    pub fn add(&self, n: u64) -> u64 {
        self.0.fetch_add(n, Ordering::Relaxed) + n
    }

    pub(crate) fn sub(&self, n: u64) {
        self.0.fetch_sub(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Upper bounds of the latency histogram's buckets, in seconds.
const LATENCY_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// What the bridge did, for one sink.
#[derive(Debug)]
pub struct Metrics {
    sink: &'static str,
    /// Records the sink acknowledged.
    pub forwarded: Counter,
    /// Records sent again after a failed send.
    pub retried: Counter,
    /// Records dropped on a full (or closed) buffer.
    pub dropped: Counter,
    /// Records accepted and not yet acknowledged.
    pub depth: Counter,
    /// Batches sent, by how long the sink took to acknowledge them.
    latency: [Counter; LATENCY_BUCKETS.len() + 1],
    latency_sum_micros: Counter,
}

impl Metrics {
    /// Zeroes, labelled with the sink's name.
    pub fn new(sink: &'static str) -> Metrics {
        Metrics {
            sink,
            forwarded: Counter::default(),
            retried: Counter::default(),
            dropped: Counter::default(),
            depth: Counter::default(),
            latency: Default::default(),
            latency_sum_micros: Counter::default(),
        }
    }

    /// Records that the sink acknowledged a batch after `took`.
    pub fn observe_latency(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.latency[bucket].add(1);
        self.latency_sum_micros.add(took.as_micros() as u64);
    }

    /// Batches acknowledged so far.
    pub fn batches(&self) -> u64 {
        self.latency.iter().map(Counter::get).sum()
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let sink = self.sink;
        let mut out = String::new();
        for (name, help, kind, value) in [
            (
                "bridge_forwarded_total",
                "Messages the sink acknowledged.",
                "counter",
                &self.forwarded,
            ),
            (
                "bridge_retried_total",
                "Messages sent again after a failed send.",
                "counter",
                &self.retried,
            ),
            (
                "bridge_dropped_total",
                "Messages dropped on a full buffer.",
                "counter",
                &self.dropped,
            ),
            (
                "bridge_buffer_depth",
                "Messages accepted and not yet acknowledged.",
                "gauge",
                &self.depth,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            let _ = writeln!(out, "{name}{{sink=\"{sink}\"}} {}", value.get());
        }
        let name = "bridge_sink_latency_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time from sending a batch to its acknowledgement.\n# TYPE {name} histogram"
        );
        let mut cumulative = 0;
        for (bucket, count) in self.latency.iter().enumerate() {
            cumulative += count.get();
            let bound = LATENCY_BUCKETS
                .get(bucket)
                .map_or("+Inf".to_owned(), f64::to_string);
            let _ = writeln!(
                out,
                "{name}_bucket{{sink=\"{sink}\",le=\"{bound}\"}} {cumulative}"
            );
        }
        let sum = self.latency_sum_micros.get() as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{sink=\"{sink}\"}} {sum}");
        let _ = writeln!(out, "{name}_count{{sink=\"{sink}\"}} {cumulative}");
        out
    }
}

/// Serves `metrics` at `GET /metrics` (any path, in fact) on `listener`
/// until the task is dropped.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors, say: wait rather than spin.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_: Request<hyper::body::Incoming>| {
                let body = Full::new(Bytes::from(metrics.render()));
                async move {
                    Response::builder()
                        .header("content-type", "text/plain; version=0.0.4")
                        .body(body)
                }
            });
            if let Err(error) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                warn!("metrics connection: {error}");
            }
        });
    }
}
