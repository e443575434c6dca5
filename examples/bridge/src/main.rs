//! `bridge`: forward the messages on the chosen topics into the chosen sink.

use anyhow::Context;
use bridge::config::Config;
use bridge::sink::{self, Settings};
use bridge::{Forwarder, Sink};
use clap::Parser;
use exhook_runtime::TopicFilter;
use tracing::info;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    exhook_app_support::init_logging();
    let settings = config.sink_settings()?;
    let topics: Vec<_> = config.topics.iter().map(TopicFilter::as_str).collect();
    info!(
        "forwarding {} to {}",
        topics.join(", "),
        settings.describe()
    );
    match settings {
        Settings::Mqtt(s) => serve(sink::mqtt::Mqtt::new(s, config.batch.get()), config).await,
        #[cfg(feature = "kafka")]
        Settings::Kafka(s) => serve(sink::kafka::Kafka::new(s), config).await,
        Settings::Amqp(s) => serve(sink::amqp::Amqp::new(s), config).await,
        Settings::Redis(s) => serve(sink::redis::Redis::new(s), config).await,
    }
}

/// Serves until SIGTERM, then gives the sink the drain time to take what
/// is left in the buffer.
async fn serve<S: Sink>(sink: S, config: Config) -> anyhow::Result<()> {
    let (bridge, forwarder): (_, Forwarder) = bridge::start(sink, &config.options());
    let metrics = bridge.metrics_handle();
    let exposition = match &config.metrics_listen {
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("BRIDGE_METRICS_LISTEN={address}"))?;
            info!("metrics on http://{}/metrics", listener.local_addr()?);
            Some(bridge::metrics::serve(listener, metrics.clone()))
        }
        None => None,
    };
    let served = bridge::server(bridge, config.topics.clone()).serve().await;
    let left = forwarder.flush(config.drain()).await;
    info!(
        "stopped: {} forwarded, {} retried, {} dropped, {left} not delivered",
        metrics.forwarded.get(),
        metrics.retried.get(),
        metrics.dropped.get()
    );
    if let Some(task) = exposition {
        task.abort();
    }
    Ok(served?)
}
