//! The online table, and webhooks posted to a real local HTTP(S) server in
//! order, retried within bounds, never blocking a hook.

use std::collections::VecDeque;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use exhook_app_testing::{Process, TempDir, client_v3, port_of};
use exhook_runtime::proto::v3;
use exhook_runtime::testing::{TestBroker, Transport};
use exhook_runtime::{ClientInfo, Version};
use presence::{Change, Presence, Settings, webhook};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Status(u16),
    /// Never answers.
    Hang,
}

/// What the receiver got: path, content type, body.
type Got = (String, String, Value);

#[derive(Clone)]
struct Script {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    got: mpsc::UnboundedSender<Got>,
}

async fn receive(
    State(script): State<Script>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap();
    let _ = script.got.send((uri.path().to_owned(), content_type, body));
    let answer = script.answers.lock().unwrap().pop_front();
    match answer.unwrap_or(Answer::Status(200)) {
        Answer::Status(status) => StatusCode::from_u16(status).unwrap(),
        Answer::Hang => std::future::pending().await,
    }
}

/// A certificate authority made for one test, and a certificate it issued
/// for `localhost` and `127.0.0.1`.
struct TestCa {
    ca_pem: String,
    server: tokio_rustls::TlsAcceptor,
}

impl TestCa {
    fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        TestCa {
            ca_pem: ca.pem(),
            server: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        }
    }

    fn root(&self) -> reqwest::Certificate {
        reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap()
    }
}

/// A local HTTP server standing in for the webhook's receiver: answers as
/// scripted (then 200), and reports every request it got.
struct Receiver {
    url: String,
    requests: mpsc::UnboundedReceiver<Got>,
}

impl Receiver {
    async fn start(script: impl IntoIterator<Item = Answer>) -> Receiver {
        Receiver::serve(script, None).await
    }

    /// The same over TLS, with a certificate from `ca`.
    async fn start_tls(script: impl IntoIterator<Item = Answer>, ca: &TestCa) -> Receiver {
        Receiver::serve(script, Some(ca.server.clone())).await
    }

    async fn serve(
        script: impl IntoIterator<Item = Answer>,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (got, requests) = mpsc::unbounded_channel();
        let script = Script {
            answers: Arc::new(Mutex::new(script.into_iter().collect())),
            got,
        };
        let app = axum::Router::new()
            .route("/hooks/presence", axum::routing::post(receive))
            .with_state(script);
        let scheme = match tls {
            None => {
                tokio::spawn(axum::serve(listener, app).into_future());
                "http"
            }
            Some(acceptor) => {
                tokio::spawn(async move {
                    while let Ok((stream, _)) = listener.accept().await {
                        let (acceptor, app) = (acceptor.clone(), app.clone());
                        tokio::spawn(async move {
                            let Ok(stream) = acceptor.accept(stream).await else {
                                return;
                            };
                            let service = hyper_util::service::TowerToHyperService::new(app);
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                                .await;
                        });
                    }
                });
                "https"
            }
        };
        Receiver {
            url: format!("{scheme}://localhost:{port}/hooks/presence"),
            requests,
        }
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
        roots: Vec::new(),
    }
}

fn start(settings: Settings) -> presence::Webhook {
    webhook::start(settings).unwrap()
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
        let table = Presence::new(Some(start(settings(&receiver.url, 2000, 3, 100))));
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
    let table = Presence::new(Some(start(settings(&receiver.url, 1000, 3, 100))));
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
    let notifier = start(settings(&receiver.url, 200, 1, 4));
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
    let mut command = presence_command();
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
    let clientinfo = client_v3("sensor-9", "device");
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
    let response = reqwest::get(format!("http://127.0.0.1:{port}{path}"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

/// The command, with none of its settings taken from the test's shell.
fn presence_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_presence"));
    for variable in [
        "PRESENCE_WEBHOOK_URL",
        "PRESENCE_WEBHOOK_CA",
        "PRESENCE_WEBHOOK_TIMEOUT_MS",
        "PRESENCE_WEBHOOK_RETRIES",
        "PRESENCE_WEBHOOK_QUEUE",
        "PRESENCE_LISTEN",
    ] {
        command.env_remove(variable);
    }
    command
}

#[tokio::test]
async fn https_webhooks_are_posted_to_servers_the_given_ca_vouches_for() {
    let ca = TestCa::new();
    let mut receiver = Receiver::start_tls([Answer::Status(503)], &ca).await;
    assert!(receiver.url.starts_with("https://localhost:"));
    let mut trusting = settings(&receiver.url, 2000, 3, 100);
    trusting.roots.push(ca.root());
    let table = Presence::new(Some(start(trusting)));
    table.connected(&info("tls-1", 1), 1);
    // The 503 is retried over TLS too.
    let bodies = receiver.bodies(2).await;
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[0]["clientid"], "tls-1");

    // Without the CA the certificate is refused: nothing reaches the server.
    let stranger = Presence::new(Some(start(settings(&receiver.url, 2000, 1, 100))));
    stranger.connected(&info("tls-2", 2), 2);
    assert!(receiver.rest(Duration::from_millis(800)).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_posts_to_an_https_webhook_with_a_ca_file() {
    let ca = TestCa::new();
    let dir = TempDir::new("presence");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    let mut receiver = Receiver::start_tls([], &ca).await;
    let mut command = presence_command();
    command
        .arg("--webhook-url")
        .arg(&receiver.url)
        .arg("--webhook-ca")
        .arg(&ca_file);
    let (process, _) = Process::start(command).await;
    process
        .v3()
        .await
        .on_client_connected(v3::ClientConnectedRequest {
            clientinfo: Some(client_v3("sensor-1", "device")),
            meta: None,
        })
        .await
        .unwrap();
    let bodies = receiver.bodies(1).await;
    assert_eq!(bodies[0]["event"], "connected");
    assert_eq!(bodies[0]["clientid"], "sensor-1");
}

#[test]
fn help_lists_the_options_and_their_variables() {
    let output = presence_command().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for option in [
        "--webhook-url <WEBHOOK_URL>",
        "[env: PRESENCE_WEBHOOK_URL=]",
        "--webhook-ca <PEM_FILE>",
        "[env: PRESENCE_WEBHOOK_CA=]",
        "--webhook-timeout-ms <WEBHOOK_TIMEOUT_MS>",
        "[env: PRESENCE_WEBHOOK_TIMEOUT_MS=]",
        "--webhook-retries <WEBHOOK_RETRIES>",
        "[env: PRESENCE_WEBHOOK_RETRIES=]",
        "--webhook-queue <WEBHOOK_QUEUE>",
        "[env: PRESENCE_WEBHOOK_QUEUE=]",
        "--listen <LISTEN>",
        "[env: PRESENCE_LISTEN=]",
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
fn webhook_urls_must_be_http_or_https() {
    assert!(webhook::parse_url("https://hooks.example.net/p").is_ok());
    assert!(webhook::parse_url("http://127.0.0.1:8080/p").is_ok());
    for bad in ["ftp://example.net/p", "unix:/run/hook.sock", "not a url"] {
        assert!(webhook::parse_url(bad).is_err(), "{bad}");
    }
    let output = presence_command()
        .env("PRESENCE_WEBHOOK_URL", "ftp://example.net/p")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "clap's usage error");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("http:// or https://"), "{said}");
}
