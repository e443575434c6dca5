//! Hostile and broken peers, on loopback only, each test bounded in time:
//! stalled streams, silent connections, paced stream resets, running out of
//! file descriptors, and the connection cap. Whatever a peer does, the
//! server keeps its memory, descriptors and CPU, and keeps answering others.

mod support;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use exhook_runtime::proto::v3::{self, hook_provider_client::HookProviderClient};
use exhook_runtime::*;
use support::process::Process;
use support::raw_h2::RawH2;
use support::tls::Pki;
use support::{Running, client_v3};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::transport::Channel;
use v3::valued_response::Value;

const AUTHENTICATE: &str = "/emqx.exhook.v3.HookProvider/OnClientAuthenticate";

#[on_client_authenticate]
async fn authenticate(client: &ClientInfo) -> Decision {
    match client.username.as_str() {
        "allow" => Decision::Allow,
        _ => Decision::Ignore,
    }
}

fn login(username: &str) -> v3::ClientAuthenticateRequest {
    v3::ClientAuthenticateRequest {
        clientinfo: Some(client_v3("c", username)),
        result: false,
        meta: None,
    }
}

/// Whether a call on a fresh connection lets `username` in.
async fn allowed(addr: SocketAddr, username: &str) -> bool {
    let Ok(channel) = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
    else {
        return false;
    };
    match HookProviderClient::new(channel)
        .on_client_authenticate(login(username))
        .await
    {
        Ok(answer) => answer.into_inner().value == Some(Value::BoolResult(true)),
        Err(_) => false,
    }
}

/// An HTTP/2 connection made by the `h2` crate, which answers PINGs and
/// honours flow control, as EMQX's client does.
async fn h2_client(
    addr: SocketAddr,
) -> (h2::client::SendRequest<Bytes>, tokio::task::JoinHandle<()>) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    (client, task)
}

fn grpc_request(addr: SocketAddr) -> http::Request<()> {
    http::Request::post(format!("http://{addr}{AUTHENTICATE}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap()
}

/// One authenticate call on `client`; its `grpc-status`.
async fn h2_login(client: &mut h2::client::SendRequest<Bytes>, addr: SocketAddr) -> String {
    let message = prost::Message::encode_to_vec(&login("allow"));
    let mut body = vec![0];
    body.extend((message.len() as u32).to_be_bytes());
    body.extend(message);
    let ready = client.clone().ready().await.unwrap();
    *client = ready;
    let (response, mut send) = client.send_request(grpc_request(addr), false).unwrap();
    send.send_data(body.into(), true).unwrap();
    let response = response.await.unwrap();
    let headers = response.headers().clone();
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let _ = chunk.unwrap();
    }
    let trailers = body.trailers().await.unwrap().unwrap_or_default();
    let status = trailers.get("grpc-status").or(headers.get("grpc-status"));
    status.unwrap().to_str().unwrap().to_owned()
}

/// Whether the server closed `stream` within `timeout` (reading whatever
/// it sent first, such as its SETTINGS).
async fn closed_within(stream: &mut TcpStream, timeout: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    tokio::time::timeout(timeout, async {
        while let Ok(n) = stream.read(&mut buffer).await {
            if n == 0 {
                break;
            }
        }
    })
    .await
    .is_ok()
}

/// A process's peak resident memory, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A process's CPU time so far (user and system).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let per_second: u64 = String::from_utf8(
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    Duration::from_secs_f64(ticks as f64 / per_second as f64)
}

