//! Starting a provider on a loopback port and talking to it as EMQX would.

#![allow(dead_code, unreachable_pub, unused_imports)]

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

pub mod raw_h2;
pub use exhook_app_testing::{TempDir, client_v3, loaded_v3, message_v3, meta_v3, valued};

pub mod tls;

/// The provider as its own process (`exhook_app_testing::Process`).
pub mod process {
    pub use exhook_app_testing::{Process, port_of};
}
