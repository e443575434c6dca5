//! The Redis Streams sink against a real `redis-server`, which
//! `.ci/services` starts (with a script to restart it): every message
//! arrives with its fields, a restart mid-stream loses nothing that was
//! acknowledged, and `MAXLEN ~` bounds the stream.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use bridge::sink::redis::{Redis, Settings};
use bridge::{Options, Template, WhenFull};
use exhook_runtime::testing::Transport;
use support::{Seen, Workload, assert_delivered, broker, eventually};

fn url() -> String {
    exhook_app_testing::real_server("EXHOOK_TEST_REDIS_URL")
}

fn sink(stream: &str, max_len: u64) -> Redis {
    Redis::new(Settings {
        url: url(),
        stream: Template::new(stream),
        max_len,
    })
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

/// The entries of `stream`, oldest first: their fields.
async fn entries(stream: &str) -> Vec<HashMap<String, String>> {
    let client = redis::Client::open(url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let entries: Vec<(String, HashMap<String, String>)> = redis::cmd("XRANGE")
        .arg(stream)
        .arg("-")
        .arg("+")
        .query_async(&mut connection)
        .await
        .unwrap();
    entries.into_iter().map(|(_, fields)| fields).collect()
}

fn seen(entries: &[HashMap<String, String>]) -> Vec<Seen> {
    entries
        .iter()
        .map(|f| Seen {
            client_id: f["clientid"].clone(),
            topic: f["topic"].clone(),
            payload: f["payload"].clone(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis: set EXHOOK_TEST_REDIS_URL"]
async fn every_message_arrives_in_order_with_its_fields() {
    let _server = support::SERVER.read().await;
    let stream = support::unique("mqtt");
    let (bridge, forwarder) = bridge::start(sink(&stream, 1_000_000), &options());
    let broker = broker(bridge, support::GRPC).await;
    let workload = Workload::new(20, 50);
    workload.publish(&broker).await;
    assert_eq!(forwarder.flush(Duration::from_secs(20)).await, 0);

    let entries = entries(&stream).await;
    let expected = workload.expected();
    assert_delivered(&seen(&entries), &expected);
    assert_eq!(entries.len(), expected.len());
    for fields in &entries {
        assert_eq!(fields["qos"], "1");
        assert_eq!(fields["prop:site"], "a");
        assert!(fields["timestamp"].parse::<u64>().unwrap() > 0);
        assert!(!fields["id"].is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis: set EXHOOK_TEST_REDIS_URL and EXHOOK_TEST_REDIS_RESTART"]
async fn a_restart_mid_stream_loses_nothing_acknowledged() {
    let _server = support::SERVER.write().await;
    let stream = support::unique("mqtt");
    let (bridge, forwarder) = bridge::start(sink(&stream, 1_000_000), &options());
    let broker = broker(bridge.clone(), Transport::InProcess).await;
    let workload = Workload::new(20, 250);
    let restart = async {
        assert!(
            eventually(Duration::from_secs(30), || bridge.metrics().forwarded.get()
                >= 500)
            .await
        );
        tokio::task::spawn_blocking(|| support::run_command("EXHOOK_TEST_REDIS_RESTART"))
            .await
            .unwrap();
    };
    tokio::join!(workload.publish(&broker), restart);
    assert_eq!(forwarder.flush(Duration::from_secs(60)).await, 0);

    assert_delivered(&seen(&entries(&stream).await), &workload.expected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis: set EXHOOK_TEST_REDIS_URL"]
async fn maxlen_keeps_the_stream_to_about_its_length() {
    let _server = support::SERVER.read().await;
    let stream = support::unique("mqtt");
    let (bridge, forwarder) = bridge::start(sink(&stream, 100), &options());
    let broker = broker(bridge, Transport::InProcess).await;
    let client = broker.client("meter");
    client.connect().await;
    for n in 0..1000 {
        client.publish_qos("sensors/a", format!("m{n}"), 1).await;
    }
    assert_eq!(forwarder.flush(Duration::from_secs(20)).await, 0);

    let entries = entries(&stream).await;
    // `~` trims whole nodes only: at least 100 entries stay, and not many more.
    assert!((100..300).contains(&entries.len()), "{}", entries.len());
    assert_eq!(entries.last().unwrap()["payload"], "m999");
}
