//! Runs a provider as a gRPC server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::deadline::{OnTimeout, TimeoutAnswers};
use crate::dispatch::Dispatcher;
use crate::error::Error;
use crate::hook::{Hook, HookSet};
use crate::log::announce;
use crate::metrics::{self, Metrics};
use crate::provider::Provider;
use crate::service::{HookService, V1, V2, V3};
use crate::shutdown::{ShutdownHandle, os_signal};
use crate::state::StateMap;
use crate::supervise::Supervision;
use crate::tls::TlsConfig;
use crate::topic::TopicFilter;
use crate::version::Version;

/// Where a server listens when neither code nor `EXHOOK_LISTEN` says.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9000";

/// How long calls in flight may finish after a shutdown starts, by default:
/// well under EMQX's default `request_timeout` of 5 s.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(3);

/// An ExHook provider server: serves `emqx.exhook.v1`, `v2` and `v3` on one
/// port, so EMQX 4.x and 5.x can all load it, plus `grpc.health.v1`.
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
///
/// Settings left unset in code come from the environment:
///
/// | variable | meaning |
/// |---|---|
/// | `EXHOOK_LISTEN` | `host:port` to listen on (default `127.0.0.1:9000`) |
/// | `EXHOOK_TLS_CERT`, `EXHOOK_TLS_KEY` | server certificate chain and key (PEM file paths or PEM text): serve TLS |
/// | `EXHOOK_TLS_CLIENT_CA` | require client certificates signed by this CA (mutual TLS) |
/// | `EXHOOK_METRICS_LISTEN` | `host:port` for Prometheus metrics at `/metrics` |
pub struct Server {
    provider: Provider,
    state: StateMap,
    listen: Option<String>,
    metrics_listen: Option<String>,
    metrics_listener: Option<TcpListener>,
    tls: Option<TlsConfig>,
    drain: Duration,
    shutdown: ShutdownHandle,
    handler_timeout: Option<Duration>,
    on_timeout: TimeoutAnswers,
    max_request_bytes: Option<usize>,
    concurrency_limit: Option<usize>,
    max_concurrent_streams: Option<u32>,
    compact_publish_answers: bool,
    unlisted: Option<&'static str>,
}

impl Server {
    /// A server for `provider`.
    pub fn new(provider: Provider) -> Self {
        Server {
            provider,
            state: StateMap::default(),
            listen: None,
            metrics_listen: None,
            metrics_listener: None,
            tls: None,
            drain: DEFAULT_DRAIN,
            shutdown: ShutdownHandle::new(),
            handler_timeout: None,
            on_timeout: TimeoutAnswers::default(),
            max_request_bytes: None,
            concurrency_limit: None,
            max_concurrent_streams: None,
            compact_publish_answers: false,
            unlisted: None,
        }
    }

    /// Gives handlers that take [`State<T>`](crate::State) this value. Each
    /// type is given once; a second value of the same type replaces the first.
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// Replaces the topic filters of handler `H` with `filters`, for filters
    /// known only at run time (from a configuration file, say). They are
    /// advertised to EMQX for `message.*` hooks and matched locally, exactly
    /// as `topic = …` in the attribute; an empty list means every topic.
    /// Naming a handler that `provider![..]` does not list makes the server
    /// refuse to start with [`Error::UnlistedHandler`].
    ///
    /// ```no_run
    /// use exhook_runtime::*;
    ///
    /// #[on_message_publish(topic = "sensors/#")]
    /// async fn store(msg: &Message) -> Publish {
    ///     Publish::Ignore
    /// }
    ///
    /// #[tokio::main]
    /// async fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///     let filters = std::env::var("FILTERS").unwrap_or_else(|_| "sensors/#".into());
    ///     let filters = filters
    ///         .split(',')
    ///         .map(TopicFilter::new)
    ///         .collect::<Result<Vec<_>, _>>()?;
    ///     Server::new(provider![store]).topics::<store>(filters).serve().await?;
    ///     Ok(())
    /// }
    /// ```
    pub fn topics<H: crate::Handler>(
        mut self,
        filters: impl IntoIterator<Item = TopicFilter>,
    ) -> Self {
        let filters = filters
            .into_iter()
            .map(|filter| filter.as_str().to_owned())
            .collect();
        match self.provider.with_topics(H::SPEC.path(), filters) {
            Some(provider) => self.provider = provider,
            None => self.unlisted = Some(H::SPEC.path()),
        }
        self
    }

