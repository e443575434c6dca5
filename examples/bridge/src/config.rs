//! The configuration: the command line, each option also read from its
//! `BRIDGE_*` environment variable (`bridge --help` lists them).
//!
//! ```
//! use bridge::config::Config;
//! use clap::Parser;
//!
//! let config = Config::try_parse_from(["bridge", "--sink", "redis", "--topics", "a/#, b/+"]).unwrap();
//! assert_eq!(config.topics.len(), 2);
//! assert!(matches!(config.sink_settings(), Ok(bridge::sink::Settings::Redis(_))));
//! ```

use std::fmt;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser};
use exhook_runtime::TopicFilter;

use crate::buffer::WhenFull;
use crate::forwarder::Options;
use crate::record::Template;
use crate::sink::{self, Kind, amqp};

/// Forwards the MQTT messages EMQX receives on the chosen topics into
/// another MQTT broker, Kafka, RabbitMQ or Redis Streams, at least once and
/// in each client's order. Serves on EXHOOK_LISTEN (default
/// 127.0.0.1:9000).
#[derive(Debug, Clone, Parser)]
#[command(name = "bridge", version)]
pub struct Config {
    /// Comma-separated topic filters to forward, advertised to EMQX so that
    /// it sends nothing else.
    #[arg(
        long,
        env = "BRIDGE_TOPICS",
        default_value = "sensors/#",
        value_delimiter = ',',
        value_parser = exhook_app_support::topic_filter
    )]
    pub topics: Vec<TopicFilter>,
    /// Where the messages go.
    #[arg(long, env = "BRIDGE_SINK", value_enum, default_value_t = Kind::Mqtt)]
    pub sink: Kind,
    /// Messages accepted and not yet acknowledged by the sink, at most.
    #[arg(long, env = "BRIDGE_BUFFER", default_value = "10000")]
    pub buffer: NonZeroUsize,
    /// What the hook does when the buffer is full.
    #[arg(long, env = "BRIDGE_WHEN_FULL", value_enum, default_value_t = WhenFull::Block)]
    pub when_full: WhenFull,
    /// Messages per send, at most.
    #[arg(long, env = "BRIDGE_BATCH", default_value = "500")]
    pub batch: NonZeroUsize,
    /// Milliseconds a connection attempt or a send may take; one taking
    /// longer fails and is retried.
    #[arg(long, env = "BRIDGE_SEND_TIMEOUT_MS", default_value_t = 30_000)]
    pub send_timeout_ms: u64,
    /// Milliseconds the sink is given, on SIGTERM, to take what is left in
    /// the buffer.
    #[arg(long, env = "BRIDGE_DRAIN_MS", default_value_t = crate::DEFAULT_DRAIN.as_millis() as u64)]
    pub drain_ms: u64,
    /// Serve the bridge's metrics (OpenMetrics text) at GET /metrics on this
    /// address, such as 127.0.0.1:9100.
    #[arg(long, env = "BRIDGE_METRICS_LISTEN", value_name = "ADDRESS")]
    pub metrics_listen: Option<String>,
    /// `--sink mqtt`.
    #[command(flatten)]
    pub mqtt: MqttArgs,
    /// `--sink kafka`.
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// `--sink amqp`.
    #[command(flatten)]
    pub amqp: AmqpArgs,
    /// `--sink redis`.
    #[command(flatten)]
    pub redis: RedisArgs,
}

impl Config {
    /// The buffer's and forwarder's settings.
    pub fn options(&self) -> Options {
        Options {
            buffer: self.buffer.get(),
            when_full: self.when_full,
            batch: self.batch.get(),
            send_timeout: Duration::from_millis(self.send_timeout_ms),
            ..Options::default()
        }
    }

    /// How long to wait, on SIGTERM, for the buffer to empty.
    pub fn drain(&self) -> Duration {
        Duration::from_millis(self.drain_ms)
    }

