//! Call metrics, kept in atomics and rendered in Prometheus' text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

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

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

/// Counters of one server.
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

    /// Everything, in Prometheus' text exposition format.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP exhook_calls_total Hook calls received, by hook point and protocol version.\n",
        );
        out.push_str("# TYPE exhook_calls_total counter\n");
        for hook in Hook::ALL {
            for version in Version::ALL {
                let n = self.calls[hook.index()][version as usize].load(Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "exhook_calls_total{{hook=\"{hook}\",version=\"{version}\"}} {n}"
                    );
                }
            }
        }
        out.push_str(
            "# HELP exhook_outcomes_total Hook calls answered, by hook point and outcome.\n",
        );
        out.push_str("# TYPE exhook_outcomes_total counter\n");
        for hook in Hook::ALL {
            for (name, outcome) in OUTCOMES {
                let n = self.outcomes[hook.index()][outcome as usize].load(Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "exhook_outcomes_total{{hook=\"{hook}\",outcome=\"{name}\"}} {n}"
                    );
                }
            }
        }
        out.push_str(
            "# HELP exhook_call_duration_seconds Time from request to answer, by hook point.\n",
        );
        out.push_str("# TYPE exhook_call_duration_seconds histogram\n");
        for hook in Hook::ALL {
            let histogram = &self.latency[hook.index()];
            let count = histogram.count.load(Relaxed);
            if count == 0 {
                continue;
            }
            let mut cumulative = 0;
            for (bound, bucket) in BUCKETS.iter().zip(&histogram.buckets) {
                cumulative += bucket.load(Relaxed);
                let _ = writeln!(
                    out,
                    "exhook_call_duration_seconds_bucket{{hook=\"{hook}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "exhook_call_duration_seconds_bucket{{hook=\"{hook}\",le=\"+Inf\"}} {count}"
            );
            let sum = histogram.sum_nanos.load(Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "exhook_call_duration_seconds_sum{{hook=\"{hook}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "exhook_call_duration_seconds_count{{hook=\"{hook}\"}} {count}"
            );
        }
        out.push_str("# HELP exhook_in_flight Hook calls being handled now.\n");
        out.push_str("# TYPE exhook_in_flight gauge\n");
        let _ = writeln!(out, "exhook_in_flight {}", self.in_flight.load(Relaxed));
        out.push_str("# HELP exhook_handler_panics_total Handler panics, each failing its call with INTERNAL.\n");
        out.push_str("# TYPE exhook_handler_panics_total counter\n");
        let _ = writeln!(
            out,
            "exhook_handler_panics_total {}",
            self.panics.load(Relaxed)
        );
        out
    }
}

/// Serves `GET /metrics` on `listener` until the process ends.
pub(crate) async fn serve(listener: tokio::net::TcpListener, metrics: std::sync::Arc<Metrics>) {
    use hyper::service::service_fn;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                let metrics = metrics.clone();
                async move {
                    let (status, body) = if request.uri().path() == "/metrics" {
                        (http::StatusCode::OK, metrics.render())
                    } else {
                        (http::StatusCode::NOT_FOUND, "see /metrics\n".to_owned())
                    };
                    http::Response::builder()
                        .status(status)
                        .header("content-type", "text/plain; version=0.0.4; charset=utf-8")
                        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}