    /// Listens on `address` (`host:port`) instead of `EXHOOK_LISTEN` or
    /// [`DEFAULT_LISTEN`].
    pub fn listen(mut self, address: impl Into<String>) -> Self {
        self.listen = Some(address.into());
        self
    }

    /// Serves TLS, or mutual TLS when the config has a client CA, instead of
    /// what `EXHOOK_TLS_*` say. Without either, the server speaks plain
    /// HTTP/2 (h2c), which EMQX uses for `http://` URLs.
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Serves Prometheus metrics on `address` at `/metrics`, instead of
    /// what `EXHOOK_METRICS_LISTEN` says.
    pub fn metrics(mut self, address: impl Into<String>) -> Self {
        self.metrics_listen = Some(address.into());
        self
    }

    /// Serves Prometheus metrics on a listener you bound yourself.
    pub fn metrics_on(mut self, listener: TcpListener) -> Self {
        self.metrics_listener = Some(listener);
        self
    }

    /// How long calls in flight may finish after a shutdown starts
    /// ([`DEFAULT_DRAIN`] unless set).
    pub fn drain_timeout(mut self, drain: Duration) -> Self {
        self.drain = drain;
        self
    }

    /// A handle that starts the graceful shutdown, as SIGTERM does.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Bounds every call to `limit`, even when EMQX sends a longer
    /// `grpc-timeout` (EMQX always sends its `request_timeout`).
    pub fn handler_timeout(mut self, limit: Duration) -> Self {
        self.handler_timeout = Some(limit);
        self
    }

    /// What `hook` answers when its handlers outlive the deadline; by
    /// default the call fails with `DEADLINE_EXCEEDED` and EMQX applies its
    /// `failed_action`.
    pub fn on_timeout(mut self, hook: Hook, answer: OnTimeout) -> Self {
        self.on_timeout.set(hook, answer);
        self
    }

    /// The largest request accepted, in bytes (4 MiB unless set); a larger
    /// one is refused with `RESOURCE_EXHAUSTED`.
    pub fn max_request_size(mut self, bytes: usize) -> Self {
        self.max_request_bytes = Some(bytes);
        self
    }

    /// At most `limit` calls run at once across all connections; further
    /// calls wait for a free slot (back-pressure) rather than queueing
    /// without bound.
    pub fn concurrency_limit(mut self, limit: usize) -> Self {
        self.concurrency_limit = Some(limit);
        self
    }

    /// The HTTP/2 limit on concurrent calls per connection, which EMQX's
    /// client honours by waiting.
    pub fn max_concurrent_streams(mut self, streams: u32) -> Self {
        self.max_concurrent_streams = Some(streams);
        self
    }

    /// Answers `message.publish` with only the parts of the message EMQX
    /// reads from an answer: `qos`, `topic`, `payload` and the
    /// `allow_publish` header. Less to encode, send and decode on both sides
    /// (about 1.5 times the calls per second in the h2load benchmark).
    ///
    /// Only for a provider that is the sole, or last, ExHook server EMQX
    /// calls for `message.publish`: EMQX hands the message of a `CONTINUE`
    /// answer as it is to the next server in `exhook.servers`, which would
    /// then see no `from`, `id`, `timestamp` or headers. Off by default.
    ///
    /// ```no_run
    /// use exhook_runtime::*;
    ///
    /// #[on_message_publish(topic = "sensors/#")]
    /// async fn scale(mut msg: Message) -> Publish {
    ///     msg.qos = msg.qos.min(1);
    ///     Publish::Continue(msg)
    /// }
    ///
    /// # async fn run() -> Result<(), Error> {
    /// // This provider is the only entry of `exhook.servers`.
    /// Server::new(provider![scale]).compact_publish_answers(true).serve().await
    /// # }
    /// ```
    pub fn compact_publish_answers(mut self, compact: bool) -> Self {
        self.compact_publish_answers = compact;
        self
    }

