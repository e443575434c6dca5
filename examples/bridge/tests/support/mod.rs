//! What the bridge's tests share: its configuration and its process, a
//! sink the test controls, the workload of many clients publishing through
//! EMQX's hook, the delivery check, and a TCP relay whose connections the
//! test can cut.

#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge::config::Config;
use bridge::{Bridge, Record, Sink, SinkError};
use clap::{CommandFactory, FromArgMatches};
use exhook_app_testing::{Process, message_v3};
use exhook_runtime::testing::{TestBroker, Transport};
use exhook_runtime::{TopicFilter, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A name no other test (or earlier run) uses.
pub fn unique(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{name}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The configuration the command line `args` (after the program's name)
/// makes, as `main` parses it but without the `BRIDGE_*` variables of the
/// test's own environment: the defaults stand for what `args` leaves out.
pub fn config(args: &[&str]) -> Result<Config, clap::Error> {
    let command = Config::command().mut_args(|arg| arg.env(None));
    let matches =
        command.try_get_matches_from(std::iter::once("bridge").chain(args.iter().copied()))?;
    Config::from_arg_matches(&matches)
}

/// The bridge's command, with none of the variables it reads taken from
/// the test's environment, and logging at `info` (its `serving …` line).
pub fn bridge_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_bridge"));
    for arg in Config::command().get_arguments() {
        if let Some(variable) = arg.get_env() {
            command.env_remove(variable);
        }
    }
    command.env("RUST_LOG", "info");
    command
}

/// Tests of one binary run at once: a test that restarts the server holds
/// this for writing, the others for reading, so none sees the restart
/// unless it is about it.
pub static SERVER: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Runs the shell command in `variable` (a server restart `.ci/services`
/// provides) and waits for it to succeed.
pub fn run_command(variable: &str) {
    let command = exhook_app_testing::real_server(variable);
    let status = std::process::Command::new("sh")
        .args(["-c", &command])
        .status()
        .unwrap();
    assert!(status.success(), "{variable}: {command} failed: {status}");
}

// ---------------------------------------------------------------- test sink

/// What the test sink saw, shared with the test.
#[derive(Clone, Default)]
pub struct Probe {
    state: Arc<Mutex<ProbeState>>,
    /// While false, sends wait.
    open: Arc<tokio::sync::watch::Sender<bool>>,
}

#[derive(Default)]
struct ProbeState {
    acknowledged: Vec<Record>,
    batches: Vec<usize>,
    connects: usize,
    fail_connects: usize,
    fail_sends: usize,
}

impl Probe {
    pub fn new() -> Probe {
        Probe {
            state: Arc::default(),
            open: Arc::new(tokio::sync::watch::channel(true).0),
        }
    }

    /// The sink for a bridge.
    pub fn sink(&self) -> TestSink {
        TestSink {
            probe: self.clone(),
        }
    }

    /// Records acknowledged, in order (a record sent twice appears twice).
    pub fn acknowledged(&self) -> Vec<Record> {
        self.state.lock().unwrap().acknowledged.clone()
    }

    pub fn connects(&self) -> usize {
        self.state.lock().unwrap().connects
    }

    /// Sizes of the batches given to the sink, failed, held or not.
    pub fn batches(&self) -> Vec<usize> {
        self.state.lock().unwrap().batches.clone()
    }

    /// The next `n` connection attempts fail.
    pub fn fail_connects(&self, n: usize) {
        self.state.lock().unwrap().fail_connects = n;
    }

    /// The next `n` sends fail after delivering half of their batch, rounded
    /// up (so
    /// the records of a retried batch arrive twice).
    pub fn fail_sends(&self, n: usize) {
        self.state.lock().unwrap().fail_sends = n;
    }

    /// Sends wait until [`Probe::open`].
    pub fn hold(&self) {
        self.open.send_replace(false);
    }

    pub fn open(&self) {
        self.open.send_replace(true);
    }
}

/// A sink that keeps what it is sent, failing or waiting when told to.
pub struct TestSink {
    probe: Probe,
}

impl Sink for TestSink {
    fn name(&self) -> &'static str {
        "test"
    }

    async fn connect(&mut self) -> Result<(), SinkError> {
        let mut state = self.probe.state.lock().unwrap();
        state.connects += 1;
        if state.fail_connects > 0 {
            state.fail_connects -= 1;
            return Err("refused".into());
        }
        Ok(())
    }

    async fn send(&mut self, batch: &[Record]) -> Result<(), SinkError> {
        self.probe.state.lock().unwrap().batches.push(batch.len());
        let mut open = self.probe.open.subscribe();
        let _ = open.wait_for(|open| *open).await;
        let mut state = self.probe.state.lock().unwrap();
        if state.fail_sends > 0 {
            state.fail_sends -= 1;
            // Rounded up, so that a retried batch always repeats a record.
            let half = batch.len().div_ceil(2);
            state.acknowledged.extend_from_slice(&batch[..half]);
            return Err("connection lost".into());
        }
        state.acknowledged.extend_from_slice(batch);
        Ok(())
    }
}

// ---------------------------------------------------------------- workload

/// One message as a consumer of the sink reads it back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Seen {
    pub client_id: String,
    pub topic: String,
    pub payload: String,
}

impl From<&Record> for Seen {
    fn from(record: &Record) -> Seen {
        Seen {
            client_id: record.client_id.clone(),
            topic: record.topic.clone(),
            payload: String::from_utf8_lossy(&record.payload).into_owned(),
        }
    }
}

/// `clients` client ids publishing `per_client` messages each, at once:
/// every fifth message of a client goes to `chat/<client>`, outside the
/// bridge's filter `sensors/#`; the rest to `sensors/<client>/<n % 3>`.
pub struct Workload {
    pub prefix: String,
    pub clients: usize,
    pub per_client: usize,
}

impl Workload {
    pub fn new(clients: usize, per_client: usize) -> Workload {
        Workload {
            prefix: unique("c"),
            clients,
            per_client,
        }
    }

    pub fn client_id(&self, c: usize) -> String {
        format!("{}-{c}", self.prefix)
    }

    /// Message `n` of client `c`.
    pub fn message(&self, c: usize, n: usize) -> Seen {
        let client_id = self.client_id(c);
        let topic = if n % 5 == 4 {
            format!("chat/{client_id}")
        } else {
            format!("sensors/{client_id}/{}", n % 3)
        };
        Seen {
            payload: format!("{client_id}:{n}"),
            client_id,
            topic,
        }
    }

    /// What the bridge must forward, in each client's order.
    pub fn expected(&self) -> Vec<Seen> {
        (0..self.clients)
            .flat_map(|c| (0..self.per_client).map(move |n| (c, n)))
            .map(|(c, n)| self.message(c, n))
            .filter(|m| m.topic.starts_with("sensors/"))
            .collect()
    }

    /// Publishes everything through `broker`, the clients concurrently,
    /// each client's messages one after another (as EMQX calls the hook).
    pub async fn publish(&self, broker: &TestBroker) {
        self.publish_until(broker, &AtomicBool::new(false)).await;
    }

    /// [`Workload::publish`], but each client stops once `stop` is set;
    /// returns how many messages each client published.
    pub async fn publish_until(&self, broker: &TestBroker, stop: &AtomicBool) -> Vec<usize> {
        let clients = (0..self.clients).map(|c| async move {
            let client = broker.client(self.client_id(c)).user_property("site", "a");
            client.connect().await;
            for n in 0..self.per_client {
                if stop.load(Ordering::SeqCst) {
                    return n;
                }
                let message = self.message(c, n);
                client.publish_qos(&message.topic, message.payload, 1).await;
            }
            self.per_client
        });
        futures::future::join_all(clients).await
    }

    /// What the first `published[c]` messages of each client make.
    pub fn expected_of(&self, published: &[usize]) -> Vec<Seen> {
        (0..self.clients)
            .flat_map(|c| (0..published[c]).map(move |n| (c, n)))
            .map(|(c, n)| self.message(c, n))
            .filter(|m| m.topic.starts_with("sensors/"))
            .collect()
    }
}

/// Asserts that `got` has every message of `expected`, nothing else, and
/// each client's messages in their order. At-least-once: a message may come
/// twice (a batch sent again), so order is judged by first arrivals.
pub fn assert_delivered(got: &[Seen], expected: &[Seen]) {
    let wanted: HashSet<&Seen> = expected.iter().collect();
    let strays: Vec<&Seen> = got.iter().filter(|m| !wanted.contains(m)).collect();
    assert!(
        strays.is_empty(),
        "not published to the bridge: {:?}",
        &strays[..strays.len().min(5)]
    );
    let mut seen = HashSet::new();
    let mut first: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in got {
        if seen.insert(m) {
            first.entry(&m.client_id).or_default().push(&m.payload);
        }
    }
    let mut want: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in expected {
        want.entry(&m.client_id).or_default().push(&m.payload);
    }
    let missing = expected.len() - seen.len();
    assert_eq!(
        missing,
        0,
        "{missing} of {} messages missing",
        expected.len()
    );
    for (client, payloads) in &want {
        assert_eq!(first.get(client), Some(payloads), "order of {client}");
    }
}

/// A test broker with `bridge`'s provider, forwarding `sensors/#`.
pub async fn broker(bridge: Bridge, transport: Transport) -> TestBroker {
    let topics = vec![TopicFilter::new("sensors/#").unwrap()];
    TestBroker::builder()
        .transport(transport)
        .provider(bridge::server(bridge, topics))
        .start()
        .await
        .unwrap()
}

/// gRPC as EMQX 5.9 calls.
pub const GRPC: Transport = Transport::Grpc(Version::V3);

/// Waits up to `within` for `done`; whether it came true.
pub async fn eventually(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

/// Publishes `workload` to the bridge process over gRPC as EMQX does, the
/// clients at once, each client's messages one after another, until the
/// process stops answering; how many messages of each client it accepted.
/// `answered` counts the accepted messages as they are.
pub async fn publish_until_refused(
    process: &Process,
    workload: &Workload,
    answered: Arc<AtomicUsize>,
) -> Vec<usize> {
    use exhook_runtime::proto::v3;
    let provider = process.v3().await;
    let clients = (0..workload.clients).map(|c| {
        let mut provider = provider.clone();
        let answered = answered.clone();
        let messages: Vec<Seen> = (0..workload.per_client)
            .map(|n| workload.message(c, n))
            .collect();
        let total = messages.len();
        tokio::spawn(async move {
            for (n, seen) in messages.into_iter().enumerate() {
                let request = v3::MessagePublishRequest {
                    message: Some(v3::Message {
                        id: format!("{c:04X}{n:08X}"),
                        timestamp: 1_764_000_000_000 + n as u64,
                        ..message_v3(&seen.client_id, &seen.topic, &seen.payload)
                    }),
                    ..Default::default()
                };
                if provider.on_message_publish(request).await.is_err() {
                    return n;
                }
                answered.fetch_add(1, Ordering::SeqCst);
            }
            total
        })
    });
    let mut published = Vec::new();
    for client in clients.collect::<Vec<_>>() {
        published.push(client.await.unwrap());
    }
    published
}

// ---------------------------------------------------------------- relay

/// A TCP relay to a server, whose connections the test can cut, or whose
/// answers it can hold back.
pub struct Relay {
    pub addr: String,
    accepting: Arc<AtomicBool>,
    answering: Arc<tokio::sync::watch::Sender<bool>>,
    links: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Relay {
    pub async fn start(to: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let accepting = Arc::new(AtomicBool::new(true));
        let answering = Arc::new(tokio::sync::watch::channel(true).0);
        let links = Arc::new(Mutex::new(Vec::new()));
        let (open, answers, all) = (accepting.clone(), answering.clone(), links.clone());
        let to = to.to_owned();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if !open.load(Ordering::SeqCst) {
                    continue; // refused: dropped at once
                }
                let (to, answers) = (to.clone(), answers.subscribe());
                let link = tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(&to).await else {
                        return;
                    };
                    let (mut in_read, mut in_write) = inbound.into_split();
                    let (mut out_read, mut out_write) = outbound.into_split();
                    let up = tokio::io::copy(&mut in_read, &mut out_write);
                    let down = async move {
                        let mut answers = answers;
                        let mut buf = vec![0; 16 * 1024];
                        loop {
                            let n = match out_read.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            if answers.wait_for(|on| *on).await.is_err()
                                || in_write.write_all(&buf[..n]).await.is_err()
                            {
                                return;
                            }
                        }
                    };
                    tokio::select! {
                        _ = up => {}
                        _ = down => {}
                    }
                });
                all.lock().unwrap().push(link.abort_handle());
            }
        });
        Relay {
            addr,
            accepting,
            answering,
            links,
        }
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.accepting.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.accepting.store(true, Ordering::SeqCst);
        self.answering.send_replace(true);
    }

    /// Holds back what the server sends (its acknowledgements) while the
    /// client's data still reaches it.
    pub fn hold_answers(&self) {
        self.answering.send_replace(false);
    }
}
