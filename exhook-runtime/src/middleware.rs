//! Middleware around every hook call: [`tower::Layer`]s that see the hook,
//! the protocol version, the client and the topic, and may answer on their
//! own.
//!
//! A layer wraps [`Next`], the rest of the call, and is a
//! `tower::Service<Request, Response = Response, Error = Status>`. Add it
//! with [`Server::layer`](crate::Server::layer) for every hook, or
//! [`Server::layer_on`](crate::Server::layer_on) for some. For most layers
//! [`from_fn`] is all it takes: an async function of the request and
//! [`Next`].
//!
//! # Where layers sit
//!
//! ```text
//! EMQX ─▶ limits ─▶ decode ─▶ deadline, panic isolation, metrics ─▶ layers ─▶ handlers
//! ```
//!
//! - A request the server refuses before decoding it (too large, malformed)
//!   never reaches a layer.
//! - Layers run inside the call's supervision: the deadline covers them, a
//!   panicking layer fails that call only (`INTERNAL`), and the metrics count
//!   what they answered.
//! - A layer sees the request before the first handler and the answer after
//!   the last one: the answer EMQX gets, as [`Response`].
//! - Layers wrap in the order they are added: the first is the outermost, as
//!   with tonic's `Server::layer` and tower's `ServiceBuilder`.
//! - The in-process [test broker](crate::testing) runs them too.
//! - They see the calls EMQX makes: EMQX calls only the hooks the provider
//!   advertises, the ones it has handlers for.
//!
//! # Examples
//!
//! A per-client rate limit on `message.publish` that drops what is over it:
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::{Arc, Mutex};
//! use std::time::{Duration, Instant};
//!
//! use exhook_runtime::event::MessagePublishRequest;
//! use exhook_runtime::middleware::{self, Next, Request, Response};
//! use exhook_runtime::prelude::*;
//! use exhook_runtime::tonic::Status;
//!
//! /// At most `limit` messages per client in each second.
//! #[derive(Clone)]
//! struct RateLimit {
//!     limit: u32,
//!     windows: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
//! }
//!
//! impl RateLimit {
//!     fn admits(&self, client_id: &str) -> bool {
//!         let mut windows = self.windows.lock().unwrap();
//!         let now = Instant::now();
//!         let (start, count) = windows.entry(client_id.to_owned()).or_insert((now, 0));
//!         if now.duration_since(*start) >= Duration::from_secs(1) {
//!             (*start, *count) = (now, 0);
//!         }
//!         *count += 1;
//!         *count <= self.limit
//!     }
//! }
//!
//! async fn rate_limit(limit: RateLimit, request: Request, next: Next) -> Result<Response, Status> {
//!     let publish = request.event::<MessagePublishRequest>();
//!     match publish.and_then(|publish| publish.message.as_ref()) {
//!         Some(message) if !limit.admits(request.client_id()) => {
//!             Ok(Response::drop_message(message))
//!         }
//!         _ => next.run(request).await,
//!     }
//! }
//!
//! #[on_message_publish]
//! async fn store(msg: &Message) -> Publish {
//!     Publish::Ignore
//! }
//!
//! let limit = RateLimit { limit: 100, windows: Arc::default() };
//! let server = Server::new(provider![store]).layer_on(
//!     [Hook::MessagePublish],
//!     middleware::from_fn(move |request, next| rate_limit(limit.clone(), request, next)),
//! );
//! ```
//!
//! An audit log of every authentication and authorization decision:
//!
//! ```
//! use exhook_runtime::middleware::{self, Next, Request};
//! use exhook_runtime::prelude::*;
//!
//! #[on_client_authenticate]
//! async fn authenticate(client: &ClientInfo) -> Decision {
//!     Decision::Ignore
//! }
//!
//! let server = Server::new(provider![authenticate]).layer_on(
//!     [Hook::ClientAuthenticate, Hook::ClientAuthorize],
//!     middleware::from_fn(|request: Request, next: Next| async move {
//!         let (hook, client) = (request.hook(), request.client_id().to_owned());
//!         let topic = request.topic().map(str::to_owned);
//!         let answer = next.run(request).await;
//!         match &answer {
//!             Ok(response) => tracing::info!(%hook, client, ?topic, decision = ?response.decision(), "audit"),
//!             Err(status) => tracing::warn!(%hook, client, ?topic, %status, "audit"),
//!         }
//!         answer
//!     }),
//! );
//! ```

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use tonic::Status;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt};

