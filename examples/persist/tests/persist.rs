//! Every accepted message becomes one row in SQLite, including after
//! SIGTERM in the middle of a burst; a full queue makes handlers wait;
//! `--query` prints what was stored.

mod common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, UNIX_EPOCH};

use common::{burst_then_sigterm, example, now_ms};
use exhook_app_testing::{Process, TempDir};
use exhook_runtime::testing::{TestBroker, Transport};
use exhook_runtime::{Message, State, Version};
use persist::{Row, Store, queue};

#[tokio::test]
async fn messages_on_the_filters_become_rows() {
    for transport in [
        Transport::InProcess,
        Transport::Grpc(Version::V3),
        Transport::Grpc(Version::V1),
    ] {
        let dir = TempDir::new("persist");
        let path = dir.join("messages.db");
        let (queue, writer) = queue::start(Store::sqlite(&path).unwrap(), 8, 3);
        let topics = "sensors/#, alarms/+"
            .split(',')
            .map(exhook_app_support::topic_filter)
            .collect::<Result<_, _>>()
            .unwrap();
        let broker = TestBroker::builder()
            .transport(transport)
            .provider(persist::server(queue, topics))
            .start()
            .await
            .unwrap();
        let client = broker.client("meter-7");
        client.connect().await;
        let mut expected = Vec::new();
        for n in 0..40 {
            let topic = ["sensors/a/temp", "alarms/fire", "chat/x", "alarms/a/b"][n % 4];
            let outcome = client
                .publish_qos(topic, format!("{n}"), (n % 3) as u32)
                .await;
            if !topic.starts_with("chat") && topic != "alarms/a/b" {
                expected.push((topic.to_owned(), format!("{n}"), (n % 3) as i32));
            }
            // Stored, not changed: the message goes on as published.
            assert_eq!(
                outcome.message().unwrap().payload,
                format!("{n}"),
                "{transport:?}"
            );
        }
        broker.shutdown().await;
        assert_eq!(writer.finish().await.unwrap(), 20, "{transport:?}");

        let rows = Store::sqlite(&path).unwrap().since(0).await.unwrap();
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.topic.clone(),
                    String::from_utf8(r.payload.to_vec()).unwrap(),
                    r.qos,
                )
            })
            .collect();
        assert_eq!(got, expected, "{transport:?}");
        assert!(
            rows.iter()
                .all(|r| r.clientid == "meter-7" && r.timestamp > 1_700_000_000_000)
        );
        let ids: BTreeSet<_> = rows.iter().map(|r| &r.message_id).collect();
        assert_eq!(ids.len(), rows.len(), "every message id once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_makes_handlers_wait_and_loses_nothing() {
    let dir = TempDir::new("persist");
    let path = dir.join("messages.db");
    let (queue, writer) = queue::start(Store::sqlite(&path).unwrap(), 2, 1);
    // Another connection holds the write lock: the writer cannot commit.
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();

    let mut calls = Vec::new();
    for n in 0..10 {
        let queue = queue.clone();
        calls.push(tokio::spawn(async move {
            let msg = Message {
                id: format!("id-{n}"),
                topic: "sensors/x".into(),
                payload: format!("{n}").into(),
                timestamp: 1,
                ..Default::default()
            };
            persist::persist(&msg, State(queue)).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answered = calls.iter().filter(|c| c.is_finished()).count();
    // Two rows wait in the queue and one is in the writer's hands.
    assert!(
        answered <= 3,
        "{answered} of 10 calls answered while the queue was full"
    );

    blocker.execute_batch("COMMIT").unwrap();
    for call in calls {
        assert!(call.await.unwrap().is_ok());
    }
    assert_eq!(writer.finish().await.unwrap(), 10);
    // Pushing after the writer finished is refused, not lost silently.
    assert!(
        persist::persist(&Message::default(), State(queue))
            .await
            .is_err()
    );
    assert_eq!(
        Store::sqlite(&path).unwrap().since(0).await.unwrap().len(),
        10
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_burst_writes_every_accepted_message_to_sqlite() {
    let dir = TempDir::new("persist");
    let path = dir.join("messages.db");
    let mut command = example();
    command.env("PERSIST_DB", &path).env("PERSIST_BATCH", "50");
    let (process, _) = Process::start(command).await;
    let burst = burst_then_sigterm(process, 2000).await;
    assert!(
        burst.accepted.len() >= 500,
        "only {} accepted",
        burst.accepted.len()
    );

    let rows = Store::sqlite(&path).unwrap().since(0).await.unwrap();
    let stored: Vec<String> = rows.iter().map(|r| r.message_id.clone()).collect();
    burst.check(&stored);
}

#[tokio::test]
async fn query_prints_matching_rows_since_a_time() {
    let dir = TempDir::new("persist");
    let path = dir.join("messages.db");
    let mut store = Store::sqlite(&path).unwrap();
    let now = now_ms();
    let row = |id: &str, topic: &str, payload: &[u8], age_ms: i64| Row {
        message_id: id.into(),
        topic: topic.into(),
        payload: payload.to_vec().into(),
        qos: 1,
        clientid: "meter".into(),
        timestamp: now - age_ms,
    };
    store
        .insert(&[
            row("a", "sensors/hall/temp", b"19.5", 2 * 3_600_000),
            row("b", "sensors/hall/temp", b"20.5", 10 * 60_000),
            row("c", "sensors/hall/humidity", b"40", 5 * 60_000),
            row("d", "sensors/roof/temp", &[0xff, 0x00], 60_000),
        ])
        .await
        .unwrap();
    drop(store);

    let output = example()
        .env("PERSIST_DB", &path)
        .args(["--query", "sensors/+/temp", "--since", "1h"])
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let fields: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(fields.len(), 2, "{text}");
    assert_eq!(fields[0][1..], ["meter", "1", "sensors/hall/temp", "20.5"]);
    assert_eq!(
        fields[1][1..],
        ["meter", "1", "sensors/roof/temp", "0xff00"]
    );
    let at = humantime::parse_rfc3339(fields[0][0]).unwrap();
    assert_eq!(
        at.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64,
        now - 10 * 60_000
    );

    let output = example()
        .env("PERSIST_DB", &path)
        .args(["--query", "sensors/#/x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("invalid value 'sensors/#/x' for '--query <FILTER>'"),
        "{said}"
    );
}

#[test]
fn since_takes_durations_and_rfc_3339_times() {
    let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    assert_eq!(
        persist::parse_since("90s", now).unwrap(),
        1_800_000_000_000 - 90_000
    );
    assert_eq!(
        persist::parse_since("2h", now).unwrap(),
        1_800_000_000_000 - 7_200_000
    );
    assert_eq!(
        persist::parse_since("2026-11-25T08:00:00Z", now).unwrap(),
        1_795_593_600_000
    );
    assert!(
        persist::parse_since("yesterday", now)
            .unwrap_err()
            .to_string()
            .contains("RFC 3339")
    );
}

#[test]
fn help_lists_the_options_and_their_variables() {
    let output = example().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for option in [
        "--topics <TOPICS>",
        "[env: PERSIST_TOPICS=]",
        "[default: sensors/#]",
        "--database-url <DATABASE_URL>",
        "[env: DATABASE_URL]",
        "--db <DB>",
        "[env: PERSIST_DB=]",
        "--queue <QUEUE>",
        "[env: PERSIST_QUEUE=]",
        "--batch <BATCH>",
        "[env: PERSIST_BATCH=]",
        "--query <FILTER>",
        "--since <WHEN>",
    ] {
        // clap wraps long lines at a width of its choosing: compare words.
        let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words(&help).contains(&words(option)),
            "{option} missing from:\n{help}"
        );
    }
}

#[test]
fn bad_settings_are_refused_before_anything_is_opened() {
    for (variable, value, expected) in [
        (
            "PERSIST_TOPICS",
            "sensors/#,a/#/b",
            "invalid value 'a/#/b' for '--topics <TOPICS>'",
        ),
        (
            "PERSIST_QUEUE",
            "0",
            "invalid value '0' for '--queue <QUEUE>'",
        ),
    ] {
        let output = example()
            .env(variable, value)
            .env("PERSIST_DB", "/nonexistent/messages.db")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "clap's usage error");
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(said.contains(expected), "{said}");
    }
}
