//! Kafka through librdkafka: an idempotent producer with `acks=all`; each
//! record's key is its client id (so one client's messages share a
//! partition and keep their order), its timestamp EMQX's, and its headers
//! `mqtt_topic`, `mqtt_qos`, `mqtt_clientid`, `mqtt_id` and the user
//! properties. A batch is acknowledged by the delivery report of every
//! record.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::{Record, Sink, SinkError, Template};

/// Where to produce to (`--kafka-*`, `BRIDGE_KAFKA_*`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The bootstrap servers (`--kafka-brokers`, default `127.0.0.1:9092`).
    pub brokers: String,
    /// The topic (`--kafka-topic`, default `mqtt`; `mqtt.{topic}` for a
    /// Kafka topic per MQTT topic, with `/` as `.`).
    pub topic: Template,
    /// More librdkafka properties (`--kafka-options`, for example
    /// `security.protocol=ssl`).
    pub options: Vec<(String, String)>,
}

/// The Kafka sink.
pub struct Kafka {
    settings: Settings,
    producer: Option<FutureProducer>,
}

impl Kafka {
    /// A sink that creates its producer on first use.
    pub fn new(settings: Settings) -> Kafka {
        Kafka {
            settings,
            producer: None,
        }
    }
}

impl Sink for Kafka {
    fn name(&self) -> &'static str {
        "kafka"
    }

    async fn connect(&mut self) -> Result<(), SinkError> {
        // librdkafka reconnects to brokers by itself: one producer serves
        // for the whole run.
        if self.producer.is_some() {
            return Ok(());
        }
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.settings.brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            // Many small MQTT messages: wait a little to send them together.
            .set("linger.ms", "5")
            .set("batch.num.messages", "10000")
            .set("compression.type", "lz4");
        for (name, value) in &self.settings.options {
            config.set(name, value);
        }
        self.producer = Some(config.create()?);
        Ok(())
    }

    async fn send(&mut self, batch: &[Record]) -> Result<(), SinkError> {
        let producer = self.producer.as_ref().ok_or("not connected")?;
        let mut deliveries = Vec::with_capacity(batch.len());
        for record in batch {
            let topic = self.settings.topic.render(record, '.');
            let qos = record.qos.to_string();
            let mut headers = OwnedHeaders::new_with_capacity(4 + record.user_properties.len())
                .insert(Header {
                    key: "mqtt_topic",
                    value: Some(&record.topic),
                })
                .insert(Header {
                    key: "mqtt_qos",
                    value: Some(&qos),
                })
                .insert(Header {
                    key: "mqtt_clientid",
                    value: Some(&record.client_id),
                })
                .insert(Header {
                    key: "mqtt_id",
                    value: Some(&record.id),
                });
            for (name, value) in &record.user_properties {
                headers = headers.insert(Header {
                    key: name,
                    value: Some(value),
                });
            }
            let mut message = FutureRecord::to(&topic)
                .key(&record.client_id)
                .payload(record.payload.as_ref())
                .timestamp(record.timestamp as i64)
                .headers(headers);
            // Enqueue every record first, then wait for the reports: the
            // producer batches them; a full local queue is waited out.
            loop {
                match producer.send_result(message) {
                    Ok(delivery) => {
                        deliveries.push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        message = back;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((error, _)) => return Err(error.into()),
                }
            }
        }
        for delivery in deliveries {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((error, _))) => return Err(error.into()),
                Err(_) => return Err("the producer dropped a delivery report".into()),
            }
        }
        Ok(())
    }
}