fn provider_process() -> Command {
    Command::new(env!("CARGO_BIN_EXE_slow_provider"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_streams_are_refused_or_reset_and_memory_stays_bounded() {
    let (process, _) = Process::start(provider_process()).await;
    let addr: SocketAddr = ([127, 0, 0, 1], process.port()).into();
    let started = std::time::Instant::now();

    // 20,000 calls that send headers and never a body, on one connection.
    const STREAMS: usize = 20_000;
    let stalled = RawH2::connect(addr).await;
    stalled
        .open((0..STREAMS as u32).map(|i| 2 * i + 1), AUTHENTICATE, false)
        .await;

    // 20 bodies of 4 MB, each a few bytes short, on another.
    let (mut client, _connection) = h2_client(addr).await;
    let mut partial = Vec::new();
    for _ in 0..20 {
        client = client.ready().await.unwrap();
        let (response, mut send) = client.send_request(grpc_request(addr), false).unwrap();
        let length: u32 = 4_000_000;
        let mut body = vec![0u8; 5 + length as usize - 8];
        body[1..5].copy_from_slice(&length.to_be_bytes());
        send.send_data(body.into(), false).unwrap();
        partial.push((response, send));
    }

    // Meanwhile a correct call on a fresh connection is answered.
    assert!(allowed(addr, "instant").await, "a correct call failed");

    let ended = stalled
        .wait(Duration::from_secs(40), |seen| {
            seen.closed || seen.ended.len() == STREAMS
        })
        .await;
    let (refused, reset, goaway) =
        stalled.seen(|seen| (seen.refused, seen.ended.len(), seen.goaway));
    let mut answered = 0;
    for (response, _send) in partial {
        if tokio::time::timeout(Duration::from_secs(20), response)
            .await
            .is_ok()
        {
            answered += 1;
        }
    }
    let peak = peak_rss_kib(process.pid());
    eprintln!(
        "stalled streams: {reset} ended ({refused} refused), GOAWAY {goaway:?}, all done after {:?}; \
         {answered} of 20 partial bodies answered; peak RSS {} MiB",
        started.elapsed(),
        peak / 1024
    );
    assert!(
        ended,
        "stalled streams still open after 40 s: {reset} ended"
    );
    assert_eq!(answered, 20, "partial bodies left waiting");
    assert!(peak < 160 * 1024, "peak RSS {peak} KiB");
    assert!(
        allowed(addr, "instant").await,
        "the server stopped answering"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_unresponsive_connections_are_closed_and_live_ones_kept() {
    let server = Running::start(
        Server::new(provider![authenticate])
            .http2_preface_timeout(Duration::from_millis(500))
            .http2_keepalive(Some(Duration::from_millis(300)), Duration::from_millis(300)),
    )
    .await;
    let addr = server.addr;
    // A client that answers PINGs, idle for longer than every timeout.
    let (mut live, connection) = h2_client(addr).await;

    let mut silent = Vec::new();
    for _ in 0..100 {
        silent.push(TcpStream::connect(addr).await.unwrap());
    }
    let mut preface_only = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .await
            .unwrap();
        preface_only.push(stream);
    }
    // Valid HTTP/2 peers that never answer a PING.
    let mut mute = Vec::new();
    for _ in 0..5 {
        mute.push(RawH2::connect(addr).await);
    }

    for stream in silent.iter_mut().chain(&mut preface_only) {
        assert!(closed_within(stream, Duration::from_secs(5)).await);
    }
    for peer in &mute {
        assert!(peer.wait(Duration::from_secs(5), |seen| seen.closed).await);
    }
    assert!(!connection.is_finished(), "a live connection was closed");
    assert_eq!(h2_login(&mut live, addr).await, "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_tls_handshake_is_closed() {
    let pki = Pki::new();
    let server = Running::start(
        Server::new(provider![authenticate])
            .tls(TlsConfig::from_pem(
                pki.server_cert.clone(),
                pki.server_key.clone(),
            ))
            .tls_handshake_timeout(Duration::from_millis(500)),
    )
    .await;
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    // The first bytes of a ClientHello, and then nothing.
    let mut half_hello = TcpStream::connect(server.addr).await.unwrap();
    half_hello
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(5)).await);
    assert!(closed_within(&mut half_hello, Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_keeps_resetting_its_streams_gets_goaway() {
    let server = Running::start(
        Server::new(provider![authenticate]).max_client_resets(50, Duration::from_secs(10)),
    )
    .await;
    let addr = server.addr;
    let pace = Duration::from_millis(20);

    // Cancelling some calls, as EMQX does at its request_timeout, is fine.
    let polite = RawH2::connect(addr).await;
    for id in (1..80).step_by(2) {
        polite.open([id], AUTHENTICATE, false).await;
        tokio::time::sleep(pace).await;
        polite.reset(id).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(polite.seen(|seen| seen.goaway.is_none() && !seen.closed));

    // Resetting every stream just after the server took it, paced below
    // h2's own detector, meets the budget.
    let hostile = RawH2::connect(addr).await;
    let mut cycled = 0;
    for id in (1..2000).step_by(2) {
        if hostile.seen(|seen| seen.goaway.is_some() || seen.closed) {
            break;
        }
        hostile.open([id], AUTHENTICATE, false).await;
        tokio::time::sleep(pace).await;
        hostile.reset(id).await;
        cycled += 1;
    }
    assert!(
        hostile
            .wait(Duration::from_secs(5), |seen| seen.goaway.is_some())
            .await
    );
    assert!(cycled <= 60, "{cycled} streams cycled before GOAWAY");
    assert!(
        hostile
            .wait(Duration::from_secs(5), |seen| seen.closed)
            .await
    );
    eprintln!("paced resets: GOAWAY after {cycled} streams");

    assert!(polite.seen(|seen| seen.goaway.is_none() && !seen.closed));
    assert!(allowed(addr, "allow").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_the_server_pauses_accepting_and_recovers() {
    // The provider as a process of its own, with 64 descriptors at most,
    // and a preface timeout of 5 s (10 s by default), after which the idle
    // connections below are closed.
    let mut command = Command::new("sh");
    command.args([
        "-c",
        "ulimit -n 64 && exec \"$0\"",
        env!("CARGO_BIN_EXE_slow_provider"),
    ]);
    command.env("SLOW_PROVIDER_PREFACE_MS", "5000");
    let (mut process, lines) = Process::start(command).await;
    assert!(
        lines.iter().any(|l| l.contains("open files limit: 64")),
        "{lines:?}"
    );
    let addr: SocketAddr = ([127, 0, 0, 1], process.port()).into();

    // More idle connections than descriptors: the rest wait in the backlog.
    let mut idle = Vec::new();
    for _ in 0..80 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let window = Duration::from_secs(3);
    let before = cpu_time(process.pid());
    tokio::time::sleep(window).await;
    let used = cpu_time(process.pid()) - before;
    eprintln!("out of descriptors: {used:?} of CPU in {window:?}");
    // An accept loop that retries at once spins a whole core.
    assert!(used < window / 2, "{used:?} of CPU in {window:?}");
    let lines = process.new_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("cannot accept") && l.contains("open files")),
        "{lines:?}"
    );

    // The idle connections are closed at the preface timeout, and a new
    // call gets through, while the test still holds them open.
    let started = std::time::Instant::now();
    let answered = tokio::time::timeout(Duration::from_secs(40), allowed(addr, "instant")).await;
    eprintln!(
        "out of descriptors: a new call answered after {:?}",
        started.elapsed()
    );
    assert_eq!(answered, Ok(true));
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_a_new_connection_waits_for_a_free_slot() {
    let server = Running::start(Server::new(provider![authenticate]).max_connections(3)).await;
    let addr = server.addr;
    let mut open = Vec::new();
    for _ in 0..3 {
        let (mut client, connection) = h2_client(addr).await;
        assert_eq!(h2_login(&mut client, addr).await, "0");
        open.push((client, connection));
    }
    let fourth = tokio::spawn(allowed(addr, "allow"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !fourth.is_finished(),
        "a connection beyond the cap was served"
    );
    let (client, connection) = open.pop().unwrap();
    drop(client);
    connection.abort();
    let answered = tokio::time::timeout(Duration::from_secs(10), fourth).await;
    assert!(matches!(answered, Ok(Ok(true))), "{answered:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_port_closes_silent_scrapers_and_stops_with_the_server() {
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = metrics.local_addr().unwrap();
    let server = Running::start(Server::new(provider![authenticate]).metrics_on(metrics)).await;
    let mut silent = TcpStream::connect(metrics_addr).await.unwrap();
    let mut half = TcpStream::connect(metrics_addr).await.unwrap();
    half.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(15)).await);
    assert!(closed_within(&mut half, Duration::from_secs(15)).await);

    server.stop().await.unwrap();
    assert!(
        TcpStream::connect(metrics_addr).await.is_err(),
        "the metrics port is still open after the server stopped"
    );
}
