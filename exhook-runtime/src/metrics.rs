//! Call metrics, kept in atomics and encoded in the OpenMetrics text format
//! by `prometheus-client`.

use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::text;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use tokio::net::TcpListener;

use crate::accept::Acceptor;
use crate::shutdown::ShutdownHandle;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::hook::Hook;
use crate::proto::v3::{EmptySuccess, LoadedResponse, ValuedResponse, valued_response};
use crate::version::Version;

/// How a call ended, as counted in `exhook_outcomes_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Outcome {
    /// A notification or load answered.
    Ok,
    Allow,
    Deny,
    Ignore,
    Continue,
    Stop,
    Drop,
    Error,
    Timeout,
}

const OUTCOMES: [(&str, Outcome); 9] = [
    ("ok", Outcome::Ok),
    ("allow", Outcome::Allow),
    ("deny", Outcome::Deny),
    ("ignore", Outcome::Ignore),
    ("continue", Outcome::Continue),
    ("stop", Outcome::Stop),
    ("drop", Outcome::Drop),
    ("error", Outcome::Error),
    ("timeout", Outcome::Timeout),
];

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The outcome a response stands for.
pub trait Classify {
    fn outcome(&self) -> Outcome;
}

impl Classify for EmptySuccess {
    fn outcome(&self) -> Outcome {
        Outcome::Ok
    }
}

impl Classify for LoadedResponse {
    fn outcome(&self) -> Outcome {
        Outcome::Ok
    }
}

impl Classify for ValuedResponse {
    fn outcome(&self) -> Outcome {
        use valued_response::{ResponsedType, Value};
        match (self.r#type(), &self.value) {
            (ResponsedType::Ignore, _) => Outcome::Ignore,
            (ResponsedType::Continue, _) => Outcome::Continue,
            (ResponsedType::StopAndReturn, Some(Value::BoolResult(true))) => Outcome::Allow,
            (ResponsedType::StopAndReturn, Some(Value::BoolResult(false))) => Outcome::Deny,
            (ResponsedType::StopAndReturn, Some(Value::Message(message)))
                if message
                    .headers
                    .get("allow_publish")
                    .is_some_and(|v| v == "false") =>
            {
                Outcome::Drop
            }
            (ResponsedType::StopAndReturn, _) => Outcome::Stop,
        }
    }
}

#[derive(Default, Debug)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

/// Counters of one server.
#[derive(Debug)]
pub(crate) struct Metrics {
    calls: [[AtomicU64; 3]; Hook::COUNT],
    outcomes: [[AtomicU64; OUTCOMES.len()]; Hook::COUNT],
    latency: [Histogram; Hook::COUNT],
    in_flight: AtomicI64,
    panics: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            calls: Default::default(),
            outcomes: Default::default(),
            latency: std::array::from_fn(|_| Histogram::default()),
            in_flight: AtomicI64::new(0),
            panics: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    pub(crate) fn started(&self, hook: Hook, version: Version) {
        self.calls[hook.index()][version as usize].fetch_add(1, Relaxed);
        self.in_flight.fetch_add(1, Relaxed);
    }

    pub(crate) fn finished(&self, hook: Hook, outcome: Outcome, elapsed: Duration) {
        self.in_flight.fetch_sub(1, Relaxed);
        self.outcomes[hook.index()][outcome as usize].fetch_add(1, Relaxed);
        let histogram = &self.latency[hook.index()];
        let seconds = elapsed.as_secs_f64();
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            histogram.buckets[bucket].fetch_add(1, Relaxed);
        }
        histogram.count.fetch_add(1, Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        histogram.sum_nanos.fetch_add(nanos, Relaxed);
    }

    pub(crate) fn panicked(&self) {
        self.panics.fetch_add(1, Relaxed);
    }
}

