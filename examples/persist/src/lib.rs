//! Stores every message published on the configured topics in SQLite, or in
//! PostgreSQL when `DATABASE_URL` names one, and prints what was stored.
//!
//! ```text
//! cargo run -p persist                                   # sensors/# into messages.db
//! PERSIST_TOPICS='sensors/#,alarms/+' cargo run -p persist
//! DATABASE_URL=postgres://user:pass@localhost/iot cargo run -p persist
//! cargo run -p persist -- --query 'sensors/+/temp' --since 1h
//! ```
//!
//! * `PERSIST_TOPICS`: comma-separated topic filters (default `sensors/#`),
//!   advertised to EMQX so that it sends nothing else.
//! * `DATABASE_URL`: a `postgres://` URL; without it, `PERSIST_DB` names the
//!   SQLite file (default `messages.db`). Both get the same table,
//!   `messages (id, message_id, topic, payload, qos, clientid, timestamp)`,
//!   created on first use; `timestamp` is EMQX's receive time in
//!   milliseconds since the Unix epoch.
//! * Handlers put each message on a bounded queue (`PERSIST_QUEUE` rows,
//!   default 10000) and answer `IGNORE` at once; a writer stores them in
//!   transactions of up to `PERSIST_BATCH` rows (default 500). When the
//!   queue is full, handlers wait: EMQX's publisher is slowed down, no
//!   message is dropped. While the database is unreachable the writer
//!   retries.
//! * On SIGTERM or Ctrl-C the server stops taking calls, finishes those in
//!   flight, and every message it accepted is written before the process
//!   exits.
//! * `--query FILTER [--since WHEN]` prints the stored messages whose topic
//!   matches `FILTER`, oldest first, as tab-separated `timestamp`,
//!   `clientid`, `qos`, `topic`, `payload` (text, or `0x…` hex when not
//!   UTF-8). `WHEN` is a duration ago (`90s`, `15m`, `2h`, `7d`) or an RFC
//!   3339 time (`2026-11-25T08:00:00Z`); without it, everything.
//!
//! `cargo run -p persist -- --help` lists the options (each also read from
//! the variable named above); `EXHOOK_LISTEN` sets the address (default
//! `127.0.0.1:9000`).

#![warn(missing_docs)]

pub mod queue;
pub mod store;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use exhook_runtime::prelude::*;
pub use queue::{Closed, Queue, WriteError};
pub use store::{Row, Store, StoreError};

/// `message.publish`: queues the message for the writer and lets it pass
/// unchanged.
#[on_message_publish(topic = "sensors/#")]
pub async fn persist(msg: &Message, State(queue): State<Queue>) -> Result<Publish, Closed> {
    queue.push(Row::from(msg)).await?;
    Ok(Publish::Ignore)
}

/// The server: `persist` on `topics`, feeding `queue`.
pub fn server(queue: Queue, topics: Vec<TopicFilter>) -> Server {
    Server::new(provider![persist])
        .topics::<persist>(topics)
        .state(queue)
}

/// A `--since` that is neither a duration nor a time.
#[derive(Debug, thiserror::Error)]
#[error("give a duration ago (`15m`, `2h`) or an RFC 3339 time (`2026-11-25T08:00:00Z`)")]
pub struct SinceError;

/// `--since` as milliseconds since the epoch.
pub fn parse_since(text: &str, now: SystemTime) -> Result<i64, SinceError> {
    let at = match humantime::parse_duration(text) {
        Ok(ago) => now.checked_sub(ago).unwrap_or(UNIX_EPOCH),
        Err(_) => humantime::parse_rfc3339_weak(text).map_err(|_| SinceError)?,
    };
    let ms = at
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis();
    Ok(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// One printed line of `--query`.
pub fn format_row(row: &Row) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(row.timestamp).unwrap_or(0));
    let payload = match std::str::from_utf8(&row.payload) {
        Ok(text) if !text.contains(['\t', '\n']) => text.to_owned(),
        _ => {
            let hex: String = row.payload.iter().map(|b| format!("{b:02x}")).collect();
            format!("0x{hex}")
        }
    };
    format!(
        "{}\t{}\t{}\t{}\t{}",
        humantime::format_rfc3339_millis(at),
        row.clientid,
        row.qos,
        row.topic,
        payload
    )
}
