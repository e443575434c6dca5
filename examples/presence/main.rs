//! Keeps a table of which clients are online and posts every change to a
//! webhook as JSON.
//!
//! ```text
//! PRESENCE_WEBHOOK_URL=http://127.0.0.1:8080/presence cargo run --example presence
//! PRESENCE_LISTEN=127.0.0.1:9100 cargo run --example presence   # GET /clients
//! ```
//!
//! * `client.connected` marks a client online; `client.disconnected` marks
//!   it offline with EMQX's reason (`normal`, `kicked`, `keepalive_timeout`,
//!   …) and the time. When the end of an old connection is reported after
//!   a new connection of the same client id (a takeover), the client stays
//!   online.
//! * `PRESENCE_WEBHOOK_URL` (an `http://` URL): each change is posted
//!   there, in order, as `{"event":"connected", "clientid", "username",
//!   "peerhost", "node", "timestamp"}` or `{"event":"disconnected", …,
//!   "reason", "connected_at", "offline"}` (times in milliseconds since the
//!   Unix epoch). Each attempt has `PRESENCE_WEBHOOK_TIMEOUT_MS` (default
//!   2000); timeouts, connection errors and 5xx answers are retried
//!   `PRESENCE_WEBHOOK_RETRIES` times (default 3, pauses from 0.1 s
//!   doubling); a 4xx answer is not retried.
//! * The hooks never wait for the webhook: changes go through a queue of
//!   `PRESENCE_WEBHOOK_QUEUE` (default 10000); when it is full, changes are
//!   dropped and counted in the log, the table stays right.
//! * `PRESENCE_LISTEN`: serve the table as JSON at `GET /clients`.
//!
//! `EXHOOK_LISTEN` sets the provider's address (default `127.0.0.1:9000`).

pub mod status;
pub mod table;
pub mod webhook;

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use exhook_runtime::event::ClientDisconnectedRequest;
use exhook_runtime::*;
pub use table::{Change, Presence};
use tracing::info;
pub use webhook::Settings;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

#[on_client_connected]
pub async fn connected(client: &ClientInfo, State(presence): State<Presence>) {
    presence.connected(client, now_ms());
}

#[on_client_disconnected]
pub async fn disconnected(
    client: &ClientInfo,
    request: &ClientDisconnectedRequest,
    State(presence): State<Presence>,
) {
    presence.disconnected(client, &request.reason, now_ms());
}

/// The server for a table.
pub fn server(presence: Presence) -> Server {
    Server::new(provider![connected, disconnected]).state(presence)
}

/// The webhook settings from the environment; `None` without a URL.
pub fn settings() -> Result<Option<Settings>, String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(url) = var("PRESENCE_WEBHOOK_URL") else {
        return Ok(None);
    };
    let number = |name: &str, default: u64| match var(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| format!("{name}={v:?}: a number is needed")),
    };
    Ok(Some(Settings {
        url: webhook::parse_url(&url)?,
        timeout: Duration::from_millis(number("PRESENCE_WEBHOOK_TIMEOUT_MS", 2000)?.max(1)),
        retries: u32::try_from(number("PRESENCE_WEBHOOK_RETRIES", 3)?).unwrap_or(u32::MAX),
        queue: usize::try_from(number("PRESENCE_WEBHOOK_QUEUE", 10_000)?.max(1))
            .unwrap_or(usize::MAX),
    }))
}

async fn run() -> Result<(), String> {
    let webhook = match settings()? {
        Some(settings) => {
            info!("posting changes to {}", settings.url);
            Some(webhook::start(settings))
        }
        None => {
            info!("PRESENCE_WEBHOOK_URL is not set: keeping the table only");
            None
        }
    };
    let presence = Presence::new(webhook.clone());
    if let Ok(address) = std::env::var("PRESENCE_LISTEN") {
        let listener = tokio::net::TcpListener::bind(&address)
            .await
            .map_err(|e| format!("PRESENCE_LISTEN={address}: {e}"))?;
        info!(
            "table at http://{}/clients",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        status::serve(listener, presence.clone());
    }
    let served = server(presence.clone()).serve().await;
    info!(
        "stopped with {} clients online; {} changes dropped on a full webhook queue",
        presence.online(),
        webhook.map_or(0, |w| w.dropped())
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
            eprintln!("presence: {error}");
            ExitCode::FAILURE
        }
    }
}
