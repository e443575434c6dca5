//! `persist`: serve, storing messages, or print what was stored.

use std::io::Write;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::SystemTime;

use clap::Parser;
use exhook_runtime::TopicFilter;
use persist::{Store, format_row, queue};
use tracing::info;

/// Stores every MQTT message EMQX receives on the given topics in SQLite,
/// or in PostgreSQL with --database-url; --query prints what was stored.
/// Serves on EXHOOK_LISTEN (default 127.0.0.1:9000).
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// Comma-separated topic filters to store, advertised to EMQX so that
    /// it sends nothing else.
    #[arg(
        long,
        env = "PERSIST_TOPICS",
        default_value = "sensors/#",
        value_delimiter = ',',
        value_parser = exhook_app_support::topic_filter
    )]
    topics: Vec<TopicFilter>,
    /// A postgres:// URL; without it, messages go to the SQLite file --db.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The SQLite file, created with its table on first use.
    #[arg(long, env = "PERSIST_DB", default_value = "messages.db")]
    db: PathBuf,
    /// Messages that may wait for the writer; when full, handlers wait.
    #[arg(long, env = "PERSIST_QUEUE", default_value = "10000")]
    queue: NonZeroUsize,
    /// Messages written per transaction, at most.
    #[arg(long, env = "PERSIST_BATCH", default_value = "500")]
    batch: NonZeroUsize,
    /// Print the stored messages whose topic matches FILTER, oldest first,
    /// as tab-separated timestamp, clientid, qos, topic, payload (text, or
    /// 0x… hex), instead of serving.
    #[arg(long, value_name = "FILTER", value_parser = exhook_app_support::topic_filter)]
    query: Option<TopicFilter>,
    /// With --query: only messages received since WHEN, a duration ago
    /// (90s, 15m, 2h, 7d) or an RFC 3339 time (2026-11-25T08:00:00Z).
    #[arg(long, value_name = "WHEN", requires = "query", value_parser = since)]
    since: Option<i64>,
}

fn since(text: &str) -> Result<i64, persist::SinceError> {
    persist::parse_since(text, SystemTime::now())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    exhook_app_support::init_logging();
    let store = Store::open(cli.database_url.as_deref(), &cli.db).await?;
    if let Some(filter) = cli.query {
        let mut out = std::io::stdout().lock();
        for row in store.since(cli.since.unwrap_or(0)).await? {
            if filter.matches(&row.topic) {
                writeln!(out, "{}", format_row(&row))?;
            }
        }
        return Ok(());
    }

    let topics: Vec<_> = cli.topics.iter().map(TopicFilter::as_str).collect();
    let place = match &cli.database_url {
        Some(_) => "PostgreSQL".to_owned(),
        None => cli.db.display().to_string(),
    };
    info!("storing {} in {place}", topics.join(", "));
    let (queue, writer) = queue::start(store, cli.queue.get(), cli.batch.get());
    let served = persist::server(queue, cli.topics).serve().await;
    // The server has answered its last call: write what it accepted.
    let written = writer.finish().await?;
    info!("{written} messages written");
    Ok(served?)
}
