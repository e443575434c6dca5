//! The behaviour every sink shares, with a sink the test controls: what is
//! forwarded and in which order, retries, the full-buffer policies, the
//! flush at shutdown, metrics, the command line and the process.

mod support;

use std::time::Duration;

use bridge::config::Config;
use bridge::sink::Settings;
use bridge::{Options, Record, Template, WhenFull};
use bytes::Bytes;
use clap::CommandFactory;
use exhook_app_testing::{Process, port_of};
use exhook_runtime::Message;
use exhook_runtime::testing::Transport;
use support::{Probe, Seen, Workload, assert_delivered, broker, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// `GET path` on `127.0.0.1:port`: the response's head (status line and
/// headers) and body.
async fn http_get(port: u16, path: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.to_lowercase(), body.to_owned())
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
    let port = listener.local_addr().unwrap().port();
    let server = bridge::metrics::serve(listener, bridge.metrics_handle());
    let (head, text) = http_get(port, "/metrics").await;
    let (elsewhere, _) = http_get(port, "/").await;
    server.abort();

    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: application/openmetrics-text; version=1.0.0"),
        "{head}"
    );
    assert!(elsewhere.starts_with("http/1.1 404"), "{elsewhere}");
    // Each metric's help and type, as the README lists them (OpenMetrics
    // names a counter's family without its samples' `_total`).
    for (family, kind, help) in [
        (
            "bridge_forwarded",
            "counter",
            "Messages the sink acknowledged.",
        ),
        (
            "bridge_retried",
            "counter",
            "Messages sent again after a failed send.",
        ),
        (
            "bridge_dropped",
            "counter",
            "Messages dropped on a full buffer.",
        ),
        (
            "bridge_buffer_depth",
            "gauge",
            "Messages accepted and not yet acknowledged.",
        ),
        (
            "bridge_sink_latency_seconds",
            "histogram",
            "Time from sending a batch to its acknowledgement.",
        ),
    ] {
        for line in [
            format!("# HELP {family} {help}"),
            format!("# TYPE {family} {kind}"),
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
    }
    for line in [
        "bridge_forwarded_total{sink=\"test\"} 4",
        "bridge_dropped_total{sink=\"test\"} 0",
        "bridge_buffer_depth{sink=\"test\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
    assert_eq!(text.lines().last(), Some("# EOF"), "{text}");
    // How the four messages were batched depends on timing: every
    // acknowledged batch is one latency sample, and the failed batch's
    // messages count as retried.
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {text}"))
    };
    let batches = value("bridge_sink_latency_seconds_count{sink=\"test\"}");
    assert!((1.0..=4.0).contains(&batches), "{text}");
    // Every bucket, counted cumulatively up to all batches.
    let mut below = 0.0;
    for bound in [
        "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "1.0", "5.0", "+Inf",
    ] {
        let count = value(&format!(
            "bridge_sink_latency_seconds_bucket{{sink=\"test\",le=\"{bound}\"}}"
        ));
        assert!(count >= below, "{text}");
        below = count;
    }
    assert_eq!(below, batches, "{text}");
    assert!(value("bridge_sink_latency_seconds_sum{sink=\"test\"}") >= 0.0);
    assert!(
        (1.0..=4.0).contains(&value("bridge_retried_total{sink=\"test\"}")),
        "{text}"
    );
    forwarder.flush(Duration::from_secs(1)).await;
}

#[test]
fn a_record_holds_its_payload_not_the_buffer_it_was_received_in() {
    let received = Bytes::from(vec![7u8; 8192]);
    let msg = Message {
        payload: received.slice(100..110),
        ..Message::default()
    };
    let record = Record::from_message(&msg, &[]);
    assert_eq!(record.payload, msg.payload);
    assert!(!received.as_ptr_range().contains(&record.payload.as_ptr()));
}

