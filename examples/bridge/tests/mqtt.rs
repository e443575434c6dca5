//! The MQTT sink against a real Mosquitto broker, which `.ci/services`
//! starts: messages arrive at a subscriber there with prefix, payload and
//! QoS, and a cut connection loses nothing.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use bridge::sink::mqtt::{Mqtt, Settings};
use bridge::{Options, WhenFull};
use exhook_runtime::testing::Transport;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use support::{Relay, broker, eventually};
use tokio::sync::mpsc;

fn mosquitto() -> String {
    exhook_app_testing::real_server("EXHOOK_TEST_MQTT_ADDR")
}

/// A subscriber on the other broker: `(topic, payload, qos)` as they arrive.
struct Subscriber {
    received: mpsc::UnboundedReceiver<(String, String, u8)>,
    _client: AsyncClient,
}

impl Subscriber {
    async fn start(addr: &str, filter: &str) -> Subscriber {
        let (host, port) = addr.rsplit_once(':').unwrap();
        let options = MqttOptions::new(support::unique("subscriber"), host, port.parse().unwrap());
        let (client, mut events) = AsyncClient::new(options, 100);
        client.subscribe(filter, QoS::ExactlyOnce).await.unwrap();
        let (tx, received) = mpsc::unbounded_channel();
        let (subscribed, ready) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut subscribed = Some(subscribed);
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(s) = subscribed.take() {
                            let _ = s.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let payload = String::from_utf8_lossy(&p.payload).into_owned();
                        let _ = tx.send((p.topic, payload, p.qos as u8));
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), ready)
            .await
            .expect("subscribed within 10 s")
            .unwrap();
        Subscriber {
            received,
            _client: client,
        }
    }

    /// Whatever arrives until nothing more comes for `quiet`.
    async fn rest(&mut self, quiet: Duration) -> Vec<(String, String, u8)> {
        let mut got = Vec::new();
        while let Ok(Some(message)) = tokio::time::timeout(quiet, self.received.recv()).await {
            got.push(message);
        }
        got
    }
}

fn sink(addr: &str, prefix: &str) -> Mqtt {
    let (host, port) = addr.rsplit_once(':').unwrap();
    Mqtt::new(
        Settings {
            host: host.into(),
            port: port.parse().unwrap(),
            client_id: support::unique("bridge"),
            credentials: None,
            prefix: prefix.into(),
        },
        Options::default().batch,
    )
}

fn options() -> Options {
    Options {
        when_full: WhenFull::Block,
        send_timeout: Duration::from_secs(2),
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Mosquitto: set EXHOOK_TEST_MQTT_ADDR"]
async fn messages_arrive_with_prefix_payload_and_qos() {
    let addr = mosquitto();
    let prefix = format!("{}/", support::unique("bridged"));
    let mut subscriber = Subscriber::start(&addr, &format!("{prefix}#")).await;
    let (bridge, forwarder) = bridge::start(sink(&addr, &prefix), &options());
    let broker = broker(bridge.clone(), support::GRPC).await;
    let client = broker.client("meter");
    client.connect().await;
    let mut expected = BTreeSet::new();
    for n in 0..30u8 {
        let topic = ["sensors/hall/temp", "sensors/fire", "chat/x"][n as usize % 3];
        client
            .publish_qos(topic, format!("p{n}"), u32::from(n % 3))
            .await;
        if topic != "chat/x" {
            expected.insert((format!("{prefix}{topic}"), format!("p{n}"), n % 3));
        }
    }
    assert_eq!(forwarder.flush(Duration::from_secs(10)).await, 0);
    let got: BTreeSet<_> = subscriber
        .rest(Duration::from_millis(500))
        .await
        .into_iter()
        .collect();
    assert_eq!(got, expected);
    assert_eq!(bridge.metrics().forwarded.get(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Mosquitto: set EXHOOK_TEST_MQTT_ADDR"]
async fn a_cut_connection_loses_nothing() {
    let addr = mosquitto();
    let relay = Relay::start(&addr).await;
    let prefix = format!("{}/", support::unique("bridged"));
    let mut subscriber = Subscriber::start(&addr, &format!("{prefix}#")).await;
    let (bridge, forwarder) = bridge::start(sink(&relay.addr, &prefix), &options());
    let broker = broker(bridge.clone(), Transport::InProcess).await;
    let client = broker.client("meter");
    client.connect().await;
    for n in 0..10 {
        client
            .publish_qos("sensors/a", format!("before-{n}"), 1)
            .await;
    }
    assert!(
        eventually(Duration::from_secs(10), || bridge.metrics().forwarded.get()
            == 10)
        .await
    );

    relay.cut();
    // Published while the other broker is unreachable: they wait.
    for n in 0..20 {
        client
            .publish_qos("sensors/a", format!("during-{n}"), 1)
            .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bridge.metrics().depth.get(), 20);
    relay.restore();
    assert_eq!(forwarder.flush(Duration::from_secs(20)).await, 0);

    let payloads: Vec<String> = subscriber
        .rest(Duration::from_millis(500))
        .await
        .into_iter()
        .map(|(_, payload, _)| payload)
        .collect();
    let mut first: Vec<&String> = Vec::new();
    for p in &payloads {
        if !first.contains(&p) {
            first.push(p);
        }
    }
    let expected: Vec<String> = (0..10)
        .map(|n| format!("before-{n}"))
        .chain((0..20).map(|n| format!("during-{n}")))
        .collect();
    assert_eq!(first, expected.iter().collect::<Vec<_>>());
}
