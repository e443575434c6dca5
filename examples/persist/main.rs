//! Stores every message published on the configured topics in SQLite, or in
//! PostgreSQL when `DATABASE_URL` names one, and prints what was stored.
//!
//! ```text
//! cargo run --example persist                                   # sensors/# into messages.db
//! PERSIST_TOPICS='sensors/#,alarms/+' cargo run --example persist
//! DATABASE_URL=postgres://user:pass@localhost/iot cargo run --example persist
//! cargo run --example persist -- --query 'sensors/+/temp' --since 1h
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
//! `EXHOOK_LISTEN` sets the address (default `127.0.0.1:9000`).

pub mod queue;
pub mod store;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use exhook_runtime::*;
pub use queue::{Closed, Queue};
pub use store::{Row, Store};
use tracing::info;

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

/// Configuration from the environment.
pub struct Config {
    pub topics: Vec<TopicFilter>,
    pub database_url: Option<String>,
    pub sqlite_path: PathBuf,
    pub queue: usize,
    pub batch: usize,
}

impl Config {
    pub fn from_env() -> Result<Config, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let number = |name: &str, default: usize| match var(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(format!("{name}={v:?}: a positive number is needed")),
        };
        Ok(Config {
            topics: parse_topics(&var("PERSIST_TOPICS").unwrap_or_else(|| "sensors/#".into()))?,
            database_url: var("DATABASE_URL"),
            sqlite_path: var("PERSIST_DB")
                .unwrap_or_else(|| "messages.db".into())
                .into(),
            queue: number("PERSIST_QUEUE", 10_000)?,
            batch: number("PERSIST_BATCH", 500)?,
        })
    }
}

/// `a/#,b/+` as filters.
pub fn parse_topics(list: &str) -> Result<Vec<TopicFilter>, String> {
    list.split(',')
        .map(str::trim)
        .map(|f| TopicFilter::new(f).map_err(|e| format!("topic filter {f:?}: {e}")))
        .collect()
}

/// `--since` as milliseconds since the epoch.
pub fn parse_since(text: &str, now: SystemTime) -> Result<i64, String> {
    let at = match humantime::parse_duration(text) {
        Ok(ago) => now.checked_sub(ago).unwrap_or(UNIX_EPOCH),
        Err(_) => humantime::parse_rfc3339_weak(text).map_err(|_| {
            format!("--since {text:?}: give a duration ago (`15m`, `2h`) or an RFC 3339 time")
        })?,
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

async fn query(config: &Config, filter: &str, since: i64) -> Result<(), String> {
    let filter = TopicFilter::new(filter).map_err(|e| format!("--query {filter:?}: {e}"))?;
    let store = Store::open(config.database_url.as_deref(), &config.sqlite_path).await?;
    let mut out = std::io::stdout().lock();
    for row in store.since(since).await? {
        if filter.matches(&row.topic) {
            use std::io::Write;
            writeln!(out, "{}", format_row(&row)).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

async fn serve(config: Config) -> Result<(), String> {
    let store = Store::open(config.database_url.as_deref(), &config.sqlite_path).await?;
    info!(
        "storing {} in {}",
        config
            .topics
            .iter()
            .map(TopicFilter::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        match &config.database_url {
            Some(_) => "PostgreSQL".to_owned(),
            None => config.sqlite_path.display().to_string(),
        }
    );
    let (queue, writer) = queue::start(store, config.queue, config.batch);
    let served = server(queue, config.topics).serve().await;
    // The server has answered its last call: write what it accepted.
    let written = writer.finish().await?;
    info!("{written} messages written");
    served.map_err(|e| e.to_string())
}

async fn run() -> Result<(), String> {
    let config = Config::from_env()?;
    let mut args = std::env::args().skip(1);
    let (mut filter, mut since) = (None, 0);
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--query" => filter = Some(value("--query")?),
            "--since" => since = parse_since(&value("--since")?, SystemTime::now())?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    match filter {
        Some(filter) => query(&config, &filter, since).await,
        None => serve(config).await,
    }
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
            eprintln!("persist: {error}");
            ExitCode::FAILURE
        }
    }
}