    /// The chosen sink's settings; reads `--amqp-ca` for `--sink amqp`.
    pub fn sink_settings(&self) -> Result<sink::Settings, ConfigError> {
        Ok(match self.sink {
            Kind::Mqtt => sink::Settings::Mqtt(self.mqtt.settings()),
            #[cfg(feature = "kafka")]
            Kind::Kafka => sink::Settings::Kafka(self.kafka.settings()),
            #[cfg(not(feature = "kafka"))]
            Kind::Kafka => return Err(ConfigError::NoKafka),
            Kind::Amqp => sink::Settings::Amqp(self.amqp.settings()?),
            Kind::Redis => sink::Settings::Redis(self.redis.settings()),
        })
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--sink kafka` in a build without the `kafka` feature.
    #[error(
        "--sink kafka: this build has no Kafka sink; build with `--features kafka` (needs librdkafka-dev)"
    )]
    NoKafka,
    /// `--amqp-ca` names no readable file of PEM certificates.
    #[error("--amqp-ca {}: {source}", path.display())]
    AmqpCa {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: amqp::CaError,
    },
    /// A broker address without a port.
    #[error("`host:port` is needed")]
    NotHostPort,
    /// A `--kafka-options` entry without `=`.
    #[error("{0:?} is not `name=value`")]
    NotNameValue(String),
}

/// A `host:port` address; `mqtt://` in front is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// The host name or IP address.
    pub host: String,
    /// The port.
    pub port: u16,
}

impl FromStr for HostPort {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<HostPort, ConfigError> {
        let address = text.strip_prefix("mqtt://").unwrap_or(text);
        let (host, port) = address.rsplit_once(':').ok_or(ConfigError::NotHostPort)?;
        Ok(HostPort {
            host: host.to_owned(),
            port: port.parse().map_err(|_| ConfigError::NotHostPort)?,
        })
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// The options of the MQTT sink.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "MQTT sink (--sink mqtt)")]
pub struct MqttArgs {
    /// The broker to publish to.
    #[arg(
        long,
        env = "BRIDGE_MQTT_BROKER",
        default_value = "127.0.0.1:1883",
        value_name = "HOST:PORT"
    )]
    pub mqtt_broker: HostPort,
    /// The bridge's client id [default: exhook-bridge-PID].
    #[arg(long, env = "BRIDGE_MQTT_CLIENT_ID")]
    pub mqtt_client_id: Option<String>,
    /// The user name to connect with.
    #[arg(long, env = "BRIDGE_MQTT_USERNAME")]
    pub mqtt_username: Option<String>,
    /// The password, with --mqtt-username (better given in the environment,
    /// as a command line is visible to other users).
    #[arg(long, env = "BRIDGE_MQTT_PASSWORD", hide_env_values = true)]
    pub mqtt_password: Option<String>,
    /// Put in front of every topic [default: none].
    #[arg(long, env = "BRIDGE_MQTT_PREFIX")]
    pub mqtt_prefix: Option<String>,
}

impl MqttArgs {
    fn settings(&self) -> sink::mqtt::Settings {
        sink::mqtt::Settings {
            host: self.mqtt_broker.host.clone(),
            port: self.mqtt_broker.port,
            client_id: self
                .mqtt_client_id
                .clone()
                .unwrap_or_else(|| format!("exhook-bridge-{}", std::process::id())),
            credentials: self.mqtt_username.clone().map(|username| {
                let password = self.mqtt_password.clone().unwrap_or_default();
                (username, password)
            }),
            prefix: self.mqtt_prefix.clone().unwrap_or_default(),
        }
    }
}

/// The options of the Kafka sink, in a build with the `kafka` feature.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Kafka sink (--sink kafka, in a build with --features kafka)")]
pub struct KafkaArgs {
    /// The bootstrap servers, comma-separated.
    #[arg(
        long,
        env = "BRIDGE_KAFKA_BROKERS",
        default_value = "127.0.0.1:9092",
        value_name = "HOST:PORT,..."
    )]
    pub kafka_brokers: String,
    /// The Kafka topic; {topic} stands for the MQTT topic with its / as .,
    /// {clientid} for the publisher's client id.
    #[arg(long, env = "BRIDGE_KAFKA_TOPIC", default_value = "mqtt")]
    pub kafka_topic: String,
    /// More librdkafka properties, comma-separated, such as
    /// security.protocol=ssl.
    #[arg(
        long,
        env = "BRIDGE_KAFKA_OPTIONS",
        value_delimiter = ',',
        value_name = "NAME=VALUE,...",
        value_parser = name_value
    )]
    pub kafka_options: Vec<(String, String)>,
}

