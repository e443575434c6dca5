//! Runs a provider as a gRPC server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

use crate::dispatch::Dispatcher;
use crate::error::Error;
use crate::handler::HandlerList;
use crate::log::announce;
use crate::provider::Provider;
use crate::service::{HookService, V1, V2, V3};
use crate::state::StateMap;

/// Where a server listens when neither code nor `EXHOOK_LISTEN` says.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9000";

/// An ExHook provider server: serves `emqx.exhook.v1`, `v2` and `v3` on one
/// port, so EMQX 4.x and 5.x can all load it.
///
/// ```no_run
/// use exhook_runtime::{on_client_connected, provider, ClientInfo, Server};
///
/// #[on_client_connected]
/// async fn hello(client: &ClientInfo) {
///     println!("{} connected", client.clientid);
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), exhook_runtime::Error> {
///     Server::new(provider![hello]).serve().await
/// }
/// ```
pub struct Server<L> {
    provider: Provider<L>,
    state: StateMap,
    listen: Option<String>,
}

impl<L: HandlerList> Server<L> {
    /// A server for `provider`.
    pub fn new(provider: Provider<L>) -> Self {
        Server {
            provider,
            state: StateMap::default(),
            listen: None,
        }
    }

    /// Gives handlers that take [`State<T>`](crate::State) this value. Each
    /// type is given once; a second value of the same type replaces the first.
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// Listens on `address` (`host:port`) instead of `EXHOOK_LISTEN` or
    /// [`DEFAULT_LISTEN`].
    pub fn listen(mut self, address: impl Into<String>) -> Self {
        self.listen = Some(address.into());
        self
    }

    /// Checks what the compiler cannot: that every `State<T>` a handler takes
    /// was given, and that every topic filter is valid.
    pub fn check(&self) -> Result<(), Error> {
        for spec in self.provider.handlers() {
            for state in spec.state_types() {
                if !self.state.contains(state) {
                    return Err(Error::MissingState {
                        handler: spec.path(),
                        type_name: (state.name)(),
                    });
                }
            }
            for filter in spec.topics() {
                exhook_topic::validate(filter).map_err(|source| Error::InvalidTopic {
                    handler: spec.path(),
                    filter,
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// Listens on the configured address and serves until Ctrl-C or SIGTERM.
    ///
    /// The address is, in order: [`listen`](Self::listen), the
    /// `EXHOOK_LISTEN` environment variable, `127.0.0.1:9000`.
    pub async fn serve(self) -> Result<(), Error> {
        self.serve_with_shutdown(shutdown_signal()).await
    }

    /// Like [`serve`](Self::serve), stopping when `signal` completes.
    pub async fn serve_with_shutdown(
        self,
        signal: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        let address = self.address()?;
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|source| Error::Bind { address, source })?;
        self.serve_on(listener, signal).await
    }

    /// Serves on a listener you bound yourself (for example on port 0 in
    /// tests), stopping when `signal` completes.
    pub async fn serve_on(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        self.check()?;
        let local = listener.local_addr().ok();
        let hooks = self.provider.hooks();
        let dispatcher = Arc::new(Dispatcher::<L>::new(hooks, self.state));
        announce(format_args!(
            "serving emqx.exhook v1, v2 and v3 on {}; hooks: {}",
            local.map_or_else(|| "?".to_owned(), |a: SocketAddr| a.to_string()),
            if hooks.is_empty() {
                "none".to_owned()
            } else {
                hooks.describe(crate::Version::V3, crate::HookSet::ALL)
            },
        ));
        tonic::transport::Server::builder()
            .add_service(HookService::<L, V1>::new(dispatcher.clone()))
            .add_service(HookService::<L, V2>::new(dispatcher.clone()))
            .add_service(HookService::<L, V3>::new(dispatcher))
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), signal)
            .await
            .map_err(Error::Transport)
    }

    fn address(&self) -> Result<String, Error> {
        let value = match (&self.listen, std::env::var("EXHOOK_LISTEN")) {
            (Some(address), _) => address.clone(),
            (None, Ok(address)) if !address.trim().is_empty() => address.trim().to_owned(),
            _ => DEFAULT_LISTEN.to_owned(),
        };
        match value.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(value),
            _ => Err(Error::ListenAddress {
                value,
                reason: "expected host:port, such as 127.0.0.1:9000 or [::]:9000".to_owned(),
            }),
        }
    }
}

/// Completes on Ctrl-C, or on SIGTERM where there are signals.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
