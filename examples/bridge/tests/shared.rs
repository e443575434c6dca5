//! The behaviour every sink shares, with a sink the test controls: what is
//! forwarded and in which order, retries, the full-buffer policies, the
//! flush at shutdown, metrics and configuration.

mod support;

use std::time::Duration;

use bridge::config::{Config, Env};
use bridge::{Options, WhenFull};
use exhook_runtime::testing::Transport;
use support::{Probe, Seen, Workload, assert_delivered, broker, eventually};

fn options(buffer: usize, when_full: WhenFull, batch: usize) -> Options {
    Options {
        buffer,
        when_full,
        batch,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..Options::default()
    }
}

fn seen(probe: &Probe) -> Vec<Seen> {
    probe.acknowledged().iter().map(Seen::from).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_on_the_filters_reaches_the_sink_in_each_clients_order() {
    let probe = Probe::new();
    let (bridge, forwarder) = bridge::start(probe.sink(), &options(1000, WhenFull::Block, 64));
    let broker = broker(bridge.clone(), support::GRPC).await;
    let workload = Workload::new(20, 50);
    workload.publish(&broker).await;
    assert_eq!(forwarder.flush(Duration::from_secs(10)).await, 0);

    let got = seen(&probe);
    assert_delivered(&got, &workload.expected());
    // Sent once each, since nothing failed.
    assert_eq!(got.len(), workload.expected().len());
    assert_eq!(bridge.metrics().forwarded.get(), got.len() as u64);
    assert_eq!(bridge.metrics().depth.get(), 0);
    assert!(probe.batches().iter().all(|n| (1..=64).contains(n)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_keeps_its_payload_qos_client_id_timestamp_and_user_properties() {
    let probe = Probe::new();
    let (bridge, forwarder) = bridge::start(probe.sink(), &options(10, WhenFull::Block, 10));
    let broker = broker(bridge, support::GRPC).await;
    let client = broker
        .client("meter-7")
        .user_property("site", "a")
        .user_property("unit", "°C");
    client.connect().await;
    let outcome = client.publish_qos("sensors/hall/temp", "21.5", 2).await;
    // The hook leaves the message alone.
    assert_eq!(outcome.message().unwrap().payload, "21.5");
    forwarder.flush(Duration::from_secs(5)).await;

    let got = probe.acknowledged();
    assert_eq!(got.len(), 1);
    let record = &got[0];
    assert_eq!(record.client_id, "meter-7");
    assert_eq!(record.topic, "sensors/hall/temp");
    assert_eq!(record.payload, "21.5");
    assert_eq!(record.qos, 2);
    assert_eq!(record.id, outcome.message().unwrap().id);
    assert_eq!(record.timestamp, outcome.message().unwrap().timestamp);
    assert!(record.timestamp > 0);
    assert_eq!(
        record.user_properties,
        [("site".into(), "a".into()), ("unit".into(), "°C".into())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sends_and_connections_are_retried_and_nothing_is_lost() {
    let probe = Probe::new();
    probe.fail_connects(3);
    probe.fail_sends(4);
    let (bridge, forwarder) = bridge::start(probe.sink(), &options(10_000, WhenFull::Block, 16));
    let broker = broker(bridge.clone(), Transport::InProcess).await;
    let workload = Workload::new(5, 100);
    workload.publish(&broker).await;
    assert_eq!(forwarder.flush(Duration::from_secs(10)).await, 0);

    let got = seen(&probe);
    assert_delivered(&got, &workload.expected());
    // Each failed batch was sent again whole; half of it had arrived before.
    assert!(got.len() > workload.expected().len());
    let metrics = bridge.metrics();
    assert!(metrics.retried.get() > 0);
    assert_eq!(metrics.forwarded.get(), workload.expected().len() as u64);
    // One connection, plus one per failed attempt and per failed send.
    assert_eq!(probe.connects(), 1 + 3 + 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_leave_the_buffer_only_once_acknowledged() {
    let probe = Probe::new();
    probe.hold();
    let (bridge, forwarder) = bridge::start(probe.sink(), &options(100, WhenFull::Block, 4));
    let broker = broker(bridge.clone(), Transport::InProcess).await;
    let workload = Workload::new(1, 10); // 8 on the filter
    workload.publish(&broker).await;
    // Taken by the sink but not acknowledged: still in the buffer.
    assert!(eventually(Duration::from_secs(5), || probe.batches().len() == 1).await);
    assert_eq!(bridge.metrics().depth.get(), 8);
    assert_eq!(bridge.metrics().forwarded.get(), 0);
    probe.open();
    assert!(eventually(Duration::from_secs(5), || bridge.metrics().depth.get() == 0).await);
    assert_eq!(bridge.metrics().forwarded.get(), 8);
    forwarder.flush(Duration::from_secs(5)).await;
    assert_delivered(&seen(&probe), &workload.expected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_buffer_blocks_the_hook_until_the_sink_takes_messages() {
    let probe = Probe::new();
    probe.hold();
    let (bridge, forwarder) = bridge::start(probe.sink(), &options(5, WhenFull::Block, 5));
    let broker = broker(bridge.clone(), Transport::InProcess).await;
    let client = broker.client("meter");
    client.connect().await;
    for n in 0..5 {
        client.publish_qos("sensors/a", format!("m{n}"), 1).await;
    }
    // The sixth waits for a place.
    let sixth = client.publish_qos("sensors/a", "m5", 1);
    tokio::pin!(sixth);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut sixth)
            .await
            .is_err(),
        "the hook answered with a full buffer"
    );
    probe.open();
    tokio::time::timeout(Duration::from_secs(5), sixth)
        .await
        .expect("answered once the sink took messages");
    forwarder.flush(Duration::from_secs(5)).await;
    let payloads: Vec<String> = seen(&probe).into_iter().map(|m| m.payload).collect();
    assert_eq!(payloads, ["m0", "m1", "m2", "m3", "m4", "m5"]);
    assert_eq!(bridge.metrics().dropped.get(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_buffer_drops_and_counts_without_making_the_hook_wait() {
    let probe = Probe::new();
    probe.hold();
    let (bridge, forwarder) = bridge::start(probe.sink(), &options(5, WhenFull::Drop, 5));
    let broker = broker(bridge.clone(), Transport::InProcess).await;
    let client = broker.client("meter");
    client.connect().await;
    for n in 0..40 {
        tokio::time::timeout(
            Duration::from_secs(1),
            client.publish_qos("sensors/a", format!("m{n}"), 1),
        )
        .await
        .expect("the hook does not wait for the sink");
    }
    assert_eq!(bridge.metrics().dropped.get(), 35);
    probe.open();
    assert_eq!(forwarder.flush(Duration::from_secs(5)).await, 0);
    // The first five waited; the later ones were dropped.
    let payloads: Vec<String> = seen(&probe).into_iter().map(|m| m.payload).collect();
    assert_eq!(payloads, ["m0", "m1", "m2", "m3", "m4"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_gives_up_after_the_drain_time_and_says_what_is_left() {
    let probe = Probe::new();
    probe.hold();
    let (bridge, forwarder) = bridge::start(probe.sink(), &options(100, WhenFull::Block, 100));
    let broker = broker(bridge.clone(), Transport::InProcess).await;
    Workload::new(2, 10).publish(&broker).await;
    let started = tokio::time::Instant::now();
    assert_eq!(forwarder.flush(Duration::from_millis(300)).await, 16);
    assert!(started.elapsed() < Duration::from_secs(3));
    // A closed buffer takes nothing more.
    let client = broker.client("late");
    client.connect().await;
    client.publish_qos("sensors/a", "late", 1).await;
    assert_eq!(bridge.metrics().dropped.get(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_in_prometheus_text() {
    let probe = Probe::new();
    probe.fail_sends(1);
    let (bridge, forwarder) = bridge::start(probe.sink(), &options(100, WhenFull::Block, 100));
    let broker = broker(bridge.clone(), Transport::InProcess).await;
    Workload::new(1, 5).publish(&broker).await; // 4 on the filter
    assert!(
        eventually(Duration::from_secs(5), || bridge.metrics().forwarded.get()
            == 4)
        .await
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(bridge::metrics::serve(listener, bridge.metrics_handle()));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    server.abort();

    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    for line in [
        "bridge_forwarded_total{sink=\"test\"} 4",
        "bridge_dropped_total{sink=\"test\"} 0",
        "bridge_buffer_depth{sink=\"test\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
    // How the four messages were batched depends on timing: every
    // acknowledged batch is one latency sample, and the failed batch's
    // messages count as retried.
    let value = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {text}"))
    };
    let batches = value("bridge_sink_latency_seconds_count{sink=\"test\"}");
    assert!((1..=4).contains(&batches), "{text}");
    assert_eq!(
        value("bridge_sink_latency_seconds_bucket{sink=\"test\",le=\"+Inf\"}"),
        batches
    );
    assert!(
        (1..=4).contains(&value("bridge_retried_total{sink=\"test\"}")),
        "{text}"
    );
    forwarder.flush(Duration::from_secs(1)).await;
}

#[test]
fn configuration_has_defaults_and_names_the_variable_in_errors() {
    let config = Config::from_env(&Env::from_pairs(&[])).unwrap();
    assert_eq!(config.options, Options::default());
    assert_eq!(config.topics[0].as_str(), "sensors/#");
    assert!(matches!(config.sink, bridge::sink::Settings::Mqtt(_)));

    let config = Config::from_env(&Env::from_pairs(&[
        ("BRIDGE_SINK", "redis"),
        ("BRIDGE_TOPICS", "a/#, b/+"),
        ("BRIDGE_BUFFER", "7"),
        ("BRIDGE_WHEN_FULL", "drop"),
        ("BRIDGE_REDIS_STREAM", "mqtt:{topic}"),
    ]))
    .unwrap();
    assert_eq!(config.options.buffer, 7);
    assert_eq!(config.options.when_full, WhenFull::Drop);
    assert_eq!(config.topics.len(), 2);
    let bridge::sink::Settings::Redis(redis) = config.sink else {
        panic!("redis");
    };
    assert_eq!(redis.stream, bridge::Template::new("mqtt:{topic}"));

    for (name, value, says) in [
        (
            "BRIDGE_SINK",
            "carrier-pigeon",
            "BRIDGE_SINK=\"carrier-pigeon\"",
        ),
        ("BRIDGE_BUFFER", "0", "BRIDGE_BUFFER=0"),
        ("BRIDGE_BUFFER", "many", "BRIDGE_BUFFER=\"many\""),
        ("BRIDGE_WHEN_FULL", "panic", "BRIDGE_WHEN_FULL=\"panic\""),
        ("BRIDGE_TOPICS", "a/#/b", "topic filter \"a/#/b\""),
        (
            "BRIDGE_MQTT_BROKER",
            "nohost",
            "BRIDGE_MQTT_BROKER=\"nohost\"",
        ),
    ] {
        let error = Config::from_env(&Env::from_pairs(&[(name, value)]))
            .err()
            .unwrap_or_else(|| panic!("{name}={value} accepted"));
        assert!(error.contains(says), "{error}");
    }
}
