//! The production runtime from outside: TLS and mutual TLS, health, metrics,
//! deadlines, limits, panics, graceful shutdown in process and on SIGTERM.

mod support;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use exhook_runtime::proto::v3::{self, hook_provider_client::HookProviderClient};
use exhook_runtime::*;
use support::process::{Process, port_of};
use support::tls::Pki;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use v3::valued_response::Value;

fn auth(username: &str) -> v3::ClientAuthenticateRequest {
    v3::ClientAuthenticateRequest {
        clientinfo: Some(client_v3(&format!("client-{username}"), username)),
        result: false,
        meta: None,
    }
}

mod handlers {
    use super::*;

    #[on_client_authenticate]
    pub(super) async fn authenticate(
        client: &ClientInfo,
        State(busy): State<Arc<Busy>>,
    ) -> Decision {
        let now = busy.current.fetch_add(1, Ordering::SeqCst) + 1;
        busy.peak.fetch_max(now, Ordering::SeqCst);
        let decision = match client.username.as_str() {
            "slow" => {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Decision::Allow
            }
            "stuck" => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Decision::Allow
            }
            "allow" => Decision::Allow,
            "deny" => Decision::Deny,
            _ => Decision::Ignore,
        };
        busy.current.fetch_sub(1, Ordering::SeqCst);
        decision
    }

    #[on_client_authorize]
    pub(super) async fn authorize(request: &event::ClientAuthorizeRequest) -> Decision {
        if request.topic == "stuck" {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Decision::Deny
    }

    #[on_message_publish]
    pub(super) async fn publish(msg: &Message) -> Publish {
        if msg.topic == "boom" {
            panic!("bad message");
        }
        Publish::Ignore
    }

    pub(super) fn provider() -> Provider {
        provider![authenticate, authorize, publish]
    }
}

#[derive(Default)]
struct Busy {
    current: AtomicUsize,
    peak: AtomicUsize,
}

fn server() -> Server {
    Server::new(handlers::provider()).state(Arc::new(Busy::default()))
}

// ---- TLS -------------------------------------------------------------------

#[test]
fn a_tls_file_that_cannot_be_read_is_an_error_with_its_source() {
    let error =
        TlsConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem").unwrap_err();
    // What failed, then (in `Debug`, as `anyhow` prints it) why, once.
    assert_eq!(error.to_string(), "TLS: reading /nonexistent/cert.pem");
    assert_eq!(
        format!("{error:?}"),
        "TLS: reading /nonexistent/cert.pem\n\nCaused by:\n    No such file or directory (os error 2)"
    );
    let source = std::error::Error::source(&error).expect("a source");
    let io = source
        .downcast_ref::<std::io::Error>()
        .expect("an I/O error");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
}

async fn tls_channel(
    addr: std::net::SocketAddr,
    pki: &Pki,
    identity: Option<(&str, &str)>,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&pki.ca))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    Channel::from_shared(format!("https://localhost:{}", addr.port()))
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await
}

async fn authenticate_over(
    channel: Channel,
    username: &str,
) -> Result<(&'static str, Option<Value>), tonic::Status> {
    let answer = HookProviderClient::new(channel)
        .on_client_authenticate(auth(username))
        .await?;
    Ok(valued(answer.into_inner()))
}

#[tokio::test]
async fn mutual_tls_accepts_the_right_client_certificate_and_refuses_others() {
    let pki = Pki::new();
    let tls = TlsConfig::from_pem(pki.server_cert.clone(), pki.server_key.clone())
        .client_ca(pki.ca.clone());
    let server = Running::start(server().tls(tls)).await;

    let channel = tls_channel(server.addr, &pki, Some((&pki.client_cert, &pki.client_key)))
        .await
        .unwrap();
    assert_eq!(
        authenticate_over(channel, "allow").await.unwrap(),
        ("STOP_AND_RETURN", Some(Value::BoolResult(true)))
    );

    // No client certificate, or one from an unknown CA: no call gets through.
    for identity in [
        None,
        Some((pki.stranger_cert.as_str(), pki.stranger_key.as_str())),
    ] {
        let refused = match tls_channel(server.addr, &pki, identity).await {
            Err(_) => true,
            Ok(channel) => authenticate_over(channel, "allow").await.is_err(),
        };
        assert!(
            refused,
            "a client without a trusted certificate got through"
        );
    }
    // Plain HTTP/2 to a TLS port fails too.
    let plain = Channel::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect()
        .await;
    let refused = match plain {
        Err(_) => true,
        Ok(channel) => authenticate_over(channel, "allow").await.is_err(),
    };
    assert!(refused);
}

