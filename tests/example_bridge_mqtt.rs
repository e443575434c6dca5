//! `examples/bridge_mqtt` against a real Mosquitto broker: messages arrive
//! at a subscriber there with prefix, payload and QoS; the bridge reconnects
//! after the connection is cut, and a full buffer drops (and counts) rather
//! than blocking the hook.

mod support;

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/bridge_mqtt/main.rs"]
mod bridge_mqtt;

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_mqtt::{Target, link};
use exhook_runtime::Version;
use exhook_runtime::proto::v3;
use exhook_runtime::testing::{TestBroker, Transport};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use support::message_v3;
use support::process::Process;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// The broker `.ci/run` starts, or `None` on a plain machine.
fn mosquitto() -> Option<String> {
    support::real_server("EXHOOK_TEST_MQTT_ADDR", "Mosquitto")
}

fn unique(name: &str) -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A subscriber on the other broker: `(topic, payload, qos)` as they arrive.
struct Subscriber {
    received: mpsc::UnboundedReceiver<(String, String, u8)>,
    _client: AsyncClient,
}

impl Subscriber {
    async fn start(addr: &str, filter: &str) -> Subscriber {
        let (host, port) = addr.rsplit_once(':').unwrap();
        let options = MqttOptions::new(unique("subscriber"), host, port.parse().unwrap());
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

    /// The next `n` messages, waiting up to 10 s for them.
    async fn take(&mut self, n: usize) -> Vec<(String, String, u8)> {
        let mut got = Vec::new();
        while got.len() < n {
            match tokio::time::timeout(Duration::from_secs(10), self.received.recv()).await {
                Ok(Some(message)) => got.push(message),
                _ => panic!("{} of {n} messages arrived: {got:?}", got.len()),
            }
        }
        got
    }

    /// Whatever arrives within `wait`.
    async fn rest(&mut self, wait: Duration) -> Vec<(String, String, u8)> {
        let mut got = Vec::new();
        while let Ok(Some(message)) = tokio::time::timeout(wait, self.received.recv()).await {
            got.push(message);
        }
        got
    }
}

fn target(addr: &str, prefix: &str, buffer: usize) -> Target {
    let (host, port) = addr.rsplit_once(':').unwrap();
    Target {
        host: host.into(),
        port: port.parse().unwrap(),
        client_id: unique("bridge"),
        credentials: None,
        prefix: prefix.into(),
        buffer,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_arrive_with_prefix_payload_and_qos() {
    let Some(addr) = mosquitto() else { return };
    let prefix = format!("{}/", unique("bridged"));
    let mut subscriber = Subscriber::start(&addr, &format!("{prefix}#")).await;
    let (bridge, connection) = link::connect(&target(&addr, &prefix, 100));
    let topics = bridge_mqtt::parse_topics("sensors/#, alarms/+").unwrap();
    let broker = TestBroker::builder()
        .transport(Transport::Grpc(Version::V3))
        .provider(bridge_mqtt::server(bridge.clone(), topics))
        .start()
        .await
        .unwrap();
    let client = broker.client("meter");
    client.connect().await;
    let mut expected = BTreeSet::new();
    for n in 0..30u32 {
        let topic = ["sensors/hall/temp", "alarms/fire", "chat/x"][n as usize % 3];
        let outcome = client.publish_qos(topic, format!("p{n}"), n % 3).await;
        // Forwarded, not changed.
        assert_eq!(outcome.message().unwrap().payload, format!("p{n}"));
        if topic != "chat/x" {
            expected.insert((format!("{prefix}{topic}"), format!("p{n}"), qos(n % 3)));
        }
    }
    let got: BTreeSet<_> = subscriber.take(expected.len()).await.into_iter().collect();
    assert_eq!(got, expected);
    assert!(subscriber.rest(Duration::from_millis(300)).await.is_empty());
    assert_eq!(bridge.dropped(), 0);
    connection.close(Duration::from_secs(5)).await;
}

fn qos(n: u32) -> u8 {
    n as u8
}

/// A TCP relay to the broker whose connections the test can cut.
struct Relay {
    addr: String,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Relay {
    async fn start(to: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let up = Arc::new(AtomicBool::new(true));
        let links = Arc::new(Mutex::new(Vec::new()));
        let (accepting, open) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    continue; // refused: dropped at once
                }
                let to = to.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&to).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                open.lock().unwrap().push(link.abort_handle());
            }
        });
        Relay { addr, up, links }
    }

    /// Closes every connection and refuses new ones.
    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_and_sends_what_waited_in_the_buffer() {
    let Some(addr) = mosquitto() else { return };
    let relay = Relay::start(addr.clone()).await;
    let prefix = format!("{}/", unique("bridged"));
    let mut subscriber = Subscriber::start(&addr, &format!("{prefix}#")).await;
    let (bridge, connection) = link::connect(&target(&relay.addr, &prefix, 1000));
    let broker = TestBroker::builder()
        .provider(bridge_mqtt::server(
            bridge.clone(),
            bridge_mqtt::parse_topics("sensors/#").unwrap(),
        ))
        .start()
        .await
        .unwrap();
    let client = broker.client("meter");
    client.connect().await;
    let payloads = |got: Vec<(String, String, u8)>| -> BTreeSet<String> {
        got.into_iter().map(|(_, payload, _)| payload).collect()
    };

    for n in 0..10 {
        client
            .publish_qos("sensors/a", format!("before-{n}"), 1)
            .await;
    }
    assert_eq!(payloads(subscriber.take(10).await).len(), 10);

    relay.cut();
    // Published while the other broker is unreachable: they wait.
    for n in 0..20 {
        client
            .publish_qos("sensors/a", format!("during-{n}"), 1)
            .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    relay.restore();
    let mut got = payloads(subscriber.rest(Duration::from_secs(3)).await);
    // QoS 1 is at least once: after a reconnection, messages whose
    // acknowledgement was not seen come again. None is lost.
    got.retain(|payload| payload.starts_with("during-"));
    let expected: BTreeSet<String> = (0..20).map(|n| format!("during-{n}")).collect();
    assert_eq!(got, expected);
    assert_eq!(bridge.dropped(), 0);
    connection.close(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_buffer_drops_and_counts_without_blocking_the_hook() {
    let Some(addr) = mosquitto() else { return };
    let relay = Relay::start(addr.clone()).await;
    relay.cut();
    let prefix = format!("{}/", unique("bridged"));
    let mut subscriber = Subscriber::start(&addr, &format!("{prefix}#")).await;
    let (bridge, connection) = link::connect(&target(&relay.addr, &prefix, 5));
    let broker = TestBroker::builder()
        .provider(bridge_mqtt::server(
            bridge.clone(),
            bridge_mqtt::parse_topics("sensors/#").unwrap(),
        ))
        .start()
        .await
        .unwrap();
    let client = broker.client("meter");
    client.connect().await;
    // Each publish is answered although nothing can be sent.
    for n in 0..40 {
        tokio::time::timeout(
            Duration::from_secs(1),
            client.publish_qos("sensors/a", format!("m{n}"), 1),
        )
        .await
        .expect("the hook does not wait for the other broker");
    }
    let dropped = bridge.dropped() as usize;
    assert!(dropped >= 40 - 5, "{dropped} dropped with a buffer of 5");
    relay.restore();
    let got = subscriber.take(40 - dropped).await;
    assert!(subscriber.rest(Duration::from_millis(300)).await.is_empty());
    // The first messages waited; the later ones were the ones dropped.
    let payloads: Vec<String> = got.into_iter().map(|(_, payload, _)| payload).collect();
    let expected: Vec<String> = (0..40 - dropped).map(|n| format!("m{n}")).collect();
    assert_eq!(payloads, expected);
    connection.close(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_forwards_as_configured_and_flushes_on_sigterm() {
    let Some(addr) = mosquitto() else { return };
    let prefix = format!("{}/", unique("bridged"));
    let mut subscriber = Subscriber::start(&addr, &format!("{prefix}#")).await;
    let mut command = Command::new(env!("CARGO_BIN_EXE_example-bridge_mqtt"));
    command
        .env("BRIDGE_BROKER", &addr)
        .env("BRIDGE_PREFIX", &prefix)
        .env("BRIDGE_TOPICS", "sensors/#,alarms/+");
    let (mut process, lines) = Process::start(command).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("hooks: message.publish [\"sensors/#\", \"alarms/+\"]")),
        "{lines:?}"
    );
    if !lines.iter().any(|l| l.contains("connected to")) {
        process.wait_for_line("connected to").await;
    }

    let mut provider = process.v3().await;
    for n in 0..200 {
        let topic = if n % 2 == 0 { "sensors/x" } else { "alarms/y" };
        let mut message = message_v3("meter", topic, &format!("n{n}"));
        message.qos = 1;
        let request = v3::MessagePublishRequest {
            message: Some(message),
            ..Default::default()
        };
        provider.on_message_publish(request).await.unwrap();
    }
    process.terminate();
    let (status, lines) = process.wait().await;
    assert!(status.success(), "{lines:?}");
    let got: BTreeSet<_> = subscriber.take(200).await.into_iter().collect();
    let expected: BTreeSet<_> = (0..200)
        .map(|n| {
            let topic = if n % 2 == 0 { "sensors/x" } else { "alarms/y" };
            (format!("{prefix}{topic}"), format!("n{n}"), 1)
        })
        .collect();
    assert_eq!(got, expected);
}