#[test]
fn the_command_line_has_defaults_and_every_option() {
    let config = support::config(&[]).unwrap();
    assert_eq!(config.options(), Options::default());
    assert_eq!(config.drain(), bridge::DEFAULT_DRAIN);
    assert_eq!(config.topics.len(), 1);
    assert_eq!(config.topics[0].as_str(), "sensors/#");
    assert_eq!(config.metrics_listen, None);
    let Settings::Mqtt(mqtt) = config.sink_settings().unwrap() else {
        panic!("mqtt");
    };
    assert_eq!((mqtt.host.as_str(), mqtt.port), ("127.0.0.1", 1883));
    assert_eq!(
        mqtt.client_id,
        format!("exhook-bridge-{}", std::process::id())
    );
    assert_eq!(mqtt.credentials, None);
    assert_eq!(mqtt.prefix, "");

    let config = support::config(&[
        "--sink",
        "redis",
        "--topics",
        "a/#, b/+",
        "--buffer",
        "7",
        "--when-full",
        "drop",
        "--batch",
        "3",
        "--send-timeout-ms",
        "1500",
        "--drain-ms",
        "250",
        "--metrics-listen",
        "127.0.0.1:9100",
        "--redis-stream",
        "mqtt:{topic}",
        "--redis-maxlen",
        "100",
    ])
    .unwrap();
    assert_eq!(
        config.options(),
        Options {
            buffer: 7,
            when_full: WhenFull::Drop,
            batch: 3,
            send_timeout: Duration::from_millis(1500),
            ..Options::default()
        }
    );
    assert_eq!(config.drain(), Duration::from_millis(250));
    assert_eq!(config.metrics_listen.as_deref(), Some("127.0.0.1:9100"));
    let topics: Vec<&str> = config.topics.iter().map(|t| t.as_str()).collect();
    assert_eq!(topics, ["a/#", "b/+"]);
    let Settings::Redis(redis) = config.sink_settings().unwrap() else {
        panic!("redis");
    };
    assert_eq!(redis.stream, Template::new("mqtt:{topic}"));
    assert_eq!(redis.max_len, 100);
    assert_eq!(redis.url, "redis://127.0.0.1:6379");

    let config = support::config(&[
        "--mqtt-broker",
        "mqtt://broker.example:1884",
        "--mqtt-client-id",
        "bridge-1",
        "--mqtt-username",
        "bridge",
        "--mqtt-prefix",
        "site-a/",
    ])
    .unwrap();
    let Settings::Mqtt(mqtt) = config.sink_settings().unwrap() else {
        panic!("mqtt");
    };
    assert_eq!((mqtt.host.as_str(), mqtt.port), ("broker.example", 1884));
    assert_eq!(mqtt.client_id, "bridge-1");
    // No password given: an empty one.
    assert_eq!(mqtt.credentials, Some(("bridge".into(), String::new())));
    assert_eq!(mqtt.prefix, "site-a/");
}

#[test]
fn a_bad_value_stops_the_start_naming_its_option() {
    for (args, says) in [
        (
            ["--sink", "carrier-pigeon"],
            "invalid value 'carrier-pigeon' for '--sink <SINK>'",
        ),
        (
            ["--buffer", "0"],
            "invalid value '0' for '--buffer <BUFFER>'",
        ),
        (
            ["--buffer", "many"],
            "invalid value 'many' for '--buffer <BUFFER>'",
        ),
        (
            ["--when-full", "panic"],
            "invalid value 'panic' for '--when-full <WHEN_FULL>'",
        ),
        (
            ["--topics", "a/+,a/#/b"],
            "invalid value 'a/#/b' for '--topics <TOPICS>'",
        ),
        (
            ["--mqtt-broker", "nohost"],
            "invalid value 'nohost' for '--mqtt-broker <HOST:PORT>': `host:port` is needed",
        ),
        (
            ["--kafka-options", "acks=all,linger.ms"],
            "invalid value 'linger.ms' for '--kafka-options <NAME=VALUE,...>': \"linger.ms\" is not `name=value`",
        ),
    ] {
        let error = support::config(&args)
            .err()
            .unwrap_or_else(|| panic!("{args:?} accepted"));
        // A value outside a list of names, or one its parser refuses.
        use clap::error::ErrorKind::{InvalidValue, ValueValidation};
        assert!(
            matches!(error.kind(), InvalidValue | ValueValidation),
            "{args:?}: {error}"
        );
        let error = error.to_string();
        assert!(error.contains(says), "{error}");
    }
}