use crate::chain::dropped;
use crate::dispatch::Dispatcher;
use crate::event::Message;
use crate::hook::{Hook, HookSet};
use crate::hooks::{self, HookFn, HookPoint, HookRequest};
use crate::kind::HookKind;
use crate::outcome::Decision;
use crate::proto::v3::{EmptySuccess, LoadedResponse, ValuedResponse, valued_response};
use crate::version::Version;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// One hook call, as a layer sees it.
pub struct Request {
    hook: Hook,
    version: Version,
    event: Box<dyn Event>,
}

/// A decoded request of any hook.
trait Event: Send + Sync {
    fn client_id(&self) -> &str;
    fn topic(&self) -> Option<&str>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<R: HookRequest> Event for R {
    fn client_id(&self) -> &str {
        self.clientid()
    }

    fn topic(&self) -> Option<&str> {
        let mut first = None;
        self.topics(&mut |topic| {
            first.get_or_insert(topic);
        });
        first
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

impl Request {
    /// A call of the hook `request` belongs to, as `version` made it.
    ///
    /// ```
    /// use exhook_runtime::event::ClientAuthenticateRequest;
    /// use exhook_runtime::middleware::Request;
    /// use exhook_runtime::prelude::*;
    ///
    /// let request = Request::new(Version::V3, ClientAuthenticateRequest::default());
    /// assert_eq!(request.hook(), Hook::ClientAuthenticate);
    /// ```
    pub fn new<R: HookRequest>(version: Version, request: R) -> Request {
        Request {
            hook: <R::Hook as HookPoint>::HOOK,
            version,
            event: Box::new(request),
        }
    }

    /// The hook called.
    pub fn hook(&self) -> Hook {
        self.hook
    }

    /// The protocol version EMQX called with.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The client the call is about (empty for the provider's own load and
    /// unload).
    pub fn client_id(&self) -> &str {
        self.event.client_id()
    }

    /// The topic the call is about: the message's, the authorized one, or
    /// the first subscription's (without `$share/<group>/`, `$queue/` or
    /// `$exclusive/`). `None` for hooks without a topic. All of a
    /// subscribe's topics are in [`event`](Self::event).
    pub fn topic(&self) -> Option<&str> {
        self.event.topic()
    }

    /// The decoded request, if the call is of the hook `R` belongs to.
    ///
    /// ```
    /// use exhook_runtime::event::{ClientAuthenticateRequest, MessagePublishRequest};
    /// use exhook_runtime::middleware::Request;
    /// use exhook_runtime::Version;
    ///
    /// let request = Request::new(Version::V3, ClientAuthenticateRequest::default());
    /// assert!(request.event::<ClientAuthenticateRequest>().is_some());
    /// assert!(request.event::<MessagePublishRequest>().is_none());
    /// ```
    pub fn event<R: HookRequest>(&self) -> Option<&R> {
        self.event.as_any().downcast_ref()
    }

    /// The decoded request, to change before the handlers see it.
    pub fn event_mut<R: HookRequest>(&mut self) -> Option<&mut R> {
        self.event.as_any_mut().downcast_mut()
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("hook", &self.hook)
            .field("version", &self.version)
            .field("client_id", &self.client_id())
            .field("topic", &self.topic())
            .finish()
    }
}

/// What a call answers EMQX, as a layer sees it and may answer itself.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Response {
    /// A notification's answer (`EmptySuccess`).
    Empty,
    /// Authenticate, authorize and publish: `IGNORE`, `CONTINUE` or
    /// `STOP_AND_RETURN` with a value.
    Valued(ValuedResponse),
    /// The answer to the load: the hooks the provider wants.
    Loaded(LoadedResponse),
}

impl Response {
    /// `IGNORE`: no opinion. For a notification it is the same as
    /// [`Response::Empty`].
    pub fn ignore() -> Response {
        Response::Valued(ValuedResponse {
            r#type: valued_response::ResponsedType::Ignore as i32,
            value: None,
        })
    }

    /// A publish answer that drops `message`: EMQX routes nothing and logs
    /// the message's topic and payload.
    pub fn drop_message(message: &Message) -> Response {
        Response::Valued(ValuedResponse {
            r#type: valued_response::ResponsedType::StopAndReturn as i32,
            value: Some(valued_response::Value::Message(dropped(message))),
        })
    }

    /// An authenticate or authorize answer read back as a [`Decision`];
    /// `None` for other answers.
    ///
    /// ```
    /// use exhook_runtime::middleware::Response;
    /// use exhook_runtime::Decision;
    ///
    /// for decision in [Decision::Allow, Decision::Deny, Decision::Ignore, Decision::Continue(true)] {
    ///     assert_eq!(Response::from(decision).decision(), Some(decision));
    /// }
    /// assert_eq!(Response::Empty.decision(), None);
    /// ```
    pub fn decision(&self) -> Option<Decision> {
        use valued_response::ResponsedType;
        let Response::Valued(answer) = self else {
            return None;
        };
        match (ResponsedType::try_from(answer.r#type), &answer.value) {
            (Ok(ResponsedType::Ignore), _) => Some(Decision::Ignore),
            (Ok(ResponsedType::StopAndReturn), Some(valued_response::Value::BoolResult(value))) => {
                Some(if *value {
                    Decision::Allow
                } else {
                    Decision::Deny
                })
            }
            (Ok(ResponsedType::Continue), Some(valued_response::Value::BoolResult(value))) => {
                Some(Decision::Continue(*value))
            }
            _ => None,
        }
    }
}

impl From<Decision> for Response {
    /// An authenticate or authorize answer, as a handler's [`Decision`]
    /// becomes one: `Allow` and `Deny` stop EMQX's chain.
    fn from(decision: Decision) -> Response {
        use valued_response::ResponsedType::{Continue, StopAndReturn};
        let (kind, value) = match decision {
            Decision::Ignore => return Response::ignore(),
            Decision::Allow => (StopAndReturn, true),
            Decision::Deny => (StopAndReturn, false),
            Decision::Continue(value) => (Continue, value),
        };
        Response::Valued(ValuedResponse {
            r#type: kind as i32,
            value: Some(valued_response::Value::BoolResult(value)),
        })
    }
}

/// The rest of a call after a layer: the layers inside it, then the
/// handlers. Cheap to clone.
#[derive(Clone)]
pub struct Next(BoxCloneSyncService<Request, Response, Status>);

impl Next {
    fn new<S>(service: S) -> Next
    where
        S: Service<Request, Response = Response, Error = Status> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
    {
        Next(BoxCloneSyncService::new(service))
    }

    /// Runs the rest of the call.
    pub async fn run(self, request: Request) -> Result<Response, Status> {
        self.0.oneshot(request).await
    }
}

impl fmt::Debug for Next {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Next")
    }
}

impl Service<Request> for Next {
    type Response = Response;
    type Error = Status;
    type Future = BoxFuture<Result<Response, Status>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        self.0.call(request)
    }
}

/// A layer made of an async function of the request and [`Next`].
///
/// ```
/// use exhook_runtime::middleware::{self, Next, Request};
///
/// let layer = middleware::from_fn(|request: Request, next: Next| async move {
///     tracing::debug!(hook = %request.hook(), "calling");
///     next.run(request).await
/// });
/// ```
pub fn from_fn<F, Fut>(f: F) -> FromFnLayer<F>
where
    F: Fn(Request, Next) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, Status>> + Send + 'static,
{
    FromFnLayer { f }
}

/// The layer [`from_fn`] makes.
#[derive(Clone)]
pub struct FromFnLayer<F> {
    f: F,
}

impl<F> fmt::Debug for FromFnLayer<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FromFnLayer")
    }
}

