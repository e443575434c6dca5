//! Keeps a table of which clients are online and posts every change to a
//! webhook as JSON.
//!
//! ```text
//! PRESENCE_WEBHOOK_URL=https://hooks.example.net/presence cargo run -p presence
//! PRESENCE_LISTEN=127.0.0.1:9100 cargo run -p presence   # GET /clients
//! ```
//!
//! * `client.connected` marks a client online; `client.disconnected` marks
//!   it offline with EMQX's reason (`normal`, `kicked`, `keepalive_timeout`,
//!   …) and the time. When the end of an old connection is reported after
//!   a new connection of the same client id (a takeover), the client stays
//!   online.
//! * `PRESENCE_WEBHOOK_URL` (`http://` or `https://`, trusting the usual
//!   public certificate authorities and those in `PRESENCE_WEBHOOK_CA`,
//!   a PEM file): each change is posted
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
//! `cargo run -p presence -- --help` lists the options (each also read from
//! the variable named above); `EXHOOK_LISTEN` sets the provider's address
//! (default `127.0.0.1:9000`).

#![warn(missing_docs)]

pub mod status;
pub mod table;
pub mod webhook;

use std::time::{SystemTime, UNIX_EPOCH};

use exhook_runtime::prelude::*;
pub use table::{Change, Entry, Presence};
pub use webhook::{Settings, Webhook};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// `client.connected`: the client is online.
#[on_client_connected]
pub async fn connected(client: &ClientInfo, State(presence): State<Presence>) {
    presence.connected(client, now_ms());
}

/// `client.disconnected`: the client is offline, unless a newer
/// connection of its client id is online.
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