#[test]
fn a_bad_variable_stops_the_process_naming_its_option() {
    for (variable, value, says) in [
        (
            "BRIDGE_SINK",
            "carrier-pigeon",
            "invalid value 'carrier-pigeon' for '--sink <SINK>'",
        ),
        (
            "BRIDGE_BUFFER",
            "0",
            "invalid value '0' for '--buffer <BUFFER>'",
        ),
        (
            "BRIDGE_BUFFER",
            "many",
            "invalid value 'many' for '--buffer <BUFFER>'",
        ),
        (
            "BRIDGE_WHEN_FULL",
            "panic",
            "invalid value 'panic' for '--when-full <WHEN_FULL>'",
        ),
        (
            "BRIDGE_TOPICS",
            "a/#/b",
            "invalid value 'a/#/b' for '--topics <TOPICS>'",
        ),
        (
            "BRIDGE_MQTT_BROKER",
            "nohost",
            "invalid value 'nohost' for '--mqtt-broker <HOST:PORT>'",
        ),
    ] {
        let output = support::bridge_command()
            .env(variable, value)
            // Should the value be taken, the start still fails, at once.
            .env("EXHOOK_LISTEN", "not an address")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "clap's usage error: {said}");
        assert!(said.contains(says), "{variable}={value}: {said}");
    }
}

#[cfg(not(feature = "kafka"))]
#[test]
fn the_kafka_sink_needs_a_build_with_its_feature() {
    let error = support::config(&["--sink", "kafka"])
        .unwrap()
        .sink_settings()
        .expect_err("a Kafka sink in a build without it");
    assert!(matches!(error, bridge::config::ConfigError::NoKafka));
    let output = support::bridge_command()
        .env("BRIDGE_SINK", "kafka")
        .env("EXHOOK_LISTEN", "not an address")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("this build has no Kafka sink; build with `--features kafka`"),
        "{said}"
    );
}

