//! `examples/persist`: every accepted message becomes one row, in SQLite or
//! PostgreSQL, including after SIGTERM in the middle of a burst; a full
//! queue makes handlers wait; `--query` prints what was stored.

mod support;

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/persist/main.rs"]
mod persist;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use exhook_runtime::proto::v3;
use exhook_runtime::testing::{TestBroker, Transport};
use exhook_runtime::{Message, State, Version};
use persist::{Row, Store, queue};
use support::process::Process;
use support::{TempDir, message_v3};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

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
        let topics = persist::parse_topics("sensors/#, alarms/+").unwrap();
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

fn example() -> Command {
    Command::new(env!("CARGO_BIN_EXE_example-persist"))
}

/// What a burst interrupted by SIGTERM left.
struct Burst {
    /// Ids of the messages whose calls were answered `OK`.
    accepted: BTreeSet<String>,
    /// How many rows the provider said it wrote before exiting.
    written: usize,
    /// How many messages were sent (ids `m00000` up).
    sent: usize,
}

impl Burst {
    /// Checks the stored message ids against the burst: every accepted
    /// message was written, nothing was written twice, and the provider
    /// wrote what it said.
    ///
    /// A message can be stored although its call was not answered `OK`: a
    /// provider that has stopped closes its connections while the client
    /// is still sending, and the kernel then resets them, which can discard
    /// answers already sent but not yet read. EMQX treats such a call as
    /// failed; no accepted message is lost.
    fn check(&self, stored: &[String]) {
        let unique: BTreeSet<&String> = stored.iter().collect();
        assert_eq!(unique.len(), stored.len(), "a message stored twice");
        assert_eq!(stored.len(), self.written, "rows vs the provider's count");
        let missing: Vec<_> = self
            .accepted
            .iter()
            .filter(|id| !unique.contains(id))
            .collect();
        assert!(missing.is_empty(), "accepted but not stored: {missing:?}");
        let sent: BTreeSet<String> = (0..self.sent).map(|n| format!("m{n:05}")).collect();
        let unknown: Vec<_> = stored.iter().filter(|id| !sent.contains(*id)).collect();
        assert!(unknown.is_empty(), "rows never sent: {unknown:?}");
    }
}

/// Sends `total` publishes over 4 connections and SIGTERMs the process once
/// a quarter are answered.
async fn burst_then_sigterm(process: Process, total: usize) -> Burst {
    let mut calls = tokio::task::JoinSet::new();
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for connection in 0..4 {
        let client = process.v3().await;
        let answered = answered.clone();
        calls.spawn(async move {
            let mut accepted = Vec::new();
            let mut in_flight = tokio::task::JoinSet::new();
            for n in (connection..total).step_by(4) {
                let mut client = client.clone();
                let answered = answered.clone();
                in_flight.spawn(async move {
                    let mut message = message_v3("meter", &format!("sensors/{n}"), &n.to_string());
                    message.id = format!("m{n:05}");
                    let request = v3::MessagePublishRequest {
                        message: Some(message),
                        ..Default::default()
                    };
                    let ok = client.on_message_publish(request).await.is_ok();
                    answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    ok.then(|| format!("m{n:05}"))
                });
                if in_flight.len() >= 16 {
                    accepted.extend(in_flight.join_next().await.unwrap().unwrap());
                }
            }
            while let Some(id) = in_flight.join_next().await {
                accepted.extend(id.unwrap());
            }
            drop(client);
            accepted
        });
    }
    while answered.load(std::sync::atomic::Ordering::Relaxed) < total / 4 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    process.terminate();
    let mut accepted = BTreeSet::new();
    while let Some(ids) = calls.join_next().await {
        accepted.extend(ids.unwrap());
    }
    let (status, lines) = process.wait().await;
    assert!(status.success(), "{status:?} {lines:?}");
    let written_line = lines
        .iter()
        .find(|l| l.contains("messages written"))
        .unwrap_or_else(|| panic!("{lines:?}"));
    let written: usize = written_line
        .split(" messages written")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{written_line}"));
    // The signal came in the middle: later calls found the server gone.
    assert!(
        accepted.len() < total,
        "every call was accepted: SIGTERM came too late"
    );
    eprintln!(
        "{} of {total} messages accepted before the provider stopped, {written} written",
        accepted.len()
    );
    Burst {
        accepted,
        written,
        sent: total,
    }
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
    assert!(String::from_utf8_lossy(&output.stderr).contains("--query \"sensors/#/x\""));
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
            .contains("RFC 3339")
    );
}

// ---- PostgreSQL --------------------------------------------------------------

/// The server `.ci/run` starts, or `None` on a plain machine.
fn postgres_url() -> Option<String> {
    support::real_server("EXHOOK_TEST_POSTGRES_URL", "PostgreSQL")
}

/// A fresh schema on the test server, so tests do not share a table.
async fn fresh_schema(url: &str) -> String {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let schema = format!("persist_{}_{}", std::process::id(), now_ms());
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-csearch_path%3D{schema}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_burst_writes_every_accepted_message_to_postgresql() {
    let Some(url) = postgres_url() else { return };
    let database_url = fresh_schema(&url).await;
    let mut command = example();
    command
        .env("DATABASE_URL", &database_url)
        .env("PERSIST_BATCH", "100");
    let (process, lines) = Process::start(command).await;
    assert!(
        lines.iter().any(|l| l.contains("in PostgreSQL")),
        "{lines:?}"
    );
    let burst = burst_then_sigterm(process, 2000).await;
    assert!(
        burst.accepted.len() >= 500,
        "only {} accepted",
        burst.accepted.len()
    );

    let (client, connection) = tokio_postgres::connect(&database_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let ids: Vec<String> = client
        .query("SELECT message_id FROM messages", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    burst.check(&ids);

    // `--query` reads the same table.
    let output = example()
        .env("DATABASE_URL", &database_url)
        .args(["--query", "sensors/+"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().lines().count(),
        burst.written
    );
}
