//! The Kafka sink against librdkafka's mock cluster, which speaks the real
//! Kafka protocol on loopback: what a consumer reads back, a broker going
//! down mid-stream, the full-buffer policies, and the process flushing on
//! SIGTERM. Built with `--features kafka` (needs librdkafka-dev).

#![cfg(feature = "kafka")]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bridge::sink::kafka::{Kafka, Settings};
use bridge::{Options, Template, WhenFull};
use exhook_app_testing::Process;
use exhook_runtime::testing::Transport;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use support::{Seen, Workload, assert_delivered, broker, eventually};

const PARTITIONS: i32 = 4;

/// A one-broker mock cluster with a fresh topic.
fn cluster() -> (MockCluster<'static, DefaultProducerContext>, String) {
    let cluster = MockCluster::new(1).unwrap();
    let topic = support::unique("mqtt");
    cluster.create_topic(&topic, PARTITIONS, 1).unwrap();
    (cluster, topic)
}

fn sink(cluster: &MockCluster<'static, DefaultProducerContext>, topic: &str) -> Kafka {
    Kafka::new(Settings {
        brokers: cluster.bootstrap_servers(),
        topic: Template::new(topic),
        options: vec![],
    })
}

fn options(buffer: usize, when_full: WhenFull) -> Options {
    Options {
        buffer,
        when_full,
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
        ..Options::default()
    }
}

/// One message as read from Kafka.
struct Read {
    key: String,
    headers: Vec<(String, String)>,
    seen: Seen,
}

/// Everything in `topic`, read until nothing more came for two seconds
/// (and at least `at_least` messages, or 30 s passed).
async fn consume(bootstrap: String, topic: String, at_least: usize) -> Vec<Read> {
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("group.id", support::unique("reader"))
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let mut partitions = TopicPartitionList::new();
        for p in 0..PARTITIONS {
            partitions
                .add_partition_offset(&topic, p, Offset::Beginning)
                .unwrap();
        }
        consumer.assign(&partitions).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut read = Vec::new();
        let mut idle_since = std::time::Instant::now();
        while std::time::Instant::now() < deadline
            && (read.len() < at_least || idle_since.elapsed() < Duration::from_secs(2))
        {
            let Some(message) = consumer.poll(Duration::from_millis(100)) else {
                continue;
            };
            let message = message.unwrap();
            idle_since = std::time::Instant::now();
            let text =
                |b: Option<&[u8]>| String::from_utf8_lossy(b.unwrap_or_default()).into_owned();
            let headers: Vec<(String, String)> = message
                .headers()
                .map(|h| {
                    h.iter()
                        .map(|h| (h.key.to_owned(), text(h.value)))
                        .collect()
                })
                .unwrap_or_default();
            let header = |name: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            read.push(Read {
                key: text(message.key()),
                seen: Seen {
                    client_id: header("mqtt_clientid"),
                    topic: header("mqtt_topic"),
                    payload: text(message.payload()),
                },
                headers,
            });
        }
        read
    })
    .await
    .unwrap()
}