/// The hand-off to `prometheus-client`: counters stay in the atomics above,
/// which the calls touch without a lock or a label lookup (a `Family` would
/// hash its labels on every call), and are encoded from them at each scrape.
impl Collector for Metrics {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let mut family = encoder.encode_descriptor(
            "exhook_calls",
            "Hook calls received, by hook point and protocol version.",
            None,
            MetricType::Counter,
        )?;
        for hook in Hook::ALL {
            for version in Version::ALL {
                let n = self.calls[hook.index()][version as usize].load(Relaxed);
                if n > 0 {
                    let labels = [("hook", hook.to_string()), ("version", version.to_string())];
                    family
                        .encode_family(&labels)?
                        .encode_counter::<NoLabelSet, _, u64>(&n, None)?;
                }
            }
        }
        let mut family = encoder.encode_descriptor(
            "exhook_outcomes",
            "Hook calls answered, by hook point and outcome.",
            None,
            MetricType::Counter,
        )?;
        for hook in Hook::ALL {
            for (name, outcome) in OUTCOMES {
                let n = self.outcomes[hook.index()][outcome as usize].load(Relaxed);
                if n > 0 {
                    let labels = [("hook", hook.to_string()), ("outcome", name.to_owned())];
                    family
                        .encode_family(&labels)?
                        .encode_counter::<NoLabelSet, _, u64>(&n, None)?;
                }
            }
        }
        let mut family = encoder.encode_descriptor(
            "exhook_call_duration_seconds",
            "Time from request to answer, by hook point.",
            None,
            MetricType::Histogram,
        )?;
        for hook in Hook::ALL {
            let histogram = &self.latency[hook.index()];
            let count = histogram.count.load(Relaxed);
            if count == 0 {
                continue;
            }
            // Counts per bucket; the encoder sums them up.
            let mut buckets: Vec<(f64, u64)> = BUCKETS
                .iter()
                .zip(&histogram.buckets)
                .map(|(bound, bucket)| (*bound, bucket.load(Relaxed)))
                .collect();
            let counted: u64 = buckets.iter().map(|(_, n)| n).sum();
            buckets.push((f64::INFINITY, count.saturating_sub(counted)));
            let sum = histogram.sum_nanos.load(Relaxed) as f64 / 1e9;
            family
                .encode_family(&[("hook", hook.to_string())])?
                .encode_histogram::<NoLabelSet>(sum, count, &buckets, None)?;
        }
        let in_flight = ConstGauge::new(self.in_flight.load(Relaxed));
        in_flight.encode(encoder.encode_descriptor(
            "exhook_in_flight",
            "Hook calls being handled now.",
            None,
            in_flight.metric_type(),
        )?)?;
        let panics = ConstCounter::new(self.panics.load(Relaxed));
        panics.encode(encoder.encode_descriptor(
            "exhook_handler_panics",
            "Handler panics, each failing its call with INTERNAL.",
            None,
            panics.metric_type(),
        )?)?;
        Ok(())
    }
}

/// At most this many scrapes at once; Prometheus makes one at a time.
const MAX_CONNECTIONS: usize = 64;
/// A scraper must send its request headers within this time…
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// …and the whole exchange take no longer than this.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `GET /metrics` on `listener` until `stop` is requested. Each
/// connection serves one request, within [`CONNECTION_TIMEOUT`].
pub(crate) async fn serve(listener: TcpListener, metrics: Arc<Metrics>, stop: ShutdownHandle) {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(metrics));
    let registry = Arc::new(registry);
    let acceptor = Acceptor::new(listener, MAX_CONNECTIONS, "metrics");
    while let Some((stream, _, slot)) = acceptor.next(&stop).await {
        let registry = registry.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                std::future::ready(respond(request.uri().path(), &registry))
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_TIMEOUT, connection).await;
        });
    }
}

fn respond(path: &str, registry: &Registry) -> Result<http::Response<Full<Bytes>>, http::Error> {
    let mut body = String::new();
    let status = if path == "/metrics" && text::encode(&mut body, registry).is_ok() {
        http::StatusCode::OK
    } else {
        body = "see /metrics\n".to_owned();
        http::StatusCode::NOT_FOUND
    };
    http::Response::builder()
        .status(status)
        .header(
            "content-type",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )
        .body(Full::new(Bytes::from(body)))
}
