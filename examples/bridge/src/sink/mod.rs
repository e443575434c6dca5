//! The sinks that come with the bridge, chosen by `BRIDGE_SINK`.

pub mod amqp;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod mqtt;
pub mod redis;

use crate::config::Env;

/// The chosen sink's settings.
#[derive(Debug, Clone)]
pub enum Settings {
    /// `BRIDGE_SINK=mqtt`.
    Mqtt(mqtt::Settings),
    /// `BRIDGE_SINK=kafka`.
    #[cfg(feature = "kafka")]
    Kafka(kafka::Settings),
    /// `BRIDGE_SINK=amqp`.
    Amqp(amqp::Settings),
    /// `BRIDGE_SINK=redis`.
    Redis(redis::Settings),
}

impl Settings {
    /// `BRIDGE_SINK` (default `mqtt`) and that sink's variables.
    pub fn from_env(env: &Env) -> Result<Settings, String> {
        match env.or("BRIDGE_SINK", "mqtt").as_str() {
            "mqtt" => mqtt::Settings::from_env(env).map(Settings::Mqtt),
            #[cfg(feature = "kafka")]
            "kafka" => kafka::Settings::from_env(env).map(Settings::Kafka),
            #[cfg(not(feature = "kafka"))]
            "kafka" => Err("BRIDGE_SINK=kafka: this build has no Kafka sink; \
                 build with `--features kafka` (needs librdkafka-dev)"
                .into()),
            "amqp" => amqp::Settings::from_env(env).map(Settings::Amqp),
            "redis" => redis::Settings::from_env(env).map(Settings::Redis),
            other => Err(format!(
                "BRIDGE_SINK={other:?}: one of mqtt, kafka, amqp, redis"
            )),
        }
    }

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
