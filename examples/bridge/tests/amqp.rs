//! The RabbitMQ sink against a real `rabbitmq-server`, which `.ci/services`
//! starts (with a script to restart it): a consumer receives everything,
//! a broker restart mid-stream loses no confirmed message, and messages
//! whose confirms never came are sent again. Over `amqps://` (RabbitMQ's
//! TLS listener, its certificate from a CA made for the run) the sink
//! delivers everything when given the CA and is refused without it.

mod support;

use std::time::Duration;

use bridge::config::ConfigError;
use bridge::sink::amqp::{Amqp, CaError, Settings};
use bridge::{Options, Sink, Template, WhenFull};
use exhook_app_testing::TempDir;
use exhook_runtime::testing::Transport;
use lapin::options::{BasicGetOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Connection, ConnectionProperties};
use support::{Relay, Seen, Workload, assert_delivered, broker, eventually};

fn url() -> String {
    exhook_app_testing::real_server("EXHOOK_TEST_AMQP_URL")
}

/// A durable queue bound to `amq.topic` for `<key>.#`; its name.
async fn queue(key: &str) -> String {
    let connection = Connection::connect(&url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let name = support::unique("q");
    channel
        .queue_declare(
            name.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    channel
        .queue_bind(
            name.as_str().into(),
            "amq.topic".into(),
            format!("{key}.#").as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let _ = connection.close(0, "".into()).await;
    name
}

/// One message as a consumer gets it.
struct Got {
    seen: Seen,
    routing_key: String,
    persistent: bool,
    message_id: String,
}

/// Everything in `queue`, taken off it.
async fn drain(queue: &str) -> Vec<Got> {
    let connection = Connection::connect(&url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let mut got = Vec::new();
    while let Some(message) = channel
        .basic_get(queue.into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()
    {
        let delivery = &message.delivery;
        let header = |name: &str| match delivery
            .properties
            .headers()
            .as_ref()
            .and_then(|h| h.inner().get(name).cloned())
        {
            Some(AMQPValue::LongString(s)) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
            other => format!("{other:?}"),
        };
        got.push(Got {
            seen: Seen {
                client_id: header("mqtt_clientid"),
                topic: header("mqtt_topic"),
                payload: String::from_utf8_lossy(&delivery.data).into_owned(),
            },
            routing_key: delivery.routing_key.to_string(),
            persistent: *delivery.properties.delivery_mode() == Some(2),
            message_id: delivery
                .properties
                .message_id()
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default(),
        });
    }
    let _ = connection.close(0, "".into()).await;
    got
}

fn sink(url: String, key: &str) -> Amqp {
    Amqp::new(Settings {
        url,
        exchange: "amq.topic".into(),
        routing_key: Template::new(&format!("{key}.{{topic}}")),
        ca: None,
    })
}

/// The sink as `main` configures it for `amqps://`: `--amqp-url` and, if
/// given, `--amqp-ca`.
fn tls_sink(key: &str, ca: Option<&str>) -> Amqp {
    let url = exhook_app_testing::real_server("EXHOOK_TEST_AMQPS_URL");
    let routing_key = format!("{key}.{{topic}}");
    let mut args = vec!["--sink", "amqp", "--amqp-url", &url];
    args.extend(["--amqp-routing-key", &routing_key]);
    args.extend(ca.iter().flat_map(|path| ["--amqp-ca", path]));
    match support::config(&args).unwrap().sink_settings().unwrap() {
        bridge::sink::Settings::Amqp(settings) => Amqp::new(settings),
        other => panic!("{other:?}"),
    }
}

fn options() -> Options {
    Options {
        buffer: 10_000,
        when_full: WhenFull::Block,
        batch: 200,
        send_timeout: Duration::from_secs(2),
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
    }
}

fn seen(got: &[Got]) -> Vec<Seen> {
    got.iter().map(|g| g.seen.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs RabbitMQ: set EXHOOK_TEST_AMQP_URL"]
async fn a_consumer_receives_everything_with_its_properties() {
    let _server = support::SERVER.read().await;
    let key = support::unique("k").replace('-', "_");
    let queue = queue(&key).await;
    let (bridge, forwarder) = bridge::start(sink(url(), &key), &options());
    let broker = broker(bridge, support::GRPC).await;
    let workload = Workload::new(20, 50);
    workload.publish(&broker).await;
    assert_eq!(forwarder.flush(Duration::from_secs(20)).await, 0);

    let got = drain(&queue).await;
    let expected = workload.expected();
    assert_delivered(&seen(&got), &expected);
    assert_eq!(got.len(), expected.len());
    for g in &got {
        assert_eq!(
            g.routing_key,
            format!("{key}.{}", g.seen.topic.replace('/', "."))
        );
        assert!(g.persistent);
        assert!(!g.message_id.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs RabbitMQ: set EXHOOK_TEST_AMQP_URL and EXHOOK_TEST_AMQP_RESTART"]
async fn a_broker_restart_mid_stream_loses_no_confirmed_message() {
    let _server = support::SERVER.write().await;
    let key = support::unique("k").replace('-', "_");
    let queue = queue(&key).await;
    let (bridge, forwarder) = bridge::start(sink(url(), &key), &options());
    let broker = broker(bridge.clone(), Transport::InProcess).await;
    let workload = Workload::new(20, 250);
    let restart = async {
        assert!(
            eventually(Duration::from_secs(30), || bridge.metrics().forwarded.get()
                >= 500)
            .await
        );
        tokio::task::spawn_blocking(|| support::run_command("EXHOOK_TEST_AMQP_RESTART"))
            .await
            .unwrap();
    };
    tokio::join!(workload.publish(&broker), restart);
    assert_eq!(forwarder.flush(Duration::from_secs(60)).await, 0);

    let expected = workload.expected();
    assert!(bridge.metrics().forwarded.get() as usize == expected.len());
    assert_delivered(&seen(&drain(&queue).await), &expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs RabbitMQ: set EXHOOK_TEST_AMQP_URL"]
async fn messages_whose_confirms_never_came_are_sent_again() {
    let _server = support::SERVER.read().await;
    let key = support::unique("k").replace('-', "_");
    let queue = queue(&key).await;
    let url = url();
    let (host_port, vhost) = url
        .trim_start_matches("amqp://guest:guest@")
        .split_once('/')
        .unwrap();
    let relay = Relay::start(host_port).await;
    let via_relay = format!("amqp://guest:guest@{}/{vhost}", relay.addr);
    let (bridge, forwarder) = bridge::start(sink(via_relay, &key), &options());
    let broker = broker(bridge.clone(), Transport::InProcess).await;
    let client = broker.client("meter");
    client.connect().await;
    client.publish_qos("sensors/a", "first", 1).await;
    assert!(
        eventually(Duration::from_secs(10), || bridge.metrics().forwarded.get()
            == 1)
        .await
    );

    // RabbitMQ gets the next messages, but its confirms do not come back.
    relay.hold_answers();
    for n in 0..10 {
        client.publish_qos("sensors/a", format!("m{n}"), 1).await;
    }
    // The first batch after the hold (m0 at least) got no confirm in time.
    assert!(
        eventually(Duration::from_secs(10), || bridge.metrics().retried.get()
            >= 1)
        .await
    );
    assert_eq!(bridge.metrics().forwarded.get(), 1);
    relay.cut();
    relay.restore();
    assert_eq!(forwarder.flush(Duration::from_secs(20)).await, 0);

    let got: Vec<String> = drain(&queue)
        .await
        .into_iter()
        .map(|g| g.seen.payload)
        .collect();
    // Once unconfirmed, once again after the reconnection.
    let copies = got.iter().filter(|p| *p == "m0").count();
    assert!(copies >= 2, "m0 came {copies} times: {got:?}");
    // In order, at their first arrival.
    let mut first: Vec<&String> = Vec::new();
    for p in &got {
        if !first.contains(&p) {
            first.push(p);
        }
    }
    let expected: Vec<String> = std::iter::once("first".to_owned())
        .chain((0..10).map(|n| format!("m{n}")))
        .collect();
    assert_eq!(first, expected.iter().collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs RabbitMQ with TLS: set EXHOOK_TEST_AMQPS_URL and EXHOOK_TEST_AMQPS_CA"]
async fn over_amqps_with_the_configured_ca_a_consumer_receives_everything() {
    let _server = support::SERVER.read().await;
    let ca = exhook_app_testing::real_server("EXHOOK_TEST_AMQPS_CA");
    let key = support::unique("k").replace('-', "_");
    let queue = queue(&key).await;
    let (bridge, forwarder) = bridge::start(tls_sink(&key, Some(&ca)), &options());
    let broker = broker(bridge.clone(), support::GRPC).await;
    let workload = Workload::new(20, 50);
    workload.publish(&broker).await;
    assert_eq!(forwarder.flush(Duration::from_secs(20)).await, 0);

    let got = drain(&queue).await;
    let expected = workload.expected();
    assert_delivered(&seen(&got), &expected);
    assert_eq!(got.len(), expected.len());
    assert_eq!(bridge.metrics().retried.get(), 0);
}

#[tokio::test]
#[ignore = "needs RabbitMQ with TLS: set EXHOOK_TEST_AMQPS_URL"]
async fn over_amqps_a_certificate_from_an_unknown_ca_is_refused() {
    let _server = support::SERVER.read().await;
    let mut sink = tls_sink("refused", None);
    let error = sink
        .connect()
        .await
        .expect_err("connected to a server whose CA it was not given");
    assert!(
        error.to_string().to_lowercase().contains("certificate"),
        "{error}"
    );
}

#[test]
fn the_amqp_ca_must_name_a_file_of_pem_certificates() {
    let dir = TempDir::new("bridge-ca");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let missing = dir.join("missing.pem").to_str().unwrap().to_owned();
    let text = write("text.pem", "just text\n");
    let empty = write("empty.pem", "");
    let broken = write(
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
    );
    let kind = |e: &CaError| match e {
        CaError::Read(_) => "read",
        CaError::Empty => "empty",
        CaError::NotPem(_) => "not PEM",
    };
    for (path, expected, says) in [
        (&missing, "read", "cannot read it"),
        (&text, "empty", "no PEM certificate in it"),
        (&empty, "empty", "no PEM certificate in it"),
        (&broken, "not PEM", "not PEM certificates"),
    ] {
        let config = support::config(&["--sink", "amqp", "--amqp-ca", path]).unwrap();
        let error = config
            .sink_settings()
            .err()
            .unwrap_or_else(|| panic!("--amqp-ca {path} accepted"));
        assert!(
            matches!(&error, ConfigError::AmqpCa { path: p, source } if p.to_str() == Some(path.as_str()) && kind(source) == expected),
            "{error:?}"
        );
        let error = error.to_string();
        assert!(error.starts_with(&format!("--amqp-ca {path}: ")), "{error}");
        assert!(error.contains(says), "{error}");
    }
}

/// A PEM file as `--amqp-ca` needs it (the bridge checks its form; the
/// certificate's content matters only to the TLS handshake).
const TEST_CA: &str = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";

#[test]
fn the_amqp_ca_is_read_into_the_settings() {
    let dir = TempDir::new("bridge-ca");
    let pem = dir.join("ca.pem");
    std::fs::write(&pem, TEST_CA).unwrap();
    let config = support::config(&["--sink", "amqp", "--amqp-ca", pem.to_str().unwrap()]).unwrap();
    let bridge::sink::Settings::Amqp(settings) = config.sink_settings().unwrap() else {
        panic!("amqp");
    };
    assert_eq!(settings.ca.as_deref(), Some(TEST_CA));
    assert_eq!(settings.url, "amqp://127.0.0.1:5672/%2f");
    assert_eq!(settings.exchange, "amq.topic");
    assert_eq!(settings.routing_key, Template::new("{topic}"));
}