#[test]
fn help_lists_the_options_their_variables_and_defaults() {
    let output = support::bridge_command().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    let options = [
        ("--topics <TOPICS>", "BRIDGE_TOPICS", Some("sensors/#")),
        ("--sink <SINK>", "BRIDGE_SINK", Some("mqtt")),
        ("--buffer <BUFFER>", "BRIDGE_BUFFER", Some("10000")),
        ("--when-full <WHEN_FULL>", "BRIDGE_WHEN_FULL", Some("block")),
        ("--batch <BATCH>", "BRIDGE_BATCH", Some("500")),
        (
            "--send-timeout-ms <SEND_TIMEOUT_MS>",
            "BRIDGE_SEND_TIMEOUT_MS",
            Some("30000"),
        ),
        ("--drain-ms <DRAIN_MS>", "BRIDGE_DRAIN_MS", Some("5000")),
        ("--metrics-listen <ADDRESS>", "BRIDGE_METRICS_LISTEN", None),
        (
            "--mqtt-broker <HOST:PORT>",
            "BRIDGE_MQTT_BROKER",
            Some("127.0.0.1:1883"),
        ),
        (
            "--mqtt-client-id <MQTT_CLIENT_ID>",
            "BRIDGE_MQTT_CLIENT_ID",
            None,
        ),
        (
            "--mqtt-username <MQTT_USERNAME>",
            "BRIDGE_MQTT_USERNAME",
            None,
        ),
        (
            "--mqtt-password <MQTT_PASSWORD>",
            "BRIDGE_MQTT_PASSWORD",
            None,
        ),
        ("--mqtt-prefix <MQTT_PREFIX>", "BRIDGE_MQTT_PREFIX", None),
        (
            "--kafka-brokers <HOST:PORT,...>",
            "BRIDGE_KAFKA_BROKERS",
            Some("127.0.0.1:9092"),
        ),
        (
            "--kafka-topic <KAFKA_TOPIC>",
            "BRIDGE_KAFKA_TOPIC",
            Some("mqtt"),
        ),
        (
            "--kafka-options <NAME=VALUE,...>",
            "BRIDGE_KAFKA_OPTIONS",
            None,
        ),
        (
            "--amqp-url <AMQP_URL>",
            "BRIDGE_AMQP_URL",
            Some("amqp://127.0.0.1:5672/%2f"),
        ),
        ("--amqp-ca <PEM_FILE>", "BRIDGE_AMQP_CA", None),
        (
            "--amqp-exchange <AMQP_EXCHANGE>",
            "BRIDGE_AMQP_EXCHANGE",
            Some("amq.topic"),
        ),
        (
            "--amqp-routing-key <AMQP_ROUTING_KEY>",
            "BRIDGE_AMQP_ROUTING_KEY",
            Some("{topic}"),
        ),
        (
            "--redis-url <REDIS_URL>",
            "BRIDGE_REDIS_URL",
            Some("redis://127.0.0.1:6379"),
        ),
        (
            "--redis-stream <REDIS_STREAM>",
            "BRIDGE_REDIS_STREAM",
            Some("mqtt"),
        ),
        (
            "--redis-maxlen <REDIS_MAXLEN>",
            "BRIDGE_REDIS_MAXLEN",
            Some("1000000"),
        ),
    ];
    // Every option is listed here, its variable named as the README says:
    // `--redis-url` is also `BRIDGE_REDIS_URL`.
    let mut listed: Vec<&str> = options.iter().map(|(_, variable, _)| *variable).collect();
    let mut read: Vec<String> = Vec::new();
    for arg in Config::command().get_arguments() {
        let long = arg.get_long().unwrap_or_else(|| panic!("{arg}"));
        let expected = format!("BRIDGE_{}", long.to_uppercase().replace('-', "_"));
        let variable = arg.get_env().and_then(|v| v.to_str());
        assert_eq!(variable, Some(expected.as_str()), "--{long}");
        read.push(expected);
    }
    listed.sort_unstable();
    read.sort_unstable();
    assert_eq!(listed, read);
    for (option, variable, default) in options {
        // The option's entry: from its name to the next option's.
        let at = help
            .find(option)
            .unwrap_or_else(|| panic!("{option} missing from:\n{help}"));
        let entry = &help[at..];
        let entry = &entry[..entry[option.len()..]
            .find("\n  -")
            .map_or(entry.len(), |end| end + option.len())];
        assert!(
            entry.contains(&format!("[env: {variable}")),
            "{variable} missing from:\n{entry}"
        );
        if let Some(default) = default {
            assert!(
                entry.contains(&format!("[default: {default}]")),
                "{default} missing from:\n{entry}"
            );
        }
    }
    // The password's value stays out of the help, even when set.
    let output = support::bridge_command()
        .env("BRIDGE_MQTT_PASSWORD", "s3cret")
        .arg("--help")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&output.stdout).contains("s3cret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_says_where_it_forwards_and_serves_its_metrics() {
    let mut command = support::bridge_command();
    command
        .args(["--topics", "sensors/#,alarms/+"])
        .env("BRIDGE_METRICS_LISTEN", "127.0.0.1:0");
    let (process, lines) = Process::start(command).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("forwarding sensors/#, alarms/+ to MQTT broker 127.0.0.1:1883")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("hooks: message.publish [\"sensors/#\", \"alarms/+\"]")),
        "{lines:?}"
    );
    let line = lines
        .iter()
        .find(|l| l.contains("metrics on http://"))
        .unwrap_or_else(|| panic!("no metrics line: {lines:?}"));
    let (head, text) = http_get(port_of(line, "http://127.0.0.1:"), "/metrics").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        text.lines()
            .any(|l| l == "bridge_forwarded_total{sink=\"mqtt\"} 0"),
        "{text}"
    );
    process.terminate();
    let (status, lines) = process.wait().await;
    assert!(status.success(), "{status}: {lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("stopped: 0 forwarded, 0 retried, 0 dropped, 0 not delivered")),
        "{lines:?}"
    );
}
