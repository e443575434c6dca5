//! Forwards the messages EMQX publishes on chosen topics into another
//! system, a *sink*: another MQTT broker, Kafka, RabbitMQ or Redis Streams.
//!
//! The parts every sink shares are written once here: the `message.publish`
//! handler and its topic filters, a bounded [`buffer`] between the hook and
//! the sink (full: block EMQX's publisher, or drop and count), the
//! [`forwarder`] that sends batches in order, reconnects with backoff and
//! lets a message leave the buffer only once the sink acknowledged it, and
//! the [`metrics`]. A sink only connects and sends: implement [`Sink`] to
//! add one. [`config`] is the command line `main` reads (`bridge --help`),
//! each option also read from a `BRIDGE_*` environment variable.
//!
//! ```no_run
//! use bridge::{Record, Sink, SinkError};
//!
//! /// Prints every message: acknowledged once written.
//! struct Stdout;
//!
//! impl Sink for Stdout {
//!     fn name(&self) -> &'static str {
//!         "stdout"
//!     }
//!     async fn connect(&mut self) -> Result<(), SinkError> {
//!         Ok(())
//!     }
//!     async fn send(&mut self, batch: &[Record]) -> Result<(), SinkError> {
//!         for record in batch {
//!             println!("{} {} {:?}", record.client_id, record.topic, record.payload);
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # async fn run() -> Result<(), exhook_runtime::Error> {
//! let (bridge, forwarder) = bridge::start(Stdout, &bridge::Options::default());
//! let topics = vec![exhook_runtime::TopicFilter::new("sensors/#").unwrap()];
//! bridge::server(bridge, topics).serve().await?;
//! forwarder.flush(std::time::Duration::from_secs(5)).await;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod buffer;
pub mod config;
pub mod forwarder;
pub mod metrics;
pub mod record;
pub mod sink;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use exhook_runtime::event::MessagePublishRequest;
use exhook_runtime::*;

pub use buffer::{Bridge, WhenFull};
pub use forwarder::{Forwarder, Options};
pub use metrics::Metrics;
pub use record::{Record, Template};

/// Why a sink could not connect or send; the forwarder logs it and retries.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Where messages go. The forwarder calls one method at a time, in order:
/// `connect` before the first `send` and after any failed one, then `send`
/// with the next batch.
pub trait Sink: Send + 'static {
    /// A short name for logs and metrics, such as `kafka`.
    fn name(&self) -> &'static str;

    /// Opens (or reopens) the connection.
    fn connect(&mut self) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Delivers `batch`, keeping its order for records of one client id,
    /// and returns `Ok` only once the sink has acknowledged every record
    /// (a Kafka delivery report, a RabbitMQ publisher confirm, an `XADD`
    /// reply, an MQTT `PUBACK`). On `Err` the whole batch is sent again
    /// after a reconnection, so a record may arrive twice, never not at all.
    fn send(&mut self, batch: &[Record]) -> impl Future<Output = Result<(), SinkError>> + Send;
}

/// Puts every message on the configured topics into the bridge's buffer and
/// leaves it unchanged for EMQX.
#[on_message_publish(topic = "sensors/#")]
pub async fn forward(
    msg: &Message,
    request: &MessagePublishRequest,
    State(bridge): State<Bridge>,
) -> Publish {
    bridge
        .accept(Record::from_message(msg, &request.user_props))
        .await;
    Publish::Ignore
}

/// The provider: [`forward()`] on `topics` (advertised to EMQX, so it sends
/// nothing else), into `bridge`.
pub fn server(bridge: Bridge, topics: Vec<TopicFilter>) -> Server {
    Server::new(provider![forward])
        .topics::<forward>(topics)
        .state(bridge)
}

/// Starts forwarding into `sink`: the handlers' end and the forwarder's.
pub fn start<S: Sink>(sink: S, options: &Options) -> (Bridge, Forwarder) {
    let metrics = Arc::new(Metrics::new(sink.name()));
    let bridge = Bridge::new(options.buffer, options.when_full, metrics);
    let forwarder = forwarder::spawn(sink, bridge.clone(), options);
    (bridge, forwarder)
}

/// How long `main` waits, after the server stopped, for the buffer to empty
/// (`--drain-ms`, unless given).
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(5);