#[tokio::test]
async fn tls_without_client_ca_serves_any_client() {
    let pki = Pki::new();
    let server = Running::start(server().tls(TlsConfig::from_pem(
        pki.server_cert.clone(),
        pki.server_key.clone(),
    )))
    .await;
    let channel = tls_channel(server.addr, &pki, None).await.unwrap();
    assert_eq!(
        authenticate_over(channel, "allow").await.unwrap(),
        ("STOP_AND_RETURN", Some(Value::BoolResult(true)))
    );
}

// ---- health and metrics -------------------------------------------------------

async fn health(channel: Channel, service: &str) -> ServingStatus {
    let answer = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .unwrap()
        .into_inner();
    ServingStatus::try_from(answer.status).unwrap()
}

#[tokio::test]
async fn health_reports_serving_for_every_protocol_version() {
    let server = Running::start(server()).await;
    for service in [
        "",
        "emqx.exhook.v1.HookProvider",
        "emqx.exhook.v2.HookProvider",
        "emqx.exhook.v3.HookProvider",
    ] {
        assert_eq!(
            health(server.channel().await, service).await,
            ServingStatus::Serving,
            "{service:?}"
        );
    }
}

async fn scrape(addr: std::net::SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

/// Whether two exposition lines are the same, with labels in any order
/// (their order carries no meaning, and encoders differ in it).
fn same_sample(a: &str, b: &str) -> bool {
    fn parts(line: &str) -> (&str, Vec<&str>, &str) {
        match line.split_once('{').zip(line.rsplit_once('}')) {
            Some(((name, _), (labels, value))) => {
                let labels = &labels[name.len() + 1..];
                let mut labels: Vec<&str> = labels.split(',').collect();
                labels.sort_unstable();
                (name, labels, value)
            }
            None => (line, Vec::new(), ""),
        }
    }
    parts(a) == parts(b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_calls_outcomes_latency_and_panics() {
    let metrics = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = metrics.local_addr().unwrap();
    let server = Running::start(server().metrics_on(metrics)).await;
    let mut client = server.v3().await;
    for username in ["allow", "allow", "deny", "nobody"] {
        client.on_client_authenticate(auth(username)).await.unwrap();
    }
    let mut v1 = server.v1().await;
    v1.on_client_authenticate(exhook_runtime::proto::v1::ClientAuthenticateRequest::default())
        .await
        .unwrap();
    let boom = v3::MessagePublishRequest {
        message: Some(message_v3("c", "boom", "x")),
        ..Default::default()
    };
    assert_eq!(
        client.on_message_publish(boom).await.unwrap_err().code(),
        Code::Internal
    );

    let text = scrape(metrics_addr).await;
    for line in [
        "exhook_calls_total{hook=\"client.authenticate\",version=\"v3\"} 4",
        "exhook_calls_total{hook=\"client.authenticate\",version=\"v1\"} 1",
        "exhook_calls_total{hook=\"message.publish\",version=\"v3\"} 1",
        "exhook_outcomes_total{hook=\"client.authenticate\",outcome=\"allow\"} 2",
        "exhook_outcomes_total{hook=\"client.authenticate\",outcome=\"deny\"} 1",
        "exhook_outcomes_total{hook=\"client.authenticate\",outcome=\"ignore\"} 2",
        "exhook_outcomes_total{hook=\"message.publish\",outcome=\"error\"} 1",
        "exhook_call_duration_seconds_count{hook=\"client.authenticate\"} 5",
        "exhook_call_duration_seconds_bucket{hook=\"client.authenticate\",le=\"+Inf\"} 5",
        "exhook_in_flight 0",
        "exhook_handler_panics_total 1",
        "# TYPE exhook_call_duration_seconds histogram",
    ] {
        assert!(
            text.lines().any(|l| same_sample(l, line)),
            "missing {line:?} in\n{text}"
        );
    }
}

// ---- faults and limits ----------------------------------------------------------

#[tokio::test]
async fn a_handler_that_outlives_the_deadline_answers_deadline_exceeded() {
    let server = Running::start(server()).await;
    let mut client = server.v3().await;
    // tonic's client gives up at the deadline too; the provider answers 5%
    // of it earlier, so its answer is what arrives.
    let mut request = tonic::Request::new(auth("stuck"));
    request.set_timeout(Duration::from_secs(1));
    let status = client.on_client_authenticate(request).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(
        status.message().contains("client.authenticate"),
        "{status:?}"
    );
    // The server is fine afterwards.
    let answer = client.on_client_authenticate(auth("allow")).await.unwrap();
    assert_eq!(
        valued(answer.into_inner()),
        ("STOP_AND_RETURN", Some(Value::BoolResult(true)))
    );
}

#[tokio::test]
async fn a_hook_can_ignore_instead_of_failing_on_timeout() {
    let server = server()
        .on_timeout(Hook::ClientAuthorize, OnTimeout::Ignore)
        .handler_timeout(Duration::from_millis(150));
    let server = Running::start(server).await;
    let mut client = server.v3().await;
    let authorize = |topic: &str| v3::ClientAuthorizeRequest {
        topic: topic.into(),
        ..Default::default()
    };
    // The server's own limit applies even without a grpc-timeout.
    let answer = client
        .on_client_authorize(authorize("stuck"))
        .await
        .unwrap();
    assert_eq!(valued(answer.into_inner()), ("IGNORE", None));
    let answer = client.on_client_authorize(authorize("fast")).await.unwrap();
    assert_eq!(
        valued(answer.into_inner()),
        ("STOP_AND_RETURN", Some(Value::BoolResult(false)))
    );
    // Other hooks keep failing with DEADLINE_EXCEEDED.
    let status = client
        .on_client_authenticate(auth("stuck"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
}

#[tokio::test]
async fn an_oversized_request_gets_resource_exhausted() {
    let server = Running::start(server().max_request_size(1024)).await;
    let mut client = server.v3().await;
    let big = v3::MessagePublishRequest {
        message: Some(message_v3("c", "t", &"x".repeat(4096))),
        ..Default::default()
    };
    let status = client.on_message_publish(big).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let small = v3::MessagePublishRequest {
        message: Some(message_v3("c", "t", "x")),
        ..Default::default()
    };
    client.on_message_publish(small).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_limit_makes_calls_wait_instead_of_failing() {
    let busy = Arc::new(Busy::default());
    let server = Server::new(handlers::provider())
        .state(busy.clone())
        .concurrency_limit(2);
    let server = Running::start(server).await;
    let channel = server.channel().await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let mut client = HookProviderClient::new(channel.clone());
        calls.spawn(async move {
            client
                .on_client_authenticate(auth("slow"))
                .await
                .map(|a| valued(a.into_inner()))
        });
    }
    while let Some(answer) = calls.join_next().await {
        assert_eq!(
            answer.unwrap().unwrap(),
            ("STOP_AND_RETURN", Some(Value::BoolResult(true)))
        );
    }
    assert_eq!(
        busy.peak.load(Ordering::SeqCst),
        2,
        "at most two calls ran at once"
    );
}

// ---- graceful shutdown --------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_every_call_in_flight_and_reports_not_serving() {
    let server = server();
    let stop = server.shutdown_handle();
    let server = Running::start(server).await;
    let channel = server.channel().await;

    let mut watch = HealthClient::new(channel.clone())
        .watch(HealthCheckRequest {
            service: "emqx.exhook.v3.HookProvider".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let first: HealthCheckResponse = watch.message().await.unwrap().unwrap();
    assert_eq!(
        ServingStatus::try_from(first.status).unwrap(),
        ServingStatus::Serving
    );

    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let mut client = HookProviderClient::new(channel.clone());
        calls.spawn(async move {
            client
                .on_client_authenticate(auth("slow"))
                .await
                .map(|a| valued(a.into_inner()))
        });
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.shutdown();

    let next = watch.message().await.unwrap().unwrap();
    assert_eq!(
        ServingStatus::try_from(next.status).unwrap(),
        ServingStatus::NotServing
    );
    while let Some(answer) = calls.join_next().await {
        assert_eq!(
            answer.unwrap().unwrap(),
            ("STOP_AND_RETURN", Some(Value::BoolResult(true)))
        );
    }
    drop(watch);
    let stopped = tokio::time::timeout(Duration::from_secs(10), server.stop()).await;
    assert!(matches!(stopped, Ok(Ok(()))), "{stopped:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drain_time_bounds_a_shutdown() {
    let server = server().drain_timeout(Duration::from_millis(200));
    let stop = server.shutdown_handle();
    let server = Running::start(server).await;
    let mut client = server.v3().await;
    let stuck = tokio::spawn(async move { client.on_client_authenticate(auth("stuck")).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.shutdown();
    // The 30 s handler does not hold the server past its drain time.
    let stopped = tokio::time::timeout(Duration::from_secs(10), server.stop()).await;
    assert!(matches!(stopped, Ok(Ok(()))), "{stopped:?}");
    // When the drain time is over, the server closes its connections: the
    // stuck call fails rather than being answered.
    let stuck = tokio::time::timeout(Duration::from_secs(5), stuck).await;
    assert!(
        matches!(stuck, Ok(Ok(Err(_)))),
        "the stuck call was answered or left hanging: {stuck:?}"
    );
}

/// After its final GOAWAY the server closes its side and keeps reading until
/// the peer closes too: bytes the peer sent late (as a proxy's WINDOW_UPDATE
/// can be) are never answered with a TCP reset, which would make the peer
/// discard the last answers it has not read yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_closes_connections_without_a_reset() {
    let server = server();
    let stop = server.shutdown_handle();
    let server = Running::start(server).await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    // The client preface and an empty SETTINGS frame.
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.shutdown();

    // The server's frames up to its end of the stream: SETTINGS, GOAWAY and a
    // PING, which the client answers (the final GOAWAY waits for that).
    let frames = async {
        let mut kinds = Vec::new();
        let mut header = [0u8; 9];
        while tcp.read_exact(&mut header).await.is_ok() {
            let length = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
            let mut payload = vec![0u8; length];
            tcp.read_exact(&mut payload).await.unwrap();
            let (kind, flags) = (header[3], header[4]);
            if kind == 6 && flags & 1 == 0 {
                let mut ack = vec![0, 0, 8, 6, 1, 0, 0, 0, 0];
                ack.extend(&payload);
                tcp.write_all(&ack).await.unwrap();
            }
            kinds.push(kind);
        }
        kinds
    };
    let kinds = tokio::time::timeout(Duration::from_secs(5), frames)
        .await
        .unwrap();
    assert!(kinds.contains(&7), "no GOAWAY among the frames {kinds:?}");

    // Late bytes from the client: a PING (8 bytes of payload), twice. A socket
    // closed already answers the first with a reset, which fails the second.
    let ping = [0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
    for _ in 0..2 {
        let written = tcp.write_all(&ping).await;
        assert!(
            written.is_ok(),
            "the server reset the connection: {written:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(tcp);
    let stopped = tokio::time::timeout(Duration::from_secs(10), server.stop()).await;
    assert!(matches!(stopped, Ok(Ok(()))), "{stopped:?}");
}

// ---- the process, configured by environment variables ----------------------------

fn slow_provider() -> Command {
    Command::new(env!("CARGO_BIN_EXE_slow_provider"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_burst_answers_every_call_and_exits_zero() {
    let (process, lines) = Process::start(slow_provider()).await;
    let port = port_of(lines.last().unwrap(), "127.0.0.1:");
    let channel = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let mut client = HookProviderClient::new(channel.clone());
        calls.spawn(async move {
            client
                .on_client_authenticate(auth("slow"))
                .await
                .map(|a| valued(a.into_inner()))
        });
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    process.terminate();
    let mut answered = 0;
    while let Some(answer) = calls.join_next().await {
        assert_eq!(
            answer.unwrap().unwrap(),
            ("STOP_AND_RETURN", Some(Value::BoolResult(true)))
        );
        answered += 1;
    }
    assert_eq!(answered, 50);
    let (status, lines) = process.wait().await;
    assert!(status.success(), "{status:?} {lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("shutting down")),
        "{lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_mtls_and_metrics_from_environment_variables() {
    let pki = Pki::new();
    let dir = std::env::temp_dir().join(format!("exhook-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, pem) in [
        ("server.pem", &pki.server_cert),
        ("server.key", &pki.server_key),
        ("ca.pem", &pki.ca),
    ] {
        std::fs::write(dir.join(name), pem).unwrap();
    }
    let path = |name: &str| dir.join(name).display().to_string();
    let mut command = slow_provider();
    command
        .env("EXHOOK_TLS_CERT", path("server.pem"))
        .env("EXHOOK_TLS_KEY", path("server.key"))
        .env("EXHOOK_TLS_CLIENT_CA", path("ca.pem"))
        .env("EXHOOK_METRICS_LISTEN", "127.0.0.1:0");
    let (process, lines) = Process::start(command).await;
    let line = lines.last().unwrap();
    assert!(line.contains("with mutual TLS"), "{line}");
    let port = port_of(line, "127.0.0.1:");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();

    let channel = tls_channel(addr, &pki, Some((&pki.client_cert, &pki.client_key)))
        .await
        .unwrap();
    // `instant` is the user the process provider allows at once.
    assert_eq!(
        authenticate_over(channel.clone(), "instant").await.unwrap(),
        ("STOP_AND_RETURN", Some(Value::BoolResult(true)))
    );
    let refused = match tls_channel(addr, &pki, None).await {
        Err(_) => true,
        Ok(channel) => authenticate_over(channel, "allow").await.is_err(),
    };
    assert!(refused, "a client without a certificate got through");

    let metrics_line = lines
        .iter()
        .find(|l| l.contains("metrics on"))
        .expect("a metrics line");
    let metrics_port = port_of(metrics_line, "http://127.0.0.1:");
    let text = scrape(format!("127.0.0.1:{metrics_port}").parse().unwrap()).await;
    assert!(
        text.contains("exhook_calls_total{hook=\"client.authenticate\",version=\"v3\"} 1"),
        "{text}"
    );

    process.terminate();
    let (status, lines) = process.wait().await;
    assert!(status.success(), "{status:?} {lines:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- tracing --------------------------------------------------------------------

#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn each_call_has_a_span_with_hook_client_and_topic_but_no_password() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("exhook=debug")
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // The test runtime has one thread, so the server's tasks see this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = Running::start(server()).await;
    let mut client = server.v3().await;
    client.on_client_authenticate(auth("allow")).await.unwrap();
    let authorize = v3::ClientAuthorizeRequest {
        clientinfo: Some(client_v3("reader-7", "allow")),
        topic: "sensors/1".into(),
        ..Default::default()
    };
    client.on_client_authorize(authorize).await.unwrap();
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let authenticate = text
        .lines()
        .find(|l| l.contains("hook=\"client.authenticate\""))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        authenticate.contains("version=v3") && authenticate.contains("clientid=\"client-allow\""),
        "{authenticate}"
    );
    let authorize = text
        .lines()
        .find(|l| l.contains("hook=\"client.authorize\""))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        authorize.contains("clientid=\"reader-7\"") && authorize.contains("topic=\"sensors/1\""),
        "{authorize}"
    );
    // `client_v3` sets the password `secret`.
    assert!(!text.contains("secret"), "{text}");
}

// ---- configuration from the environment -------------------------------------

/// Marks the child run of the test below.
const CHILD: &str = "EXHOOK_TEST_NONSENSE_ENVIRONMENT";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonsense_in_the_environment_reaches_only_serve_and_from_env() {
    const NAME: &str = "nonsense_in_the_environment_reaches_only_serve_and_from_env";
    if std::env::var_os(CHILD).is_none() {
        // This test again, in a process whose environment holds nonsense
        // (and no other `EXHOOK_*` setting of this one's).
        let mut command = Command::new(std::env::current_exe().unwrap());
        let output = exhook_app_testing::without_inherited_exhook_variables(&mut command)
            .args([NAME, "--exact", "--nocapture"])
            .env(CHILD, "1")
            .env("EXHOOK_TLS_CERT", "/nonexistent/server.pem")
            .env("EXHOOK_TLS_KEY", "not a key")
            .env("EXHOOK_METRICS_LISTEN", "nonsense")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains("1 passed"), "{stdout}");
        return;
    }

    // The test kit's broker over gRPC…
    let broker = exhook_runtime::testing::TestBroker::builder()
        .transport(exhook_runtime::testing::Transport::Grpc(Version::V3))
        .provider(server())
        .start()
        .await
        .unwrap();
    assert_eq!(
        broker.client("a").username("allow").connect().await,
        exhook_runtime::testing::ConnectOutcome::Allowed
    );
    // …and `serve_on` work as in any shell.
    let running = Running::start(server()).await;
    assert_eq!(
        authenticate_over(running.channel().await, "allow")
            .await
            .unwrap(),
        ("STOP_AND_RETURN", Some(Value::BoolResult(true)))
    );
    // The constructor that asks for the environment says what is wrong.
    let error = Server::from_env(handlers::provider())
        .err()
        .expect("an error");
    assert!(error.to_string().contains("EXHOOK_TLS_CERT"), "{error}");
}
