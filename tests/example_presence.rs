//! `examples/presence`: the online table, and webhooks posted to a real
//! local HTTP server in order, retried within bounds, never blocking a hook.

mod support;

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/presence/main.rs"]
mod presence;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use exhook_runtime::proto::v3;
use exhook_runtime::testing::{TestBroker, Transport};
use exhook_runtime::{ClientInfo, Version};
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use presence::{Change, Presence, Settings, webhook};
use serde_json::{Value, json};
use support::process::{Process, port_of};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Status(u16),
    /// Never answers.
    Hang,
}

/// A local HTTP server standing in for the webhook's receiver: answers as
/// scripted (then 200), and reports every request it got.
struct Receiver {
    url: String,
    requests: mpsc::UnboundedReceiver<(String, String, Value)>,
}

impl Receiver {
    async fn start(script: impl IntoIterator<Item = Answer>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/presence", listener.local_addr().unwrap());
        let script = Arc::new(Mutex::new(script.into_iter().collect::<VecDeque<_>>()));
        let (tx, requests) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (script, tx) = (script.clone(), tx.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |request: Request<hyper::body::Incoming>| {
                            let (script, tx) = (script.clone(), tx.clone());
                            async move {
                                let path = request.uri().path().to_owned();
                                let content_type = request
                                    .headers()
                                    .get("content-type")
                                    .map(|v| v.to_str().unwrap().to_owned())
                                    .unwrap_or_default();
                                let body = request.into_body().collect().await.unwrap().to_bytes();
                                let body: Value = serde_json::from_slice(&body).unwrap();
                                let _ = tx.send((path, content_type, body));
                                let answer = script
                                    .lock()
                                    .unwrap()
                                    .pop_front()
                                    .unwrap_or(Answer::Status(200));
                                let status = match answer {
                                    Answer::Status(status) => status,
                                    Answer::Hang => {
                                        tokio::time::sleep(Duration::from_secs(3600)).await;
                                        200
                                    }
                                };
                                let mut response = Response::new(Full::new(Bytes::new()));
                                *response.status_mut() = StatusCode::from_u16(status).unwrap();
                                Ok::<_, Infallible>(response)
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver { url, requests }
    }

    /// The next `n` request bodies, waiting up to 10 s.
    async fn bodies(&mut self, n: usize) -> Vec<Value> {
        let mut got = Vec::new();
        while got.len() < n {
            match tokio::time::timeout(Duration::from_secs(10), self.requests.recv()).await {
                Ok(Some((path, content_type, body))) => {
                    assert_eq!(path, "/hooks/presence");
                    assert_eq!(content_type, "application/json");
                    got.push(body);
                }
                _ => panic!("{} of {n} webhook requests arrived: {got:?}", got.len()),
            }
        }
        got
    }

    /// Whatever arrives within `wait`.
    async fn rest(&mut self, wait: Duration) -> Vec<Value> {
        let mut got = Vec::new();
        while let Ok(Some((_, _, body))) = tokio::time::timeout(wait, self.requests.recv()).await {
            got.push(body);
        }
        got
    }
}

fn settings(url: &str, timeout_ms: u64, retries: u32, queue: usize) -> Settings {
    Settings {
        url: webhook::parse_url(url).unwrap(),
        timeout: Duration::from_millis(timeout_ms),
        retries,
        queue,
    }
}

/// `body` without its timestamps, which the test cannot know.
fn without_times(mut body: Value) -> Value {
    let fields = body.as_object_mut().unwrap();
    for time in ["timestamp", "connected_at"] {
        if let Some(value) = fields.remove(time) {
            assert!(
                value.is_null() || value.as_i64().unwrap() > 1_700_000_000_000,
                "{value}"
            );
        }
    }
    body
}

#[tokio::test]
async fn the_table_follows_clients_and_each_change_is_posted_in_order() {
    for transport in [
        Transport::InProcess,
        Transport::Grpc(Version::V3),
        Transport::Grpc(Version::V1),
    ] {
        let mut receiver = Receiver::start([]).await;
        let table = Presence::new(Some(webhook::start(settings(&receiver.url, 2000, 3, 100))));
        let broker = TestBroker::builder()
            .transport(transport)
            .provider(presence::server(table.clone()))
            .start()
            .await
            .unwrap();
        let alice = broker.client("alice-phone").username("alice");
        let bob = broker.client("bob-laptop").username("bob");
        alice.connect().await;
        bob.connect().await;
        alice.disconnect().await;

        assert_eq!(table.online(), 1, "{transport:?}");
        let alice_entry = table.get("alice-phone").unwrap();
        assert!(!alice_entry.online);
        assert_eq!(alice_entry.reason.as_deref(), Some("normal"));
        assert!(alice_entry.disconnected_at.unwrap() >= alice_entry.connected_at);
        assert!(table.get("bob-laptop").unwrap().online);

        let bodies: Vec<Value> = receiver
            .bodies(3)
            .await
            .into_iter()
            .map(without_times)
            .collect();
        let client = |event: &str, clientid: &str, username: &str| json!({"event": event, "clientid": clientid, "username": username, "peerhost": "127.0.0.1", "node": "emqx@127.0.0.1"});
        let mut gone = client("disconnected", "alice-phone", "alice");
        gone["reason"] = json!("normal");
        gone["offline"] = json!(true);
        assert_eq!(
            bodies,
            [
                client("connected", "alice-phone", "alice"),
                client("connected", "bob-laptop", "bob"),
                gone
            ],
            "{transport:?}"
        );
        assert!(receiver.rest(Duration::from_millis(200)).await.is_empty());
    }
}

fn info(clientid: &str, peerport: u32) -> ClientInfo {
    ClientInfo {
        clientid: clientid.into(),
        username: "u".into(),
        peerhost: "10.0.0.7".into(),
        peerport,
        node: "emqx@10.0.0.1".into(),
        ..Default::default()
    }
}

#[test]
fn a_late_end_of_a_taken_over_connection_keeps_the_client_online() {
    let table = Presence::new(None);
    table.connected(&info("c", 40_001), 1_000);
    // The client reconnected from another port; EMQX reports the old
    // connection's end afterwards.
    table.connected(&info("c", 40_002), 2_000);
    let change = table.disconnected(&info("c", 40_001), "takenover", 2_001);
    assert!(
        matches!(change, Change::Disconnected { offline: false, .. }),
        "{change:?}"
    );
    assert!(table.get("c").unwrap().online);
    assert_eq!(table.get("c").unwrap().connected_at, 2_000);

    let change = table.disconnected(&info("c", 40_002), "keepalive_timeout", 9_000);
    assert!(
        matches!(
            change,
            Change::Disconnected {
                offline: true,
                connected_at: Some(2_000),
                ..
            }
        ),
        "{change:?}"
    );
    let entry = table.get("c").unwrap();
    assert!(!entry.online);
    assert_eq!(
        (entry.disconnected_at, entry.reason.as_deref()),
        (Some(9_000), Some("keepalive_timeout"))
    );
    // A disconnection of a client never seen connected is recorded too.
    table.disconnected(&info("d", 1), "kicked", 10_000);
    assert!(!table.get("d").unwrap().online);
    assert_eq!(table.online(), 0);
}

#[tokio::test]
async fn failed_posts_are_retried_a_bounded_number_of_times() {
    use Answer::Status;
    // First change: two 503s, then accepted. Second: five 500s, more than
    // the 3 retries, so dropped. Third: 400, not retried. Fourth: accepted.
    let mut receiver = Receiver::start([
        Status(503),
        Status(503),
        Status(200),
        Status(500),
        Status(500),
        Status(500),
        Status(500),
        Status(400),
    ])
    .await;
    let table = Presence::new(Some(webhook::start(settings(&receiver.url, 1000, 3, 100))));
    for (n, port) in [(1, 1), (2, 2), (3, 3), (4, 4)] {
        table.connected(&info(&format!("c{n}"), port), n);
    }
    let ids: Vec<String> = receiver
        .bodies(3 + 4 + 1 + 1)
        .await
        .iter()
        .map(|b| b["clientid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["c1", "c1", "c1", "c2", "c2", "c2", "c2", "c3", "c4"]);
    assert!(receiver.rest(Duration::from_millis(500)).await.is_empty());
}

#[tokio::test]
async fn a_hanging_webhook_never_blocks_a_hook() {
    let mut receiver = Receiver::start([Answer::Hang; 64]).await;
    let notifier = webhook::start(settings(&receiver.url, 200, 1, 4));
    let table = Presence::new(Some(notifier.clone()));
    let broker = TestBroker::builder()
        .transport(Transport::Grpc(Version::V3))
        .provider(presence::server(table.clone()))
        .start()
        .await
        .unwrap();
    for n in 0..30 {
        let client = broker.client(format!("c{n}"));
        tokio::time::timeout(Duration::from_secs(2), client.connect())
            .await
            .expect("connect answered while the webhook hangs");
    }
    // The table is right whatever the webhook does.
    assert_eq!(table.online(), 30);
    // One change is being posted, four wait; the rest were dropped.
    assert!(
        notifier.dropped() >= 30 - 1 - 4 - 1,
        "{} dropped",
        notifier.dropped()
    );
    // Each attempt ends at the timeout: the first change was tried twice.
    let first = receiver.bodies(2).await;
    assert_eq!(first[0], first[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_posts_changes_and_serves_the_table() {
    let mut receiver = Receiver::start([Answer::Status(502)]).await;
    let mut command = Command::new(env!("CARGO_BIN_EXE_example-presence"));
    command
        .env("PRESENCE_WEBHOOK_URL", &receiver.url)
        .env("PRESENCE_LISTEN", "127.0.0.1:0");
    let (process, lines) = Process::start(command).await;
    let table_line = lines
        .iter()
        .find(|l| l.contains("table at"))
        .expect("a table line");
    let table_port = port_of(table_line, "http://127.0.0.1:");

    let mut provider = process.v3().await;
    let clientinfo = support::client_v3("sensor-9", "device");
    provider
        .on_client_connected(v3::ClientConnectedRequest {
            clientinfo: Some(clientinfo.clone()),
            meta: None,
        })
        .await
        .unwrap();
    provider
        .on_client_disconnected(v3::ClientDisconnectedRequest {
            clientinfo: Some(clientinfo),
            reason: "keepalive_timeout".into(),
            meta: None,
        })
        .await
        .unwrap();
    // The 502 made the first post go twice.
    let bodies = receiver.bodies(3).await;
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[0]["event"], "connected");
    assert_eq!(bodies[2]["event"], "disconnected");
    assert_eq!(bodies[2]["reason"], "keepalive_timeout");

    let table = http_get(table_port, "/clients").await;
    assert_eq!(table["sensor-9"]["online"], false);
    assert_eq!(table["sensor-9"]["username"], "device");
    assert_eq!(table["sensor-9"]["reason"], "keepalive_timeout");
    process.terminate();
    assert!(process.wait().await.0.success());
}

async fn http_get(port: u16, path: &str) -> Value {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = Request::get(path)
        .header("host", format!("127.0.0.1:{port}"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}
