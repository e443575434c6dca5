//! Forwards messages published on the configured topics to another MQTT
//! broker, keeping topic (with an optional prefix), payload and QoS.
//!
//! ```text
//! cargo run --example bridge_mqtt                       # sensors/# to 127.0.0.1:1883
//! BRIDGE_BROKER=mqtt.example.net:1883 BRIDGE_PREFIX=site-a/ \
//!   BRIDGE_TOPICS='sensors/#,alarms/+' cargo run --example bridge_mqtt
//! ```
//!
//! * `BRIDGE_BROKER`: `host:port` of the other broker (default
//!   `127.0.0.1:1883`); `BRIDGE_USERNAME` / `BRIDGE_PASSWORD` if it wants
//!   them; `BRIDGE_CLIENT_ID` (default `exhook-bridge-<pid>`; set a fixed
//!   one in production: the bridge uses a persistent MQTT session, so that
//!   messages not yet acknowledged when a connection breaks are sent again,
//!   and the other broker keeps that session under this id).
//! * `BRIDGE_TOPICS`: comma-separated filters (default `sensors/#`),
//!   advertised to EMQX so that it sends nothing else.
//! * `BRIDGE_PREFIX`: put in front of every forwarded topic, for example
//!   `site-a/`. When the other broker is this EMQX itself, a prefix outside
//!   `BRIDGE_TOPICS` keeps messages from going round in a loop.
//! * `BRIDGE_BUFFER`: how many messages wait while the other broker is
//!   unreachable (default 10000). The hook never waits for the other
//!   broker: EMQX's publishers are not slowed down; when the buffer is full,
//!   further messages are dropped and counted in the log.
//! * The connection is retried (0.1 s, doubling up to 5 s) until it is up;
//!   QoS 1 and 2 messages not yet acknowledged are sent again after a
//!   reconnection. On SIGTERM the buffer is flushed (up to 5 s) before exit.
//!
//! `EXHOOK_LISTEN` sets the provider's address (default `127.0.0.1:9000`).

pub mod link;

use std::process::ExitCode;
use std::time::Duration;

use exhook_runtime::*;
pub use link::{Bridge, Target};
use tracing::info;

#[on_message_publish(topic = "sensors/#")]
pub async fn forward(msg: &Message, State(bridge): State<Bridge>) -> Publish {
    bridge.forward(msg);
    Publish::Ignore
}

/// The server: `forward` on `topics`, into `bridge`.
pub fn server(bridge: Bridge, topics: Vec<TopicFilter>) -> Server {
    Server::new(provider![forward])
        .topics::<forward>(topics)
        .state(bridge)
}

/// `a/#,b/+` as filters.
pub fn parse_topics(list: &str) -> Result<Vec<TopicFilter>, String> {
    list.split(',')
        .map(str::trim)
        .map(|f| TopicFilter::new(f).map_err(|e| format!("topic filter {f:?}: {e}")))
        .collect()
}

/// The configuration from the environment.
pub fn config() -> Result<(Target, Vec<TopicFilter>), String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let broker = var("BRIDGE_BROKER").unwrap_or_else(|| "127.0.0.1:1883".into());
    let broker = broker.strip_prefix("mqtt://").unwrap_or(&broker);
    let (host, port) = broker
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host.to_owned(), port.parse().ok()?)))
        .ok_or(format!("BRIDGE_BROKER={broker:?}: `host:port` is needed"))?;
    let buffer = match var("BRIDGE_BUFFER") {
        None => 10_000,
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(format!("BRIDGE_BUFFER={v:?}: a positive number is needed"))?,
    };
    let target = Target {
        host,
        port,
        client_id: var("BRIDGE_CLIENT_ID")
            .unwrap_or_else(|| format!("exhook-bridge-{}", std::process::id())),
        credentials: var("BRIDGE_USERNAME")
            .map(|user| (user, var("BRIDGE_PASSWORD").unwrap_or_default())),
        prefix: var("BRIDGE_PREFIX").unwrap_or_default(),
        buffer,
    };
    let topics = parse_topics(&var("BRIDGE_TOPICS").unwrap_or_else(|| "sensors/#".into()))?;
    Ok((target, topics))
}

async fn run() -> Result<(), String> {
    let (target, topics) = config()?;
    info!(
        "forwarding {} to {}:{} with prefix {:?}",
        topics
            .iter()
            .map(TopicFilter::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        target.host,
        target.port,
        target.prefix
    );
    let (bridge, connection) = link::connect(&target);
    let served = server(bridge.clone(), topics).serve().await;
    connection.close(Duration::from_secs(5)).await;
    info!(
        "stopped; {} messages dropped on a full buffer",
        bridge.dropped()
    );
    served.map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bridge_mqtt: {error}");
            ExitCode::FAILURE
        }
    }
}
