//! Forwards the messages EMQX publishes on chosen topics into another MQTT
//! broker, Kafka, RabbitMQ or Redis Streams; see the README's `bridge`
//! section for the variables.
//!
//! ```text
//! BRIDGE_SINK=kafka BRIDGE_KAFKA_BROKERS=127.0.0.1:9092 cargo run -p bridge --features kafka
//! BRIDGE_SINK=redis BRIDGE_TOPICS='sensors/#,alarms/+' cargo run -p bridge
//! ```

use std::process::ExitCode;

use bridge::config::{Config, Env};
use bridge::sink::{self, Settings};
use bridge::{Forwarder, Sink};
use exhook_runtime::TopicFilter;
use tracing::info;

async fn run() -> Result<(), String> {
    let config = Config::from_env(&Env::process())?;
    info!(
        "forwarding {} to {}",
        config
            .topics
            .iter()
            .map(TopicFilter::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        config.sink.describe()
    );
    match config.sink.clone() {
        Settings::Mqtt(s) => serve(sink::mqtt::Mqtt::new(s, config.options.batch), config).await,
        #[cfg(feature = "kafka")]
        Settings::Kafka(s) => serve(sink::kafka::Kafka::new(s), config).await,
        Settings::Amqp(s) => serve(sink::amqp::Amqp::new(s), config).await,
        Settings::Redis(s) => serve(sink::redis::Redis::new(s), config).await,
    }
}

/// Serves until SIGTERM, then gives the sink the drain time to take what
/// is left in the buffer.
async fn serve<S: Sink>(sink: S, config: Config) -> Result<(), String> {
    let (bridge, forwarder): (_, Forwarder) = bridge::start(sink, &config.options);
    let metrics = bridge.metrics_handle();
    let exposition = match &config.metrics_listen {
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|e| format!("BRIDGE_METRICS_LISTEN={address}: {e}"))?;
            info!(
                "metrics on http://{}/metrics",
                listener.local_addr().map_err(|e| e.to_string())?
            );
            Some(tokio::spawn(bridge::metrics::serve(
                listener,
                metrics.clone(),
            )))
        }
        None => None,
    };
    let served = bridge::server(bridge, config.topics).serve().await;
    let left = forwarder.flush(config.drain).await;
    info!(
        "stopped: {} forwarded, {} retried, {} dropped, {left} not delivered",
        metrics.forwarded.get(),
        metrics.retried.get(),
        metrics.dropped.get()
    );
    if let Some(task) = exposition {
        task.abort();
    }
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
            eprintln!("bridge: {error}");
            ExitCode::FAILURE
        }
    }
}
