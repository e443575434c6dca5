//! Runs a provider as a gRPC server.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tonic::Status;
use tower::{Layer, Service};

use crate::accept::{Acceptor, raise_fd_limit};
use crate::connection::Connections;
use crate::deadline::{OnTimeout, TimeoutAnswers};
use crate::dispatch::Dispatcher;
use crate::error::Error;
use crate::hook::{Hook, HookSet};
use crate::limits::{ByteBudget, Limits};
use crate::log::announce;
use crate::metrics::{self, Metrics};
use crate::middleware::{LayerEntry, Next, Request, Response};
use crate::provider::Provider;
use crate::service::{HookService, V1, V2, V3};
use crate::shutdown::{ShutdownHandle, os_signal};
use crate::state::StateMap;
use crate::supervise::Supervision;
use crate::tls::TlsConfig;
use crate::topic::TopicFilter;
use crate::version::Version;

/// Where a server listens when neither code nor `EXHOOK_LISTEN` says.
#[deprecated(since = "0.2.0", note = "use `Server::DEFAULT_LISTEN`")]
pub const DEFAULT_LISTEN: &str = Server::DEFAULT_LISTEN;

/// How long calls in flight may finish after a shutdown starts, by default.
#[deprecated(since = "0.2.0", note = "use `Server::DEFAULT_DRAIN`")]
pub const DEFAULT_DRAIN: Duration = Server::DEFAULT_DRAIN;

/// An ExHook provider server: serves `emqx.exhook.v1`, `v2` and `v3` on one
/// port, so EMQX 4.x and 5.x can all load it, plus `grpc.health.v1`.
///
/// ```no_run
/// use exhook_runtime::prelude::*;
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
/// [`serve`](Self::serve) and [`from_env`](Self::from_env), and nothing
/// else, read these environment variables for settings left unset in code:
///
/// | variable | meaning |
/// |---|---|
/// | `EXHOOK_LISTEN` | `host:port` to listen on (default `127.0.0.1:9000`) |
/// | `EXHOOK_TLS_CERT`, `EXHOOK_TLS_KEY` | server certificate chain and key (PEM file paths or PEM text): serve TLS |
/// | `EXHOOK_TLS_CLIENT_CA` | require client certificates signed by this CA (mutual TLS) |
/// | `EXHOOK_METRICS_LISTEN` | `host:port` for Prometheus metrics at `/metrics` |
///
/// # Bounds
///
/// A provider sits in the login path of every MQTT client, so no peer may
/// take its memory, file descriptors or CPU. Every bound below is on by
/// default, set well above what a healthy EMQX cluster uses, and can be
/// changed: [`max_connections`](Self::max_connections),
/// [`max_concurrent_streams`](Self::max_concurrent_streams),
/// [`request_buffer_limits`](Self::request_buffer_limits),
/// [`request_body_timeout`](Self::request_body_timeout),
/// [`http2_preface_timeout`](Self::http2_preface_timeout),
/// [`tls_handshake_timeout`](Self::tls_handshake_timeout),
/// [`http2_keepalive`](Self::http2_keepalive) and
/// [`max_client_resets`](Self::max_client_resets). At start the server
/// also raises its soft limit on open files to the hard limit, and logs
/// both; when descriptors run out anyway, it pauses accepting (up to 1 s)
/// instead of spinning, until closed connections free some.
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
    limits: Limits,
    compact_publish_answers: bool,
    layers: Vec<LayerEntry>,
    unlisted: Option<&'static str>,
}

impl Server {
    /// Where a server listens when neither code nor `EXHOOK_LISTEN` says:
    /// loopback only.
    pub const DEFAULT_LISTEN: &'static str = "127.0.0.1:9000";

