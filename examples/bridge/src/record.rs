//! What a sink receives of each message, and the names built from it.

use bytes::Bytes;
use exhook_runtime::Message;
use exhook_runtime::event::Property;

/// One MQTT message as the sinks forward it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// EMQX's message id (hex).
    pub id: String,
    /// The publisher's client id; messages of one client id keep their order.
    pub client_id: String,
    /// The MQTT topic it was published on.
    pub topic: String,
    /// The payload, as published.
    pub payload: Bytes,
    /// 0, 1 or 2.
    pub qos: u8,
    /// When EMQX received it, milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// The MQTT 5 `User-Property` pairs (sent by EMQX 5.9+), in order.
    pub user_properties: Vec<(String, String)>,
}

impl Record {
    /// The record of `msg` with the request's user properties.
    pub fn from_message(msg: &Message, user_properties: &[Property]) -> Record {
        Record {
            id: msg.id.clone(),
            client_id: msg.from.clone(),
            topic: msg.topic.clone(),
            // A copy: the received payload is a slice of the call's whole
            // receive buffer (kilobytes), which a record waiting in the
            // bridge's buffer would otherwise keep alive.
            payload: Bytes::copy_from_slice(&msg.payload),
            qos: msg.qos.min(2) as u8,
            timestamp: msg.timestamp,
            user_properties: user_properties
                .iter()
                .map(|p| (p.name.clone(), p.value.clone()))
                .collect(),
        }
    }
}

/// A name made from a record: `{topic}` and `{clientid}` are replaced, as in
/// `mqtt.{topic}` or `devices:{clientid}`.
///
/// ```
/// # use bridge::{Record, Template};
/// let record = Record {
///     id: "1".into(), client_id: "meter-1".into(), topic: "sensors/hall/temp".into(),
///     payload: "21".into(), qos: 1, timestamp: 0, user_properties: vec![],
/// };
/// assert_eq!(Template::new("mqtt.{topic}").render(&record, '.'), "mqtt.sensors.hall.temp");
/// assert_eq!(Template::new("{clientid}").render(&record, '.'), "meter-1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(String);

impl Template {
    /// The template as written, such as `mqtt.{topic}`.
    pub fn new(template: &str) -> Template {
        Template(template.to_owned())
    }

    /// Whether it names the same thing for every record.
    pub fn is_fixed(&self) -> bool {
        !self.0.contains("{topic}") && !self.0.contains("{clientid}")
    }

    /// The name for `record`, with the topic's `/` replaced by `separator`.
    pub fn render(&self, record: &Record, separator: char) -> String {
        if self.is_fixed() {
            return self.0.clone();
        }
        self.0
            .replace(
                "{topic}",
                &record.topic.replace('/', &separator.to_string()),
            )
            .replace("{clientid}", &record.client_id)
    }
}
