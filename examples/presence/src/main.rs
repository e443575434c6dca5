//! `presence`: serve, keeping the table and posting its changes.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use presence::{Presence, Settings, webhook};
use tracing::info;

/// Keeps a table of which MQTT clients are online in EMQX and posts every
/// change to a webhook as JSON. Serves on EXHOOK_LISTEN (default
/// 127.0.0.1:9000).
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// Where each change is posted (http:// or https://); without it, the
    /// table is only kept.
    #[arg(long, env = "PRESENCE_WEBHOOK_URL", value_parser = webhook::parse_url)]
    webhook_url: Option<reqwest::Url>,
    /// A PEM file of certificate authorities trusted for an https://
    /// webhook, besides the usual public ones.
    #[arg(long, env = "PRESENCE_WEBHOOK_CA", value_name = "PEM_FILE")]
    webhook_ca: Option<PathBuf>,
    /// Milliseconds per attempt, connection included.
    #[arg(long, env = "PRESENCE_WEBHOOK_TIMEOUT_MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(1..))]
    webhook_timeout_ms: u64,
    /// Attempts after the first, for timeouts, connection errors and 5xx
    /// answers (pauses from 0.1 s, doubling).
    #[arg(long, env = "PRESENCE_WEBHOOK_RETRIES", default_value_t = 3)]
    webhook_retries: u32,
    /// Changes that may wait to be posted; when full, changes are dropped
    /// (and counted), never the hooks delayed.
    #[arg(long, env = "PRESENCE_WEBHOOK_QUEUE", default_value = "10000")]
    webhook_queue: NonZeroUsize,
    /// Serve the table as JSON at GET /clients on this address.
    #[arg(long, env = "PRESENCE_LISTEN")]
    listen: Option<SocketAddr>,
}

impl Cli {
    fn webhook(&self) -> anyhow::Result<Option<Settings>> {
        let Some(url) = self.webhook_url.clone() else {
            return Ok(None);
        };
        let roots = match &self.webhook_ca {
            None => Vec::new(),
            Some(path) => {
                let pem = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
                reqwest::Certificate::from_pem_bundle(&pem)
                    .with_context(|| format!("{}: PEM certificates", path.display()))?
            }
        };
        Ok(Some(Settings {
            url,
            timeout: Duration::from_millis(self.webhook_timeout_ms),
            retries: self.webhook_retries,
            queue: self.webhook_queue.get(),
            roots,
        }))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    exhook_app_support::init_logging();
    let webhook = match cli.webhook()? {
        Some(settings) => {
            info!("posting changes to {}", settings.url);
            Some(webhook::start(settings).context("webhook client")?)
        }
        None => {
            info!("PRESENCE_WEBHOOK_URL is not set: keeping the table only");
            None
        }
    };
    let presence = Presence::new(webhook.clone());
    if let Some(address) = cli.listen {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("PRESENCE_LISTEN={address}"))?;
        info!("table at http://{}/clients", listener.local_addr()?);
        presence::status::serve(listener, presence.clone());
    }
    let served = presence::server(presence.clone()).serve().await;
    info!(
        "stopped with {} clients online; {} changes dropped on a full webhook queue",
        presence.online(),
        webhook.map_or(0, |w| w.dropped())
    );
    Ok(served?)
}