fn seen(read: &[Read]) -> Vec<Seen> {
    read.iter().map(|r| r.seen.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_reads_back_exactly_what_was_published_in_each_clients_order() {
    let (cluster, topic) = cluster();
    let (bridge, forwarder) =
        bridge::start(sink(&cluster, &topic), &options(10_000, WhenFull::Block));
    let broker = broker(bridge.clone(), support::GRPC).await;
    let workload = Workload::new(20, 50);
    workload.publish(&broker).await;
    assert_eq!(forwarder.flush(Duration::from_secs(20)).await, 0);

    let expected = workload.expected();
    let read = consume(cluster.bootstrap_servers(), topic, expected.len()).await;
    assert_delivered(&seen(&read), &expected);
    // Nothing failed, and the producer is idempotent: each message once.
    assert_eq!(read.len(), expected.len());
    for r in &read {
        // The key is the client id (one partition per client keeps order).
        assert_eq!(r.key, r.seen.client_id);
        assert!(
            r.headers.contains(&("mqtt_qos".into(), "1".into())),
            "{:?}",
            r.headers
        );
        assert!(
            r.headers.contains(&("site".into(), "a".into())),
            "{:?}",
            r.headers
        );
    }
    assert_eq!(bridge.metrics().forwarded.get(), expected.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_taken_down_mid_stream_loses_nothing() {
    let (cluster, topic) = cluster();
    let mut options = options(10_000, WhenFull::Block);
    options.batch = 100;
    let (bridge, forwarder) = bridge::start(sink(&cluster, &topic), &options);
    let broker = broker(bridge.clone(), Transport::InProcess).await;
    let workload = Workload::new(20, 100);
    let outage = async {
        assert!(
            eventually(Duration::from_secs(20), || bridge.metrics().forwarded.get()
                >= 100)
            .await
        );
        cluster.broker_down(1).unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        cluster.broker_up(1).unwrap();
    };
    tokio::join!(workload.publish(&broker), outage);
    assert_eq!(forwarder.flush(Duration::from_secs(30)).await, 0);

    let expected = workload.expected();
    let read = consume(cluster.bootstrap_servers(), topic, expected.len()).await;
    assert_delivered(&seen(&read), &expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_broker_down_a_full_buffer_drops_and_counts() {
    let (cluster, topic) = cluster();
    cluster.broker_down(1).unwrap();
    let (bridge, forwarder) = bridge::start(sink(&cluster, &topic), &options(50, WhenFull::Drop));
    let broker = broker(bridge.clone(), Transport::InProcess).await;
    let client = broker.client("meter");
    client.connect().await;
    for n in 0..200 {
        tokio::time::timeout(
            Duration::from_secs(1),
            client.publish_qos("sensors/a", format!("m{n}"), 1),
        )
        .await
        .expect("the hook does not wait for Kafka");
    }
    assert_eq!(bridge.metrics().dropped.get(), 150);
    cluster.broker_up(1).unwrap();
    assert_eq!(forwarder.flush(Duration::from_secs(30)).await, 0);

    let read = consume(cluster.bootstrap_servers(), topic, 50).await;
    let payloads: Vec<String> = read.into_iter().map(|r| r.seen.payload).collect();
    let expected: Vec<String> = (0..50).map(|n| format!("m{n}")).collect();
    assert_eq!(payloads, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_broker_down_a_full_buffer_blocks_the_hook_until_it_is_back() {
    let (cluster, topic) = cluster();
    cluster.broker_down(1).unwrap();
    let (bridge, forwarder) = bridge::start(sink(&cluster, &topic), &options(20, WhenFull::Block));
    let broker = broker(bridge.clone(), Transport::InProcess).await;
    let client = broker.client("meter");
    client.connect().await;
    for n in 0..20 {
        client.publish_qos("sensors/a", format!("m{n}"), 1).await;
    }
    let next = client.publish_qos("sensors/a", "m20", 1);
    tokio::pin!(next);
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut next)
            .await
            .is_err(),
        "answered with a full buffer"
    );
    cluster.broker_up(1).unwrap();
    tokio::time::timeout(Duration::from_secs(30), next)
        .await
        .expect("answered once Kafka took messages");
    assert_eq!(forwarder.flush(Duration::from_secs(30)).await, 0);
    assert_eq!(bridge.metrics().dropped.get(), 0);

    let read = consume(cluster.bootstrap_servers(), topic, 21).await;
    let payloads: Vec<String> = read.into_iter().map(|r| r.seen.payload).collect();
    let expected: Vec<String> = (0..21).map(|n| format!("m{n}")).collect();
    assert_eq!(payloads, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_flushes_on_sigterm_and_loses_nothing_it_accepted() {
    let (cluster, topic) = cluster();
    let bootstrap = cluster.bootstrap_servers();
    let mut command = support::bridge_command();
    command
        .env("BRIDGE_SINK", "kafka")
        .env("BRIDGE_KAFKA_BROKERS", &bootstrap)
        .env("BRIDGE_KAFKA_TOPIC", &topic)
        .env("BRIDGE_TOPICS", "sensors/#");
    let (process, lines) = Process::start(command).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("hooks: message.publish [\"sensors/#\"]")),
        "{lines:?}"
    );
    let workload = Workload::new(20, 250);
    let answered = Arc::new(AtomicUsize::new(0));
    let terminate = async {
        assert!(
            eventually(Duration::from_secs(30), || answered.load(Ordering::SeqCst)
                >= 1000)
            .await
        );
        process.terminate();
    };
    let (published, ()) = tokio::join!(
        support::publish_until_refused(&process, &workload, answered.clone()),
        terminate
    );
    let (status, lines) = process.wait().await;
    assert!(status.success(), "{lines:?}");
    let accepted: usize = published.iter().sum();
    assert!(
        (1000..5000).contains(&accepted),
        "SIGTERM came mid-stream: {accepted}"
    );

    let expected = workload.expected_of(&published);
    let read = consume(bootstrap, topic, expected.len()).await;
    assert_delivered(&seen(&read), &expected);
}

#[test]
fn the_command_line_configures_the_kafka_sink() {
    let config = support::config(&[
        "--sink",
        "kafka",
        "--kafka-brokers",
        "k1:9092,k2:9092",
        "--kafka-topic",
        "mqtt.{topic}",
        "--kafka-options",
        "security.protocol=ssl, ssl.ca.location = /etc/ca.pem",
    ])
    .unwrap();
    let bridge::sink::Settings::Kafka(settings) = config.sink_settings().unwrap() else {
        panic!("kafka");
    };
    assert_eq!(settings.brokers, "k1:9092,k2:9092");
    assert_eq!(settings.topic, Template::new("mqtt.{topic}"));
    assert_eq!(
        settings.options,
        [
            ("security.protocol".into(), "ssl".into()),
            ("ssl.ca.location".into(), "/etc/ca.pem".into())
        ]
    );
    let defaults = support::config(&["--sink", "kafka"]).unwrap();
    let bridge::sink::Settings::Kafka(settings) = defaults.sink_settings().unwrap() else {
        panic!("kafka");
    };
    assert_eq!(settings.brokers, "127.0.0.1:9092");
    assert_eq!(settings.topic, Template::new("mqtt"));
    assert!(settings.options.is_empty());
}