    /// Checks what the compiler cannot: that every `State<T>` a handler takes
    /// was given, and that every topic filter is valid.
    pub fn check(&self) -> Result<(), Error> {
        if let Some(handler) = self.unlisted {
            return Err(Error::UnlistedHandler { handler });
        }
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

    /// Listens on the configured address and serves until SIGTERM, Ctrl-C
    /// or [`ShutdownHandle::shutdown`], then drains and returns `Ok(())`.
    ///
    /// The address is, in order: [`listen`](Self::listen), the
    /// `EXHOOK_LISTEN` environment variable, `127.0.0.1:9000`.
    pub async fn serve(self) -> Result<(), Error> {
        self.serve_with_shutdown(os_signal()).await
    }

    /// Like [`serve`](Self::serve), also stopping when `signal` completes.
    pub async fn serve_with_shutdown(
        self,
        signal: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        let address = checked_address(self.listen.clone(), "EXHOOK_LISTEN", Some(DEFAULT_LISTEN))?
            .expect("a default address");
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|source| Error::Bind { address, source })?;
        self.serve_on(listener, signal).await
    }

    /// Serves on a listener you bound yourself (for example on port 0 in
    /// tests), stopping when `signal` completes or on
    /// [`ShutdownHandle::shutdown`].
    pub async fn serve_on(
        mut self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        self.check()?;
        let tls = match self.tls.clone() {
            Some(tls) => Some(tls),
            None => TlsConfig::from_env()?,
        };
        let metrics = self.start_metrics().await?;
        let local = listener.local_addr().ok();
        let hooks = self.provider.hooks();
        let dispatcher = Arc::new(self.take_dispatcher(metrics));

        let (health, health_service) = tonic_health::server::health_reporter();
        for version in Version::ALL {
            health
                .set_service_status(version.service_name(), tonic_health::ServingStatus::Serving)
                .await;
        }
        health
            .set_service_status("", tonic_health::ServingStatus::Serving)
            .await;

        let mut builder =
            tonic::transport::Server::builder().max_concurrent_streams(self.max_concurrent_streams);
        if let Some(tls) = &tls {
            builder = tls_builder(builder, tls)?;
        }
        // Only a configured limit costs anything per call.
        let limit = tower::util::option_layer(
            self.concurrency_limit
                .map(tower::limit::GlobalConcurrencyLimitLayer::new),
        );
        let router = builder
            .layer(limit)
            .add_service(health_service)
            .add_service(HookService::<V1>::new(dispatcher.clone()))
            .add_service(HookService::<V2>::new(dispatcher.clone()))
            .add_service(HookService::<V3>::new(dispatcher));

        announce(format_args!(
            "serving emqx.exhook v1, v2 and v3 on {}{}; hooks: {}",
            local.map_or_else(|| "?".to_owned(), |a: SocketAddr| a.to_string()),
            match &tls {
                Some(tls) if tls.client_ca.is_some() => " with mutual TLS",
                Some(_) => " with TLS",
                None => "",
            },
            if hooks.is_empty() {
                "none".to_owned()
            } else {
                hooks.describe(Version::V3, HookSet::ALL)
            },
        ));

        // The shutdown signal: health turns NOT_SERVING first, then tonic
        // stops accepting and waits for calls in flight, for at most `drain`.
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let handle = self.shutdown.clone();
        let stop = async move {
            tokio::select! {
                () = signal => {},
                () = handle.requested() => {},
            }
            for version in Version::ALL {
                health
                    .set_service_status(
                        version.service_name(),
                        tonic_health::ServingStatus::NotServing,
                    )
                    .await;
            }
            health
                .set_service_status("", tonic_health::ServingStatus::NotServing)
                .await;
            announce(format_args!("shutting down: draining calls in flight"));
            let _ = started_tx.send(());
        };
        let drain = self.drain;
        let deadline = async move {
            if started_rx.await.is_ok() {
                tokio::time::sleep(drain).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        // Each call waits for its answer, so small writes must leave at
        // once: without TCP_NODELAY, Nagle's algorithm and delayed ACKs hold
        // every answer for about 40 ms.
        let incoming = tonic::transport::server::TcpIncoming::from(listener)
            .with_nodelay(Some(true))
            .with_keepalive(Some(Duration::from_secs(60)));
        let serving = router.serve_with_incoming_shutdown(incoming, stop);
        tokio::select! {
            result = serving => result.map_err(Error::Transport)?,
            () = deadline => announce(format_args!("drain time of {drain:?} is over; stopping with calls still in flight")),
        }
        announce(format_args!("stopped"));
        Ok(())
    }

    /// The gRPC services this server would serve (`emqx.exhook.v1`, `v2`
    /// and `v3` `HookProvider`), to mount in a tonic server of your own.
    /// Listening, TLS, health, metrics and shutdown are then yours.
    ///
    /// ```no_run
    /// use exhook_runtime::{on_session_created, provider, Server};
    ///
    /// #[on_session_created]
    /// async fn created() {}
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let routes = Server::new(provider![created]).into_routes()?;
    /// tonic::transport::Server::builder()
    ///     .add_routes(routes)
    ///     .serve("127.0.0.1:9000".parse()?)
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_routes(mut self) -> Result<tonic::service::Routes, Error> {
        self.check()?;
        let dispatcher = Arc::new(self.take_dispatcher(None));
        Ok(
            tonic::service::Routes::new(HookService::<V1>::new(dispatcher.clone()))
                .add_service(HookService::<V2>::new(dispatcher.clone()))
                .add_service(HookService::<V3>::new(dispatcher)),
        )
    }

    /// The dispatcher this server would run, for the in-process test broker.
    #[cfg(feature = "testing")]
    pub(crate) fn into_dispatcher(mut self) -> Result<Dispatcher, Error> {
        self.check()?;
        Ok(self.take_dispatcher(None))
    }

    /// The dispatcher for this server's handlers and settings; the state
    /// moves into it.
    fn take_dispatcher(&mut self, metrics: Option<Arc<Metrics>>) -> Dispatcher {
        let supervision = Supervision {
            metrics,
            on_timeout: self.on_timeout,
            handler_timeout: self.handler_timeout,
            max_request_bytes: self.max_request_bytes,
        };
        Dispatcher::new(
            self.provider.entries(),
            self.provider.hooks(),
            std::mem::take(&mut self.state),
            supervision,
            self.compact_publish_answers,
        )
    }

    async fn start_metrics(&mut self) -> Result<Option<Arc<Metrics>>, Error> {
        let listener = match self.metrics_listener.take() {
            Some(listener) => listener,
            None => {
                let configured =
                    checked_address(self.metrics_listen.clone(), "EXHOOK_METRICS_LISTEN", None)?;
                let Some(address) = configured else {
                    return Ok(None);
                };
                TcpListener::bind(&address)
                    .await
                    .map_err(|source| Error::Bind { address, source })?
            }
        };
        let address = listener
            .local_addr()
            .map_or_else(|_| "?".to_owned(), |a| a.to_string());
        let metrics = Arc::new(Metrics::default());
        announce(format_args!("metrics on http://{address}/metrics"));
        tokio::spawn(metrics::serve(listener, metrics.clone()));
        Ok(Some(metrics))
    }
}

#[cfg(feature = "tls")]
fn tls_builder<L>(
    builder: tonic::transport::Server<L>,
    tls: &TlsConfig,
) -> Result<tonic::transport::Server<L>, Error> {
    builder
        .tls_config(tls.to_tonic())
        .map_err(|error| Error::Tls(error.to_string()))
}

#[cfg(not(feature = "tls"))]
fn tls_builder<L>(
    _: tonic::transport::Server<L>,
    _: &TlsConfig,
) -> Result<tonic::transport::Server<L>, Error> {
    Err(Error::Tls(
        "TLS is configured, but exhook-runtime was built without its `tls` feature".to_owned(),
    ))
}

/// The address given in code, else in `variable`, else `default`, checked
/// to be `host:port`.
fn checked_address(
    given: Option<String>,
    variable: &str,
    default: Option<&str>,
) -> Result<Option<String>, Error> {
    let value = match (given, std::env::var(variable)) {
        (Some(address), _) => address,
        (None, Ok(address)) if !address.trim().is_empty() => address.trim().to_owned(),
        _ => match default {
            Some(default) => default.to_owned(),
            None => return Ok(None),
        },
    };
    match value.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(Some(value)),
        _ => Err(Error::ListenAddress {
            value,
            reason: format!(
                "expected host:port, such as 127.0.0.1:9000 or [::]:9000 (from code or {variable})"
            ),
        }),
    }
}
