//! Starting a provider on a loopback port and talking to it as EMQX would.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;

use exhook_runtime::Server;
use exhook_runtime::proto::{v1, v2, v3};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// A server on `127.0.0.1:<ephemeral>`, stopped when dropped.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), exhook_runtime::Error>>>,
}

impl Running {
    pub async fn start(server: Server) -> Running {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.serve_on(listener, async move {
            let _ = stopped.await;
        }));
        Running {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .expect("uri")
            .connect()
            .await
            .expect("connect to the provider")
    }

    pub async fn v1(&self) -> v1::hook_provider_client::HookProviderClient<Channel> {
        v1::hook_provider_client::HookProviderClient::new(self.channel().await)
    }

    pub async fn v2(&self) -> v2::hook_provider_client::HookProviderClient<Channel> {
        v2::hook_provider_client::HookProviderClient::new(self.channel().await)
    }

    pub async fn v3(&self) -> v3::hook_provider_client::HookProviderClient<Channel> {
        v3::hook_provider_client::HookProviderClient::new(self.channel().await)
    }

    /// Stops the server and returns how `serve_on` ended.
    pub async fn stop(mut self) -> Result<(), exhook_runtime::Error> {
        let _ = self.stop.take().expect("running").send(());
        self.task
            .take()
            .expect("running")
            .await
            .expect("server task")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn meta_v3(cluster: &str) -> v3::RequestMeta {
    v3::RequestMeta {
        node: "emqx@127.0.0.1".into(),
        version: "5.9.0".into(),
        sysdescr: "EMQX".into(),
        cluster_name: cluster.into(),
    }
}

pub fn client_v3(clientid: &str, username: &str) -> v3::ClientInfo {
    v3::ClientInfo {
        node: "emqx@127.0.0.1".into(),
        clientid: clientid.into(),
        username: username.into(),
        password: "secret".into(),
        peerhost: "127.0.0.1".into(),
        sockport: 1883,
        protocol: "mqtt".into(),
        anonymous: false,
        peerport: 50_000,
        ..Default::default()
    }
}

pub fn message_v3(from: &str, topic: &str, payload: &str) -> v3::Message {
    v3::Message {
        node: "emqx@127.0.0.1".into(),
        id: "0006153B6E3E2E2AF4420000D5E90001".into(),
        qos: 1,
        from: from.into(),
        topic: topic.into(),
        payload: payload.as_bytes().to_vec().into(),
        timestamp: 1_764_000_000_000,
        headers: [
            ("username".to_owned(), from.to_owned()),
            ("protocol".to_owned(), "mqtt".to_owned()),
            ("peerhost".to_owned(), "127.0.0.1".to_owned()),
        ]
        .into_iter()
        .collect(),
    }
}

pub fn loaded_v3(cluster: &str) -> v3::ProviderLoadedRequest {
    v3::ProviderLoadedRequest {
        broker: Some(v3::BrokerInfo {
            version: "5.9.0".into(),
            sysdescr: "EMQX".into(),
            uptime: 12_345,
            datetime: "2026-11-25T18:00:00.000000000+00:00".into(),
        }),
        meta: Some(meta_v3(cluster)),
    }
}

/// `(type, value)` of a valued response, with the type as EMQX names it.
pub fn valued(response: v3::ValuedResponse) -> (&'static str, Option<v3::valued_response::Value>) {
    let kind = match v3::valued_response::ResponsedType::try_from(response.r#type) {
        Ok(v3::valued_response::ResponsedType::Continue) => "CONTINUE",
        Ok(v3::valued_response::ResponsedType::Ignore) => "IGNORE",
        Ok(v3::valued_response::ResponsedType::StopAndReturn) => "STOP_AND_RETURN",
        Err(_) => "UNKNOWN",
    };
    (kind, response.value)
}
pub mod process;
pub mod raw_h2;
pub mod tls;

/// A directory under the system's temporary directory, removed when dropped.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("exhook-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The address a test's real server listens on, from `variable` (which
/// `.ci/run` sets after starting the server); `None` on a plain machine,
/// after saying so on stderr past the test harness's capture, so that a
/// user sees what did not run.
pub fn real_server(variable: &str, what: &str) -> Option<String> {
    let value = std::env::var(variable).ok().filter(|v| !v.is_empty());
    if value.is_none() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "{}: skipped: {variable} is not set; `.ci/run` starts {what} and sets it",
            std::thread::current().name().unwrap_or("test")
        );
    }
    value
}