#[cfg(feature = "kafka")]
impl KafkaArgs {
    fn settings(&self) -> sink::kafka::Settings {
        sink::kafka::Settings {
            brokers: self.kafka_brokers.clone(),
            topic: Template::new(&self.kafka_topic),
            options: self.kafka_options.clone(),
        }
    }
}

/// `name=value`, both trimmed.
fn name_value(text: &str) -> Result<(String, String), ConfigError> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| ConfigError::NotNameValue(text.to_owned()))?;
    Ok((name.trim().to_owned(), value.trim().to_owned()))
}

/// The options of the RabbitMQ sink.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "RabbitMQ sink (--sink amqp)")]
pub struct AmqpArgs {
    /// The broker's URL; amqps://… connects over TLS.
    #[arg(
        long,
        env = "BRIDGE_AMQP_URL",
        default_value = "amqp://127.0.0.1:5672/%2f",
        hide_env_values = true
    )]
    pub amqp_url: String,
    /// A PEM file of further certificate authorities to trust for amqps://,
    /// besides the usual public ones (a private CA, say).
    #[arg(long, env = "BRIDGE_AMQP_CA", value_name = "PEM_FILE")]
    pub amqp_ca: Option<PathBuf>,
    /// The exchange to publish to.
    #[arg(long, env = "BRIDGE_AMQP_EXCHANGE", default_value = "amq.topic")]
    pub amqp_exchange: String,
    /// The routing key; {topic} stands for the MQTT topic with its / as .,
    /// {clientid} for the publisher's client id.
    #[arg(long, env = "BRIDGE_AMQP_ROUTING_KEY", default_value = "{topic}")]
    pub amqp_routing_key: String,
}

impl AmqpArgs {
    fn settings(&self) -> Result<amqp::Settings, ConfigError> {
        let ca = match &self.amqp_ca {
            None => None,
            Some(path) => Some(amqp::read_ca(path).map_err(|source| ConfigError::AmqpCa {
                path: path.clone(),
                source,
            })?),
        };
        Ok(amqp::Settings {
            url: self.amqp_url.clone(),
            exchange: self.amqp_exchange.clone(),
            routing_key: Template::new(&self.amqp_routing_key),
            ca,
        })
    }
}

/// The options of the Redis Streams sink.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Redis Streams sink (--sink redis)")]
pub struct RedisArgs {
    /// The server's URL.
    #[arg(
        long,
        env = "BRIDGE_REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        hide_env_values = true
    )]
    pub redis_url: String,
    /// The stream; {topic} stands for the MQTT topic (its / kept),
    /// {clientid} for the publisher's client id.
    #[arg(long, env = "BRIDGE_REDIS_STREAM", default_value = "mqtt")]
    pub redis_stream: String,
    /// Trim the stream to about this many entries (XADD's MAXLEN ~).
    #[arg(long, env = "BRIDGE_REDIS_MAXLEN", default_value_t = 1_000_000)]
    pub redis_maxlen: u64,
}

impl RedisArgs {
    fn settings(&self) -> sink::redis::Settings {
        sink::redis::Settings {
            url: self.redis_url.clone(),
            stream: Template::new(&self.redis_stream),
            max_len: self.redis_maxlen,
        }
    }
}
