//! Three replicas of a provider behind HAProxy (deploy/haproxy/haproxy.cfg),
//! restarted one after the other under a steady load sent as EMQX sends it:
//! 8 long-lived HTTP/2 connections, the calls of one client id always on
//! the same one. No call may fail and every answer must be right.
//! `deploy/haproxy/rolling-restart.sh` installs HAProxy and runs this.

mod support;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use exhook_runtime::proto::v3::{self, hook_provider_client::HookProviderClient};
use support::client_v3;
use support::process::Process;
use tonic::transport::Channel;
use v3::valued_response::{ResponsedType, Value};

const CONNECTIONS: usize = 8;
/// Calls in flight per connection at any time.
const IN_FLIGHT: usize = 4;

/// A loopback port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn replica(port: u16) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slow_provider"));
    command.env("EXHOOK_LISTEN", format!("127.0.0.1:{port}"));
    Process::start(command).await.0
}

/// The HAProxy process, killed when dropped.
struct Haproxy(std::process::Child);

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Default)]
struct Tally {
    answered: AtomicUsize,
    failed: AtomicUsize,
    wrong: AtomicUsize,
}

/// One connection's load: clients `c{connection}-{n}`, alternately a user
/// the provider lets in (`instant`) and one it ignores.
async fn load(channel: Channel, connection: usize, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let mut calls = tokio::task::JoinSet::new();
    for lane in 0..IN_FLIGHT {
        let mut client = HookProviderClient::new(channel.clone());
        let (stop, tally) = (stop.clone(), tally.clone());
        calls.spawn(async move {
            let mut n = lane;
            while !stop.load(Ordering::Relaxed) {
                let allow = n % 2 == 0;
                let username = if allow { "instant" } else { "someone" };
                let request = v3::ClientAuthenticateRequest {
                    clientinfo: Some(client_v3(&format!("c{connection}-{n}"), username)),
                    result: false,
                    meta: None,
                };
                match client.on_client_authenticate(request).await {
                    Ok(answer) => {
                        let answer = answer.into_inner();
                        let right = if allow {
                            answer.r#type() == ResponsedType::StopAndReturn
                                && answer.value == Some(Value::BoolResult(true))
                        } else {
                            answer.r#type() == ResponsedType::Ignore
                        };
                        let counter = if right { &tally.answered } else { &tally.wrong };
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(status) => {
                        eprintln!("failed call: {status:?}");
                        tally.failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                n += IN_FLIGHT;
            }
        });
    }
    while calls.join_next().await.is_some() {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs HAProxy: set EXHOOK_TEST_HAPROXY"]
async fn a_rolling_restart_behind_haproxy_fails_no_call() {
    let haproxy = std::env::var("EXHOOK_TEST_HAPROXY").expect(
        "EXHOOK_TEST_HAPROXY: the haproxy binary (deploy/haproxy/rolling-restart.sh sets it)",
    );
    let ports = [free_port(), free_port(), free_port()];
    let mut replicas = Vec::new();
    for port in ports {
        replicas.push(Some(replica(port).await));
    }
    let frontend: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/haproxy/haproxy.cfg");
    let mut command = Command::new(haproxy);
    command
        .args(["-db", "-f", config])
        .env("EXHOOK_FRONTEND", frontend.to_string());
    for (i, port) in ports.iter().enumerate() {
        command.env(
            format!("EXHOOK_REPLICA_{}", i + 1),
            format!("127.0.0.1:{port}"),
        );
    }
    let _haproxy = Haproxy(command.spawn().expect("start haproxy"));

    // EMQX's pool: 8 connections, opened once.
    let mut channels = Vec::new();
    for _ in 0..CONNECTIONS {
        let endpoint = Channel::from_shared(format!("http://{frontend}")).unwrap();
        let mut attempts = 0;
        let channel = loop {
            match endpoint.connect().await {
                Ok(channel) => break channel,
                Err(_) if attempts < 50 => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("HAProxy does not accept connections: {error}"),
            }
        };
        channels.push(channel);
    }
    // All three replicas are up in HAProxy before the load starts.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let mut load_tasks = tokio::task::JoinSet::new();
    for (connection, channel) in channels.into_iter().enumerate() {
        load_tasks.spawn(load(channel, connection, stop.clone(), tally.clone()));
    }

    let started = std::time::Instant::now();
    for (i, port) in ports.into_iter().enumerate() {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = tally.answered.load(Ordering::Relaxed);
        let old = replicas[i].take().expect("running");
        old.terminate();
        let (status, lines) = old.wait().await;
        assert!(
            status.success(),
            "replica {} exited with {status:?}: {lines:?}",
            i + 1
        );
        replicas[i] = Some(replica(port).await);
        eprintln!(
            "replica {} restarted; {} calls answered meanwhile",
            i + 1,
            tally.answered.load(Ordering::Relaxed) - before
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    while load_tasks.join_next().await.is_some() {}

    let answered = tally.answered.load(Ordering::Relaxed);
    let failed = tally.failed.load(Ordering::Relaxed);
    let wrong = tally.wrong.load(Ordering::Relaxed);
    eprintln!(
        "rolling restart of 3 replicas in {:?}: {answered} calls answered right, {failed} failed, {wrong} wrong",
        started.elapsed()
    );
    assert_eq!((failed, wrong), (0, 0));
    assert!(answered > 1000, "too little load to tell: {answered} calls");
}

#[test]
fn the_readme_shows_the_tested_haproxy_configuration() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let config = std::fs::read_to_string(root.join("deploy/haproxy/haproxy.cfg")).unwrap();
    assert!(
        readme.contains(&format!("```haproxy\n{config}```")),
        "the README's HAProxy block differs from deploy/haproxy/haproxy.cfg"
    );
}
