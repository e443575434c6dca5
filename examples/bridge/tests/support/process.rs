//! The bridge as its own process, started as a user starts it.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use exhook_runtime::proto::v3::hook_provider_client::HookProviderClient;
use tokio::io::{AsyncBufReadExt, BufReader};
use tonic::transport::Channel;

/// The bridge process; killed if a test fails before it exits.
pub struct Process {
    child: Option<Child>,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    port: u16,
}

impl Process {
    /// Starts the bridge with `env` on an ephemeral loopback port; returns
    /// it with the lines it printed up to its `serving …` line.
    pub async fn start(env: &[(&str, &str)]) -> (Process, Vec<String>) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_bridge"));
        command
            .env("EXHOOK_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        let mut child = command.spawn().expect("start the bridge");
        let stderr = tokio::process::ChildStderr::from_std(child.stderr.take().unwrap()).unwrap();
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let _ = tx.send(line);
            }
        });
        let mut process = Process {
            child: Some(child),
            lines,
            port: 0,
        };
        let mut seen = Vec::new();
        loop {
            let line = tokio::time::timeout(Duration::from_secs(30), process.lines.recv())
                .await
                .unwrap_or_else(|_| panic!("no `serving` line within 30 s: {seen:?}"))
                .unwrap_or_else(|| panic!("the bridge exited: {seen:?}"));
            seen.push(line.clone());
            if let Some(at) = line.find("serving emqx.exhook") {
                let address = &line[at..];
                let port = address[address.find("127.0.0.1:").unwrap() + 10..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>();
                process.port = port.parse().unwrap();
                return (process, seen);
            }
        }
    }

    /// A v3 client, as EMQX 5.9 connects.
    pub async fn v3(&self) -> HookProviderClient<Channel> {
        let channel = Channel::from_shared(format!("http://127.0.0.1:{}", self.port))
            .unwrap()
            .connect()
            .await
            .expect("connect to the bridge");
        HookProviderClient::new(channel)
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = self.child.as_ref().unwrap().id();
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; its status and the lines it printed.
    pub async fn wait(mut self) -> (ExitStatus, Vec<String>) {
        let mut child = self.child.take().unwrap();
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        let mut rest = Vec::new();
        while let Ok(Some(line)) =
            tokio::time::timeout(Duration::from_secs(2), self.lines.recv()).await
        {
            rest.push(line);
        }
        (status, rest)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Publishes `workload` to the bridge process over gRPC as EMQX does, the
/// clients at once, each client's messages one after another, until the
/// process stops answering; how many messages of each client it accepted.
/// `answered` counts the accepted messages as they are.
pub async fn publish_until_refused(
    process: &Process,
    workload: &super::Workload,
    answered: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<usize> {
    use exhook_runtime::proto::v3;
    let provider = process.v3().await;
    let clients = (0..workload.clients).map(|c| {
        let mut provider = provider.clone();
        let answered = answered.clone();
        let messages: Vec<super::Seen> = (0..workload.per_client)
            .map(|n| workload.message(c, n))
            .collect();
        let total = messages.len();
        tokio::spawn(async move {
            for (n, seen) in messages.into_iter().enumerate() {
                let request = v3::MessagePublishRequest {
                    message: Some(v3::Message {
                        node: "emqx@127.0.0.1".into(),
                        id: format!("{c:04X}{n:08X}"),
                        qos: 1,
                        from: seen.client_id,
                        topic: seen.topic,
                        payload: seen.payload.into_bytes().into(),
                        timestamp: 1_764_000_000_000 + n as u64,
                        headers: Default::default(),
                    }),
                    ..Default::default()
                };
                if provider.on_message_publish(request).await.is_err() {
                    return n;
                }
                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
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
