//! The sinks that come with the bridge, chosen by `--sink` (`BRIDGE_SINK`).

pub mod amqp;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod mqtt;
pub mod redis;

/// The sinks, as `--sink` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Another MQTT broker.
    Mqtt,
    /// Kafka (in a build with the `kafka` feature).
    Kafka,
    /// RabbitMQ, or another AMQP 0-9-1 broker.
    Amqp,
    /// Redis Streams.
    Redis,
}

/// The chosen sink's settings.
#[derive(Debug, Clone)]
pub enum Settings {
    /// `--sink mqtt`.
    Mqtt(mqtt::Settings),
    /// `--sink kafka`.
    #[cfg(feature = "kafka")]
    Kafka(kafka::Settings),
    /// `--sink amqp`.
    Amqp(amqp::Settings),
    /// `--sink redis`.
    Redis(redis::Settings),
}

impl Settings {
    /// Where messages go, for the start-up line (never with a password).
    pub fn describe(&self) -> String {
        match self {
            Settings::Mqtt(s) => format!("MQTT broker {}:{}", s.host, s.port),
            #[cfg(feature = "kafka")]
            Settings::Kafka(s) => format!("Kafka {} topic {:?}", s.brokers, s.topic),
            Settings::Amqp(s) => format!("AMQP exchange {:?}", s.exchange),
            Settings::Redis(s) => format!("Redis stream {:?}", s.stream),
        }
    }
}