impl<F, S> Layer<S> for FromFnLayer<F>
where
    F: Clone,
    S: Service<Request, Response = Response, Error = Status> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    type Service = FromFn<F>;

    fn layer(&self, inner: S) -> FromFn<F> {
        FromFn {
            f: self.f.clone(),
            next: Next::new(inner),
        }
    }
}

/// The service [`FromFnLayer`] makes.
#[derive(Clone)]
pub struct FromFn<F> {
    f: F,
    next: Next,
}

impl<F> fmt::Debug for FromFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FromFn")
    }
}

impl<F, Fut> Service<Request> for FromFn<F>
where
    F: Fn(Request, Next) -> Fut,
    Fut: Future<Output = Result<Response, Status>> + Send + 'static,
{
    type Response = Response;
    type Error = Status;
    type Future = Fut;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Fut {
        (self.f)(request, self.next.clone())
    }
}

/// A layer as the server keeps it: the hooks it wraps and how.
#[derive(Clone)]
pub(crate) struct LayerEntry {
    hooks: HookSet,
    wrap: Arc<dyn Fn(Next) -> Next + Send + Sync>,
}

impl LayerEntry {
    pub(crate) fn new<L>(hooks: HookSet, layer: L) -> LayerEntry
    where
        L: Layer<Next> + Send + Sync + 'static,
        L::Service:
            Service<Request, Response = Response, Error = Status> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        LayerEntry {
            hooks,
            wrap: Arc::new(move |next| Next::new(layer.layer(next))),
        }
    }
}