    /// How long calls in flight may finish after a shutdown starts, by
    /// default: well under EMQX's default `request_timeout` of 5 s.
    pub const DEFAULT_DRAIN: Duration = Duration::from_secs(3);
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
            drain: Server::DEFAULT_DRAIN,
            shutdown: ShutdownHandle::new(),
            handler_timeout: None,
            on_timeout: TimeoutAnswers::default(),
            max_request_bytes: None,
            concurrency_limit: None,
            limits: Limits::default(),
            compact_publish_answers: false,
            layers: Vec::new(),
            unlisted: None,
        }
    }

    /// A server for `provider`, configured by the environment variables
    /// in the table above where they are set.
    ///
    /// ```no_run
    /// use exhook_runtime::prelude::*;
    ///
    /// #[on_session_created]
    /// async fn created() {}
    ///
    /// # async fn run() -> Result<(), exhook_runtime::Error> {
    /// // EXHOOK_LISTEN=0.0.0.0:9000 EXHOOK_METRICS_LISTEN=0.0.0.0:9100 ./provider
    /// Server::from_env(provider![created])?.serve().await
    /// # }
    /// ```
    pub fn from_env(provider: Provider) -> Result<Self, Error> {
        Server::new(provider).with_env()
    }

    /// Fills the settings left unset in code from the environment.
    fn with_env(mut self) -> Result<Self, Error> {
        if self.listen.is_none() {
            self.listen = checked_address(env("EXHOOK_LISTEN"), None, "EXHOOK_LISTEN")?;
        }
        if self.tls.is_none() {
            self.tls = TlsConfig::from_env()?;
        }
        if self.metrics_listen.is_none() && self.metrics_listener.is_none() {
            self.metrics_listen =
                checked_address(env("EXHOOK_METRICS_LISTEN"), None, "EXHOOK_METRICS_LISTEN")?;
        }
        Ok(self)
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
    /// use exhook_runtime::prelude::*;
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
    /// [`Server::DEFAULT_LISTEN`]. The address is checked when the server starts.
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
    /// ([`Server::DEFAULT_DRAIN`] unless set).
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
    /// calls wait for a free slot (back-pressure) rather than being refused.
    /// Off by default. This, not
    /// [`max_concurrent_streams`](Self::max_concurrent_streams), is how to
    /// bound the work in progress: EMQX's client waits for the answer as
    /// long as its `request_timeout` allows.
    pub fn concurrency_limit(mut self, limit: usize) -> Self {
        self.concurrency_limit = Some(limit);
        self
    }

    /// The HTTP/2 limit on concurrent calls per connection
    /// (`SETTINGS_MAX_CONCURRENT_STREAMS`), 4096 unless set: a cap for
    /// stalled or hostile peers, far above the ~1,500 streams EMQX was seen
    /// to open on one connection in a burst (its pool has 8 connections).
    ///
    /// This is not a way to make EMQX wait. EMQX 5's client (gun 2.1.0)
    /// ignores the setting and opens streams anyway; the server refuses the
    /// streams above it (`REFUSED_STREAM`), and EMQX fails those calls and
    /// applies its `failed_action`. EMQX 4.4's client (cowlib 2.8.0) may even
    /// lose the whole connection over such a reset. To bound the work in
    /// progress, use [`concurrency_limit`](Self::concurrency_limit), which
    /// makes calls wait; the server warns at start when this limit is set
    /// below 2048.
    pub fn max_concurrent_streams(mut self, streams: u32) -> Self {
        self.limits.max_concurrent_streams = streams.max(1);
        self
    }

    /// At most `connections` connections open at once, 4096 unless set
    /// (EMQX opens `pool_size`, 8 by default, per node). At the cap, new
    /// connections wait in the listener's backlog until one closes.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.limits.max_connections = connections.max(1);
        self
    }

    /// How many bytes of requests not yet fully received the server holds,
    /// per connection and in all, 16 MiB and 64 MiB unless set. A request
    /// whose bytes would pass either bound fails with `RESOURCE_EXHAUSTED`.
    /// EMQX's requests are small and arrive whole, so only peers that send
    /// many large bodies slowly meet these bounds; keep `per_connection` at
    /// least [`max_request_size`](Self::max_request_size).
    pub fn request_buffer_limits(mut self, per_connection: usize, per_server: usize) -> Self {
        self.limits.buffered_per_connection = per_connection;
        self.limits.buffered_per_server = per_server;
        self
    }

    /// How long a request's body may take to arrive, 10 s unless set; a
    /// request with a shorter `grpc-timeout` (EMQX always sends its
    /// `request_timeout`) gets that instead. When it passes, the call fails
    /// with `DEADLINE_EXCEEDED` and its stream is reset: without it, a
    /// client that sends headers and never the whole body would hold the
    /// stream forever.
    pub fn request_body_timeout(mut self, timeout: Duration) -> Self {
        self.limits.request_body_timeout = timeout;
        self
    }

    /// How long a new connection (after its TLS handshake) may take to send
    /// the HTTP/2 connection preface and its first SETTINGS frame, 10 s
    /// unless set. Every HTTP/2 client sends both at once; a connection that
    /// does not is closed, so silent peers cannot hold descriptors.
    pub fn http2_preface_timeout(mut self, timeout: Duration) -> Self {
        self.limits.preface_timeout = timeout;
        self
    }

    /// How long a TLS handshake may take, 10 s unless set; a connection
    /// that has not finished it by then is closed.
    pub fn tls_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.limits.tls_handshake_timeout = timeout;
        self
    }

    /// HTTP/2 keepalive: after `interval` without a frame from the client
    /// the server sends a PING, and closes the connection if no answer
    /// comes within `timeout`. 60 s and 20 s unless set, so a dead peer is
    /// found within 80 s. EMQX answers PINGs (and sends its own every 60 s),
    /// so its idle connections stay open. `None` turns the PINGs off.
    pub fn http2_keepalive(mut self, interval: Option<Duration>, timeout: Duration) -> Self {
        self.limits.keepalive_interval = interval;
        self.limits.keepalive_timeout = timeout;
        self
    }

    /// A connection on which the client resets more than `resets` streams
    /// before they are answered, within `window`, gets GOAWAY and is closed:
    /// 1000 per 10 s unless set. This bounds a paced "Rapid Reset" flood,
    /// whose streams each cost the server work. EMQX resets a call only when
    /// it gives up on it at its `request_timeout`, and the server answers
    /// every call before that deadline, so EMQX stays far below the budget.
    pub fn max_client_resets(mut self, resets: usize, window: Duration) -> Self {
        self.limits.client_resets = resets;
        self.limits.client_reset_window = window;
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
    /// use exhook_runtime::prelude::*;
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

    /// Wraps every hook call in `layer`, a [`tower::Layer`] over
    /// [`Next`]: it sees the hook, the protocol version, the client and the
    /// topic, and may answer on its own. The first layer added is the
    /// outermost. See [`middleware`](crate::middleware) for where layers sit
    /// and for examples.
    ///
    /// ```
    /// use exhook_runtime::middleware::{self, Next, Request};
    /// use exhook_runtime::prelude::*;
    ///
    /// #[on_client_authenticate]
    /// async fn authenticate(client: &ClientInfo) -> Decision {
    ///     Decision::Ignore
    /// }
    ///
    /// let server = Server::new(provider![authenticate]).layer(middleware::from_fn(
    ///     |request: Request, next: Next| async move {
    ///         let started = std::time::Instant::now();
    ///         let hook = request.hook();
    ///         let answer = next.run(request).await;
    ///         tracing::debug!(%hook, elapsed = ?started.elapsed(), "answered");
    ///         answer
    ///     },
    /// ));
    /// ```
    pub fn layer<L>(self, layer: L) -> Self
    where
        L: Layer<Next> + Send + Sync + 'static,
        L::Service:
            Service<Request, Response = Response, Error = Status> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.layer_on(Hook::ALL.iter().copied(), layer)
    }

    /// Wraps the calls of `hooks` only in `layer`; calls of other hooks do
    /// not pass through it. Otherwise as [`layer`](Self::layer).
    ///
    /// ```
    /// use exhook_runtime::middleware::{self, Next, Request, Response};
    /// use exhook_runtime::prelude::*;
    ///
    /// #[on_client_authenticate]
    /// async fn authenticate(client: &ClientInfo) -> Decision {
    ///     Decision::Ignore
    /// }
    ///
    /// // Nobody logs in while maintenance is on.
    /// let maintenance = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    /// let server = Server::new(provider![authenticate]).layer_on(
    ///     [Hook::ClientAuthenticate],
    ///     middleware::from_fn(move |request: Request, next: Next| {
    ///         let closed = maintenance.load(std::sync::atomic::Ordering::Relaxed);
    ///         async move {
    ///             if closed {
    ///                 return Ok(Response::from(Decision::Deny));
    ///             }
    ///             next.run(request).await
    ///         }
    ///     }),
    /// );
    /// ```
    pub fn layer_on<L>(mut self, hooks: impl IntoIterator<Item = Hook>, layer: L) -> Self
    where
        L: Layer<Next> + Send + Sync + 'static,
        L::Service:
            Service<Request, Response = Response, Error = Status> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.layers
            .push(LayerEntry::new(hooks.into_iter().collect(), layer));
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
    /// Settings left unset in code are read from the environment variables
    /// in the [table above](Self): the address is, in order,
    /// [`listen`](Self::listen), `EXHOOK_LISTEN`, `127.0.0.1:9000`. No other
    /// way of starting a server reads the environment, except
    /// [`from_env`](Self::from_env).
    pub async fn serve(self) -> Result<(), Error> {
        self.with_env()?.serve_with_shutdown(os_signal()).await
    }

    /// Serves on [`listen`](Self::listen) (or `127.0.0.1:9000`) until
    /// `signal` completes or [`ShutdownHandle::shutdown`] is called. Unlike
    /// [`serve`](Self::serve), it reads no environment variable.
    pub async fn serve_with_shutdown(
        self,
        signal: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        let address = checked_address(
            self.listen.clone(),
            Some(Server::DEFAULT_LISTEN),
            "Server::listen",
        )?
        .expect("a default address");
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|source| Error::Bind { address, source })?;
        self.serve_on(listener, signal).await
    }

    /// Serves on a listener you bound yourself (for example on port 0 in
    /// tests), stopping when `signal` completes or on
    /// [`ShutdownHandle::shutdown`]. It reads no environment variable.
    ///
    /// On shutdown, health turns `NOT_SERVING` and the port closes, then
    /// every connection gets GOAWAY and the calls in flight get the drain
    /// time to finish.
    pub async fn serve_on(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        self.serve_until(listener, Box::pin(signal)).await
    }

    /// [`serve_on`](Self::serve_on)'s work, behind a box made here: the
    /// server and its 21 hooks' gRPC paths are then compiled once, in this
    /// crate, and not again in every crate that serves.
    #[inline(never)]
    fn serve_until<'a>(
        mut self,
        listener: TcpListener,
        signal: Pin<Box<dyn Future<Output = ()> + Send + 'a>>,
    ) -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>> {
        Box::pin(async move {
            self.check()?;
            if self.limits.max_concurrent_streams < SAFE_STREAMS {
                crate::log::warn(format_args!(
                    "max_concurrent_streams({}) is below {SAFE_STREAMS}: EMQX's client does not wait for a free stream, so calls above the limit fail; use concurrency_limit to make calls wait",
                    self.limits.max_concurrent_streams
                ));
            }
            #[cfg(feature = "tls")]
            let tls = self.tls.as_ref().map(TlsConfig::acceptor).transpose()?;
            #[cfg(not(feature = "tls"))]
            if self.tls.is_some() {
                return Err(Error::tls_setting(
                    "the server has a TLS configuration, but exhook-runtime was built without its `tls` feature",
                ));
            }
            raise_fd_limit();
            let metrics_listener = self.metrics_listener().await?;
            let metrics = metrics_listener
                .as_ref()
                .map(|_| Arc::new(Metrics::default()));
            let local = listener.local_addr().ok();
            let hooks = self.provider.hooks();
            let dispatcher = self.take_dispatcher(metrics.clone());

            let (health, health_service) = tonic_health::server::health_reporter();
            set_health(&health, tonic_health::ServingStatus::Serving).await;
            let routes = tonic::service::Routes::new(health_service)
                .add_service(HookService::<V1>::new(dispatcher.clone()))
                .add_service(HookService::<V2>::new(dispatcher.clone()))
                .add_service(HookService::<V3>::new(dispatcher))
                .prepare();
            // Only a configured limit costs anything per call.
            let limit = self
                .concurrency_limit
                .map(tower::limit::GlobalConcurrencyLimitLayer::new);
            let service = tower::ServiceBuilder::new()
                .option_layer(limit)
                .service(routes);

            if let Some(listener) = &metrics_listener {
                let address = listener
                    .local_addr()
                    .map_or_else(|_| "?".to_owned(), |a| a.to_string());
                announce(format_args!("metrics on http://{address}/metrics"));
            }
            announce(format_args!(
                "serving emqx.exhook v1, v2 and v3 on {}{}; hooks: {}",
                local.map_or_else(|| "?".to_owned(), |a: SocketAddr| a.to_string()),
                match &self.tls {
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

            // Connections and the metrics server run in this set, so that none
            // outlives the server, even when its future is dropped.
            let mut tasks = JoinSet::new();
            let stop = self.shutdown.clone();
            if let (Some(listener), Some(metrics)) = (metrics_listener, metrics) {
                tasks.spawn(metrics::serve(listener, metrics, stop.clone()));
            }
            // Connections get GOAWAY only once health says NOT_SERVING.
            let goaway = ShutdownHandle::new();
            let connections = Arc::new(Connections {
                service,
                limits: self.limits,
                server_bytes: ByteBudget::new(self.limits.buffered_per_server),
                #[cfg(feature = "tls")]
                tls,
                stop: goaway.clone(),
            });
            let acceptor = Acceptor::new(listener, self.limits.max_connections, "gRPC");
            tokio::pin!(signal);
            let mut signalled = false;
            loop {
                tokio::select! {
                    () = &mut signal, if !signalled => {
                        signalled = true;
                        stop.shutdown();
                    }
                    next = acceptor.next(&stop) => {
                        let Some((stream, peer, slot)) = next else { break };
                        let connections = connections.clone();
                        tasks.spawn(async move { connections.serve(stream, peer, slot).await });
                        while tasks.try_join_next().is_some() {}
                    }
                }
            }
            drop(acceptor);
            set_health(&health, tonic_health::ServingStatus::NotServing).await;
            announce(format_args!("shutting down: draining calls in flight"));
            goaway.shutdown();
            let drain = self.drain;
            let drained = async { while tasks.join_next().await.is_some() {} };
            tokio::select! {
                () = drained => {},
                () = tokio::time::sleep(drain) => announce(format_args!("drain time of {drain:?} is over; stopping with calls still in flight")),
            }
            drop(tasks);
            announce(format_args!("stopped"));
            Ok(())
        })
    }

    /// The gRPC services this server would serve (`emqx.exhook.v1`, `v2`
    /// and `v3` `HookProvider`), to mount in a tonic server of your own.
    /// Listening, TLS, health, metrics and shutdown are then yours.
    ///
    /// ```no_run
    /// use exhook_runtime::prelude::*;
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
        let dispatcher = self.take_dispatcher(None);
        Ok(
            tonic::service::Routes::new(HookService::<V1>::new(dispatcher.clone()))
                .add_service(HookService::<V2>::new(dispatcher.clone()))
                .add_service(HookService::<V3>::new(dispatcher)),
        )
    }

    /// The dispatcher this server would run, for the in-process test broker.
    #[cfg(feature = "testing")]
    pub(crate) fn into_dispatcher(mut self) -> Result<Arc<Dispatcher>, Error> {
        self.check()?;
        Ok(self.take_dispatcher(None))
    }

    /// The dispatcher for this server's handlers and settings; the state
    /// moves into it.
    fn take_dispatcher(&mut self, metrics: Option<Arc<Metrics>>) -> Arc<Dispatcher> {
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
            &self.layers,
        )
    }

    /// The metrics listener given, or bound at the configured address.
    async fn metrics_listener(&mut self) -> Result<Option<TcpListener>, Error> {
        if let Some(listener) = self.metrics_listener.take() {
            return Ok(Some(listener));
        }
        let Some(address) = checked_address(self.metrics_listen.clone(), None, "Server::metrics")?
        else {
            return Ok(None);
        };
        TcpListener::bind(&address)
            .await
            .map(Some)
            .map_err(|source| Error::Bind { address, source })
    }
}

/// Below this, [`Server::max_concurrent_streams`] fails EMQX's bursts.
const SAFE_STREAMS: u32 = 2048;

/// Sets every service's health, the protocol versions' and the server's.
async fn set_health(
    health: &tonic_health::server::HealthReporter,
    status: tonic_health::ServingStatus,
) {
    for version in Version::ALL {
        health
            .set_service_status(version.service_name(), status)
            .await;
    }
    health.set_service_status("", status).await;
}

/// The value of environment variable `name`, when set and not blank.
fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// `value`, else `default`, checked to be `host:port`; `source` says where
/// the value came from.
fn checked_address(
    value: Option<String>,
    default: Option<&str>,
    source: &str,
) -> Result<Option<String>, Error> {
    let Some(value) = value.or_else(|| default.map(str::to_owned)) else {
        return Ok(None);
    };
    match value.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(Some(value)),
        _ => Err(Error::ListenAddress {
            value,
            reason: format!(
                "expected host:port, such as 127.0.0.1:9000 or [::]:9000 (from {source})"
            ),
        }),
    }
}
