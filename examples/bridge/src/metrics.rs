//! The bridge's counters, encoded by `prometheus-client` in the OpenMetrics
//! text format, and optionally served over HTTP at `GET /metrics`.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Upper bounds of the latency histogram's buckets, in seconds.
const LATENCY_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// The media type of the OpenMetrics text format.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What the bridge did, for one sink: each metric carries the label
/// `sink="<name>"`.
#[derive(Debug)]
pub struct Metrics {
    /// Records the sink acknowledged: `bridge_forwarded_total`.
    pub forwarded: Counter,
    /// Records sent again after a failed send: `bridge_retried_total`.
    pub retried: Counter,
    /// Records dropped on a full (or closed) buffer: `bridge_dropped_total`.
    pub dropped: Counter,
    /// Records accepted and not yet acknowledged: `bridge_buffer_depth`.
    pub depth: Gauge<u64, AtomicU64>,
    /// Batches sent, by how long the sink took to acknowledge them:
    /// `bridge_sink_latency_seconds`.
    latency: Histogram,
    /// The metrics above, for encoding.
    registry: Registry,
}

impl Metrics {
    /// Zeroes, labelled with the sink's name.
    pub fn new(sink: &'static str) -> Metrics {
        let forwarded = Counter::default();
        let retried = Counter::default();
        let dropped = Counter::default();
        let depth = Gauge::default();
        let latency = Histogram::new(LATENCY_BUCKETS);
        let mut registry =
            Registry::with_labels([(Cow::Borrowed("sink"), Cow::Borrowed(sink))].into_iter());
        // The registry adds the full stop to each help text, and `_total`
        // to each counter's name.
        registry.register(
            "bridge_forwarded",
            "Messages the sink acknowledged",
            forwarded.clone(),
        );
        registry.register(
            "bridge_retried",
            "Messages sent again after a failed send",
            retried.clone(),
        );
        registry.register(
            "bridge_dropped",
            "Messages dropped on a full buffer",
            dropped.clone(),
        );
        registry.register(
            "bridge_buffer_depth",
            "Messages accepted and not yet acknowledged",
            depth.clone(),
        );
        registry.register(
            "bridge_sink_latency_seconds",
            "Time from sending a batch to its acknowledgement",
            latency.clone(),
        );
        Metrics {
            forwarded,
            retried,
            dropped,
            depth,
            latency,
            registry,
        }
    }

    /// Records that the sink acknowledged a batch after `took`.
    pub fn observe_latency(&self, took: Duration) {
        self.latency.observe(took.as_secs_f64());
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a `String` cannot fail.
        let _ = text::encode(&mut out, &self.registry);
        out
    }
}

/// The HTTP routes: `GET /metrics`.
pub fn router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(exposition))
        .with_state(metrics)
}

async fn exposition(State(metrics): State<Arc<Metrics>>) -> Response {
    (
        StatusCode::OK,
        [(CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS))],
        metrics.render(),
    )
        .into_response()
}

/// Serves `metrics` on `listener` until the returned task is aborted or
/// the process ends.
pub fn serve(listener: TcpListener, metrics: Arc<Metrics>) -> JoinHandle<()> {
    let server = axum::serve(listener, router(metrics));
    tokio::spawn(async move {
        if let Err(error) = server.await {
            tracing::error!("metrics endpoint: {error}");
        }
    })
}