/// Each hook's layers around its handlers, by [`Hook::index`]; `None`
/// where no layer wraps the hook, so that its calls cost nothing more.
pub(crate) fn stacks(layers: &[LayerEntry], dispatcher: &Weak<Dispatcher>) -> Vec<Option<Next>> {
    Hook::ALL
        .iter()
        .map(|hook| {
            let wrapping: Vec<&LayerEntry> = layers
                .iter()
                .filter(|layer| layer.hooks.contains(*hook))
                .collect();
            if wrapping.is_empty() {
                return None;
            }
            let handlers = Next::new(Handlers {
                dispatcher: dispatcher.clone(),
            });
            // The first layer added ends up outermost.
            Some(
                wrapping
                    .iter()
                    .rev()
                    .fold(handlers, |next, layer| (layer.wrap)(next)),
            )
        })
        .collect()
}

/// The innermost service: the hook's handlers. It holds the dispatcher
/// weakly, because the dispatcher holds the layers.
#[derive(Clone)]
struct Handlers {
    dispatcher: Weak<Dispatcher>,
}

impl Service<Request> for Handlers {
    type Response = Response;
    type Error = Status;
    type Future = BoxFuture<Result<Response, Status>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let Some(dispatcher) = self.dispatcher.upgrade() else {
            return Box::pin(std::future::ready(Err(Status::unavailable(
                "the server is stopped",
            ))));
        };
        hooks::with_hook(
            request.hook,
            RunHandlers {
                dispatcher,
                request,
            },
        )
    }
}

struct RunHandlers {
    dispatcher: Arc<Dispatcher>,
    request: Request,
}

impl HookFn for RunHandlers {
    type Output = BoxFuture<Result<Response, Status>>;

    fn call<H: HookPoint>(self) -> Self::Output {
        let RunHandlers {
            dispatcher,
            request,
        } = self;
        let version = request.version;
        let Ok(event) = request.event.into_any().downcast::<H::Request>() else {
            // `Request::new` pairs the hook with its request type.
            unreachable!("a {} call carries its own request type", H::HOOK)
        };
        Box::pin(async move {
            let answer = H::Kind::run(dispatcher, *event, version).await?;
            Ok(answer.into_response())
        })
    }
}

/// Runs one call of hook `H`: through its layers when it has some,
/// straight to its handlers otherwise.
pub(crate) fn call<H: HookPoint>(
    dispatcher: Arc<Dispatcher>,
    request: H::Request,
    version: Version,
) -> BoxFuture<Result<WireResponse<H>, Status>> {
    match dispatcher.layers(H::HOOK) {
        None => Box::pin(H::Kind::run(dispatcher, request, version)),
        Some(next) => {
            let next = next.clone();
            Box::pin(async move {
                let response = next.run(Request::new(version, request)).await?;
                WireResponse::<H>::from_response(response, H::HOOK)
            })
        }
    }
}

/// What EMQX gets for hook `H`.
pub(crate) type WireResponse<H> = <<H as HookPoint>::Kind as HookKind<H>>::Response;

pub(crate) use answer::AsResponse;

/// A hook kind's wire answer as a [`Response`] and back.
mod answer {
    use super::*;

    pub trait AsResponse: Sized {
        fn into_response(self) -> Response;

        /// What a layer answered, if it is an answer of this kind.
        fn from_response(response: Response, hook: Hook) -> Result<Self, Status>;
    }

    fn mismatched(hook: Hook, response: &Response) -> Status {
        Status::internal(format!("a layer answered {hook} with {response:?}"))
    }

    impl AsResponse for EmptySuccess {
        fn into_response(self) -> Response {
            Response::Empty
        }

        fn from_response(response: Response, hook: Hook) -> Result<Self, Status> {
            match response {
                Response::Empty => Ok(EmptySuccess {}),
                Response::Valued(ref answer)
                    if answer.r#type == valued_response::ResponsedType::Ignore as i32 =>
                {
                    Ok(EmptySuccess {})
                }
                other => Err(mismatched(hook, &other)),
            }
        }
    }

    impl AsResponse for ValuedResponse {
        fn into_response(self) -> Response {
            Response::Valued(self)
        }

        fn from_response(response: Response, hook: Hook) -> Result<Self, Status> {
            match response {
                Response::Valued(answer) => Ok(answer),
                other => Err(mismatched(hook, &other)),
            }
        }
    }

    impl AsResponse for LoadedResponse {
        fn into_response(self) -> Response {
            Response::Loaded(self)
        }

        fn from_response(response: Response, hook: Hook) -> Result<Self, Status> {
            match response {
                Response::Loaded(answer) => Ok(answer),
                other => Err(mismatched(hook, &other)),
            }
        }
    }
}
