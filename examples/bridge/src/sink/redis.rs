//! Redis Streams: each record is one `XADD <stream> MAXLEN ~ <n> * …` with
//! the fields `topic`, `payload`, `qos`, `clientid`, `id`, `timestamp` and
//! `prop:<name>` per user property. A batch goes in one pipeline and is
//! acknowledged by the replies to every `XADD`.

use redis::aio::MultiplexedConnection;

use crate::{Record, Sink, SinkError, Template};

/// Where to add entries (`--redis-*`, `BRIDGE_REDIS_*`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The server (`--redis-url`, default `redis://127.0.0.1:6379`).
    pub url: String,
    /// The stream (`--redis-stream`, default `mqtt`; `mqtt:{topic}` for a
    /// stream per topic, with the topic's `/` kept).
    pub stream: Template,
    /// The stream is trimmed to about this many entries (`--redis-maxlen`,
    /// default 1000000).
    pub max_len: u64,
}

/// The Redis Streams sink.
pub struct Redis {
    settings: Settings,
    connection: Option<MultiplexedConnection>,
}

impl Redis {
    /// A sink that connects on first use.
    pub fn new(settings: Settings) -> Redis {
        Redis {
            settings,
            connection: None,
        }
    }
}

impl Sink for Redis {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn connect(&mut self) -> Result<(), SinkError> {
        let client = redis::Client::open(self.settings.url.as_str())?;
        self.connection = Some(client.get_multiplexed_async_connection().await?);
        Ok(())
    }

    async fn send(&mut self, batch: &[Record]) -> Result<(), SinkError> {
        let connection = self.connection.as_mut().ok_or("not connected")?;
        let mut pipe = redis::pipe();
        for record in batch {
            let command = pipe
                .cmd("XADD")
                .arg(self.settings.stream.render(record, '/'))
                .arg("MAXLEN")
                .arg("~")
                .arg(self.settings.max_len)
                .arg("*")
                .arg("topic")
                .arg(&record.topic)
                .arg("payload")
                .arg(record.payload.as_ref())
                .arg("qos")
                .arg(record.qos)
                .arg("clientid")
                .arg(&record.client_id)
                .arg("id")
                .arg(&record.id)
                .arg("timestamp")
                .arg(record.timestamp);
            for (name, value) in &record.user_properties {
                command.arg(format!("prop:{name}")).arg(value);
            }
        }
        let ids: Vec<String> = pipe.query_async(connection).await?;
        if ids.len() != batch.len() {
            return Err(format!("{} replies to {} XADDs", ids.len(), batch.len()).into());
        }
        Ok(())
    }
}
