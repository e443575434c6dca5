//! Another MQTT broker: each record is published with its topic (behind a
//! prefix), payload and QoS; a batch is acknowledged when every QoS 1
//! `PUBACK` and QoS 2 `PUBCOMP` has come back (QoS 0: when written).

use std::collections::HashSet;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS};

use crate::{Record, Sink, SinkError};

/// Where and how to publish (`--mqtt-*`, `BRIDGE_MQTT_*`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The broker's host (`--mqtt-broker`, default `127.0.0.1:1883`).
    pub host: String,
    /// The broker's port.
    pub port: u16,
    /// The bridge's client id (`--mqtt-client-id`, default
    /// `exhook-bridge-<pid>`).
    pub client_id: String,
    /// User name and password (`--mqtt-username`, `--mqtt-password`).
    pub credentials: Option<(String, String)>,
    /// Put in front of every topic (`--mqtt-prefix`, default none).
    pub prefix: String,
}

/// The MQTT sink.
pub struct Mqtt {
    settings: Settings,
    batch: usize,
    link: Option<(AsyncClient, EventLoop)>,
}

impl Mqtt {
    /// A sink that will send batches of up to `batch` records.
    pub fn new(settings: Settings, batch: usize) -> Mqtt {
        Mqtt {
            settings,
            batch: batch.max(1),
            link: None,
        }
    }
}

impl Sink for Mqtt {
    fn name(&self) -> &'static str {
        "mqtt"
    }

    async fn connect(&mut self) -> Result<(), SinkError> {
        let s = &self.settings;
        let mut options = MqttOptions::new(&s.client_id, &s.host, s.port);
        options.set_keep_alive(Duration::from_secs(30));
        // A batch not acknowledged is sent again as a whole by the
        // forwarder, so the broker need not keep a session for us.
        options.set_clean_session(true);
        options.set_inflight(100);
        if let Some((username, password)) = &s.credentials {
            options.set_credentials(username, password);
        }
        self.link = None;
        let (client, mut events) = AsyncClient::new(options, self.batch);
        loop {
            match events.poll().await? {
                Event::Incoming(Packet::ConnAck(_)) => break,
                _ => continue,
            }
        }
        self.link = Some((client, events));
        Ok(())
    }

    async fn send(&mut self, batch: &[Record]) -> Result<(), SinkError> {
        let (client, events) = self.link.as_mut().ok_or("not connected")?;
        for record in batch {
            let qos = match record.qos {
                0 => QoS::AtMostOnce,
                1 => QoS::AtLeastOnce,
                _ => QoS::ExactlyOnce,
            };
            let topic = format!("{}{}", self.settings.prefix, record.topic);
            // The request channel holds a whole batch: this does not wait.
            client
                .publish_bytes(topic, qos, false, record.payload.clone())
                .await?;
        }
        // Packet ids being acknowledged, and how many records are done.
        let mut waiting = HashSet::new();
        let mut done = 0;
        while done < batch.len() {
            match events.poll().await {
                Ok(Event::Outgoing(Outgoing::Publish(0))) => done += 1,
                Ok(Event::Outgoing(Outgoing::Publish(pkid))) => {
                    waiting.insert(pkid);
                }
                Ok(Event::Incoming(Packet::PubAck(ack))) if waiting.remove(&ack.pkid) => done += 1,
                Ok(Event::Incoming(Packet::PubComp(comp))) if waiting.remove(&comp.pkid) => {
                    done += 1
                }
                Ok(_) => {}
                Err(error) => {
                    self.link = None;
                    return Err(error.into());
                }
            }
        }
        Ok(())
    }
}
