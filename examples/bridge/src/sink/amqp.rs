//! RabbitMQ (AMQP 0-9-1) with publisher confirms: each record is published
//! persistent to an exchange, and a batch is acknowledged when the broker
//! has confirmed every record of it. `amqps://` URLs connect over TLS
//! (rustls), trusting the usual public certificate authorities and those
//! of `--amqp-ca` (`BRIDGE_AMQP_CA`).

use std::path::Path;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::tcp::OwnedTLSConfig;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::{Record, Sink, SinkError, Template};

/// Where to publish (`--amqp-*`, `BRIDGE_AMQP_*`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The broker (`--amqp-url`, default `amqp://127.0.0.1:5672/%2f`).
    pub url: String,
    /// The exchange (`--amqp-exchange`, default `amq.topic`).
    pub exchange: String,
    /// The routing key (`--amqp-routing-key`, default `{topic}`, the MQTT
    /// topic with `/` as `.`, as RabbitMQ's own MQTT plugin maps it).
    pub routing_key: Template,
    /// The PEM certificates of the file `--amqp-ca` names: further
    /// certificate authorities to trust for `amqps://`, such as a private CA.
    pub ca: Option<String>,
}

/// Why a `--amqp-ca` file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// It cannot be read.
    #[error("cannot read it: {0}")]
    Read(#[from] std::io::Error),
    /// It holds something else than PEM certificates.
    #[error("not PEM certificates: {0}")]
    NotPem(#[from] rustls_pki_types::pem::Error),
    /// It holds no certificate.
    #[error("no PEM certificate in it")]
    Empty,
}

/// The PEM file at `path`, checked to hold certificates and only them.
pub fn read_ca(path: &Path) -> Result<String, CaError> {
    let pem = std::fs::read_to_string(path)?;
    let certificates =
        CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<Vec<_>, _>>()?;
    if certificates.is_empty() {
        return Err(CaError::Empty);
    }
    Ok(pem)
}

/// The RabbitMQ sink.
pub struct Amqp {
    settings: Settings,
    link: Option<(Connection, Channel)>,
}

impl Amqp {
    /// A sink that connects on first use.
    pub fn new(settings: Settings) -> Amqp {
        Amqp {
            settings,
            link: None,
        }
    }
}

/// The record's properties: persistent, EMQX's id and timestamp, and the
/// MQTT details as headers (`mqtt_topic`, `mqtt_qos`, `mqtt_clientid`, then
/// the user properties under their own names).
fn properties(record: &Record) -> BasicProperties {
    let mut headers = FieldTable::default();
    let text = |s: &str| AMQPValue::LongString(LongString::from(s.as_bytes()));
    headers.insert("mqtt_topic".into(), text(&record.topic));
    headers.insert("mqtt_qos".into(), AMQPValue::ShortShortUInt(record.qos));
    headers.insert("mqtt_clientid".into(), text(&record.client_id));
    for (name, value) in &record.user_properties {
        headers.insert(ShortString::from(name.as_str()), text(value));
    }
    BasicProperties::default()
        .with_delivery_mode(2)
        .with_message_id(record.id.as_str().into())
        .with_timestamp(record.timestamp / 1000)
        .with_headers(headers)
}

impl Sink for Amqp {
    fn name(&self) -> &'static str {
        "amqp"
    }

    async fn connect(&mut self) -> Result<(), SinkError> {
        if let Some((connection, _)) = self.link.take() {
            let _ = connection.close(0, "reconnecting".into()).await;
        }
        let tls = OwnedTLSConfig {
            identity: None,
            cert_chain: self.settings.ca.clone(),
        };
        let connection = Connection::connect_with_config(
            &self.settings.url,
            ConnectionProperties::default(),
            tls,
            lapin::runtime::default_runtime()?,
        )
        .await?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        self.link = Some((connection, channel));
        Ok(())
    }

    async fn send(&mut self, batch: &[Record]) -> Result<(), SinkError> {
        let (_, channel) = self.link.as_ref().ok_or("not connected")?;
        let exchange = ShortString::from(self.settings.exchange.as_str());
        let mut confirms = Vec::with_capacity(batch.len());
        for record in batch {
            let routing_key = self.settings.routing_key.render(record, '.');
            let confirm = channel
                .basic_publish(
                    exchange.clone(),
                    routing_key.as_str().into(),
                    BasicPublishOptions::default(),
                    &record.payload,
                    properties(record),
                )
                .await?;
            confirms.push(confirm);
        }
        for confirm in confirms {
            if let Confirmation::Nack(_) = confirm.await? {
                return Err("the broker refused a message (nack)".into());
            }
        }
        Ok(())
    }
}
