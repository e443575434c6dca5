//! The gRPC services: `emqx.exhook.v1`, `v2` and `v3` `HookProvider`, all
//! answered by one dispatcher.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http_body::Body as HttpBody;
use tonic::Status;
use tonic::body::Body;
use tonic::codegen::StdError;
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic_prost::ProstCodec;

use crate::compat;
use crate::deadline::{self, NeutralAnswer};
use crate::dispatch::Dispatcher;
use crate::hook::Hook;
use crate::metrics::Classify;
use crate::proto::{v1, v3};
use crate::span::Identify;
use crate::supervise::Supervised;
use crate::version::Version;

/// One call's handler chain, boxed.
type CallFuture<Resp> = Pin<Box<dyn Future<Output = Result<Resp, Status>> + Send>>;

/// The call's span: hook, protocol, client and topic, never the password.
fn call_span<R: Identify>(hook: Hook, version: Version, request: &R) -> tracing::Span {
    tracing::debug_span!(
        target: "exhook",
        "hook",
        hook = hook.name(Version::V3),
        version = %version,
        clientid = request.clientid(),
        topic = request.topic(),
    )
}

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;

/// A protocol version as a type, for [`NamedService`].
pub(crate) trait VersionTag: Send + Sync + 'static {
    const VERSION: Version;
}

macro_rules! version_tag {
    ($($tag:ident => $version:ident),*) => {$(
        pub(crate) struct $tag;
        impl VersionTag for $tag {
            const VERSION: Version = Version::$version;
        }
    )*};
}
version_tag!(V1 => V1, V2 => V2, V3 => V3);

/// One version's `HookProvider` service.
pub(crate) struct HookService<V> {
    dispatcher: Arc<Dispatcher>,
    version: PhantomData<fn() -> V>,
}

impl<V> HookService<V> {
    pub(crate) fn new(dispatcher: Arc<Dispatcher>) -> Self {
        HookService {
            dispatcher,
            version: PhantomData,
        }
    }
}

impl<V> Clone for HookService<V> {
    fn clone(&self) -> Self {
        HookService::new(self.dispatcher.clone())
    }
}

impl<V: VersionTag> NamedService for HookService<V> {
    const NAME: &'static str = V::VERSION.service_name();
}

impl<V, B> tower_service::Service<http::Request<B>> for HookService<V>
where
    V: VersionTag,
    B: HttpBody + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> ResponseFuture {
        route::<B>(&self.dispatcher, V::VERSION, request)
    }
}

/// Sends `request` to the dispatcher method its rpc names, decoding the
/// body as `$req` (converted with `$convert` when given).
macro_rules! rpc {
    ($dispatcher:ident, $request:ident, $version:ident, $hook:ident, $method:ident, $req:ty) => {
        rpc!(
            $dispatcher,
            $request,
            $version,
            $hook,
            $method,
            $req,
            std::convert::identity
        )
    };
    ($dispatcher:ident, $request:ident, $version:ident, $hook:ident, $method:ident, $req:ty, $convert:expr) => {{
        unary(
            $request,
            Hook::$hook,
            $version,
            $dispatcher.clone(),
            |dispatcher: Arc<Dispatcher>, body: $req, version: Version| -> CallFuture<_> {
                let request = $convert(body);
                let span = call_span(Hook::$hook, version, &request);
                let future = dispatcher.$method(request, version);
                // Boxed once here (the chain's future is large, and the
                // layers below would otherwise move it), and wrapped in its
                // span only when tracing wants it.
                if span.is_disabled() {
                    Box::pin(future)
                } else {
                    Box::pin(tracing::Instrument::instrument(future, span))
                }
            },
        )
    }};
}

fn route<B>(
    dispatcher: &Arc<Dispatcher>,
    version: Version,
    request: http::Request<B>,
) -> ResponseFuture
where
    B: HttpBody + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    let d = dispatcher;
    let r = request;
    // The router sent only paths under this service: `/<service>/<method>`.
    let method = r
        .uri()
        .path()
        .get(version.service_name().len() + 2..)
        .unwrap_or("");
    let v = version;
    let v1 = version == Version::V1;
    match method {
        "OnProviderLoaded" if v1 => rpc!(
            d,
            r,
            v,
            ProviderLoaded,
            on_provider_loaded,
            v1::ProviderLoadedRequest,
            compat::loaded_from_v1
        ),
        "OnProviderLoaded" => rpc!(
            d,
            r,
            v,
            ProviderLoaded,
            on_provider_loaded,
            v3::ProviderLoadedRequest,
            compat::loaded_from_v3
        ),
        "OnProviderUnloaded" => rpc!(
            d,
            r,
            v,
            ProviderUnloaded,
            on_provider_unloaded,
            v3::ProviderUnloadedRequest
        ),
        "OnClientConnect" => rpc!(
            d,
            r,
            v,
            ClientConnect,
            on_client_connect,
            v3::ClientConnectRequest
        ),
        "OnClientConnack" => rpc!(
            d,
            r,
            v,
            ClientConnack,
            on_client_connack,
            v3::ClientConnackRequest
        ),
        "OnClientConnected" => rpc!(
            d,
            r,
            v,
            ClientConnected,
            on_client_connected,
            v3::ClientConnectedRequest
        ),
        "OnClientDisconnected" => rpc!(
            d,
            r,
            v,
            ClientDisconnected,
            on_client_disconnected,
            v3::ClientDisconnectedRequest
        ),
        "OnClientAuthenticate" => rpc!(
            d,
            r,
            v,
            ClientAuthenticate,
            on_client_authenticate,
            v3::ClientAuthenticateRequest
        ),
        "OnClientCheckAcl" if v1 => rpc!(
            d,
            r,
            v,
            ClientAuthorize,
            on_client_authorize,
            v3::ClientAuthorizeRequest
        ),
        "OnClientAuthorize" if !v1 => rpc!(
            d,
            r,
            v,
            ClientAuthorize,
            on_client_authorize,
            v3::ClientAuthorizeRequest
        ),
        "OnClientSubscribe" if v1 => rpc!(
            d,
            r,
            v,
            ClientSubscribe,
            on_client_subscribe,
            v1::ClientSubscribeRequest,
            compat::subscribe_from_v1
        ),
        "OnClientSubscribe" => rpc!(
            d,
            r,
            v,
            ClientSubscribe,
            on_client_subscribe,
            v3::ClientSubscribeRequest
        ),
        "OnClientUnsubscribe" if v1 => rpc!(
            d,
            r,
            v,
            ClientUnsubscribe,
            on_client_unsubscribe,
            v1::ClientUnsubscribeRequest,
            compat::unsubscribe_from_v1
        ),
        "OnClientUnsubscribe" => rpc!(
            d,
            r,
            v,
            ClientUnsubscribe,
            on_client_unsubscribe,
            v3::ClientUnsubscribeRequest
        ),
        "OnSessionCreated" => rpc!(
            d,
            r,
            v,
            SessionCreated,
            on_session_created,
            v3::SessionCreatedRequest
        ),
        "OnSessionSubscribed" if v1 => rpc!(
            d,
            r,
            v,
            SessionSubscribed,
            on_session_subscribed,
            v1::SessionSubscribedRequest,
            compat::session_subscribed_from_v1
        ),
        "OnSessionSubscribed" => rpc!(
            d,
            r,
            v,
            SessionSubscribed,
            on_session_subscribed,
            v3::SessionSubscribedRequest
        ),
        "OnSessionUnsubscribed" => rpc!(
            d,
            r,
            v,
            SessionUnsubscribed,
            on_session_unsubscribed,
            v3::SessionUnsubscribedRequest
        ),
        "OnSessionResumed" => rpc!(
            d,
            r,
            v,
            SessionResumed,
            on_session_resumed,
            v3::SessionResumedRequest
        ),
        "OnSessionDiscarded" => rpc!(
            d,
            r,
            v,
            SessionDiscarded,
            on_session_discarded,
            v3::SessionDiscardedRequest
        ),
        "OnSessionTakeovered" if v1 => rpc!(
            d,
            r,
            v,
            SessionTakenover,
            on_session_takenover,
            v3::SessionTakenoverRequest
        ),
        "OnSessionTakenover" if !v1 => rpc!(
            d,
            r,
            v,
            SessionTakenover,
            on_session_takenover,
            v3::SessionTakenoverRequest
        ),
        "OnSessionTerminated" => rpc!(
            d,
            r,
            v,
            SessionTerminated,
            on_session_terminated,
            v3::SessionTerminatedRequest
        ),
        "OnMessagePublish" => rpc!(
            d,
            r,
            v,
            MessagePublish,
            on_message_publish,
            v3::MessagePublishRequest
        ),
        "OnMessageDelivered" => rpc!(
            d,
            r,
            v,
            MessageDelivered,
            on_message_delivered,
            v3::MessageDeliveredRequest
        ),
        "OnMessageDropped" => rpc!(
            d,
            r,
            v,
            MessageDropped,
            on_message_dropped,
            v3::MessageDroppedRequest
        ),
        "OnMessageAcked" => rpc!(
            d,
            r,
            v,
            MessageAcked,
            on_message_acked,
            v3::MessageAckedRequest
        ),
        _ => {
            let status = Status::unimplemented(format!(
                "{} has no method {:?}",
                version.service_name(),
                r.uri().path()
            ));
            Box::pin(std::future::ready(Ok(status.into_http())))
        }
    }
}

/// Runs one unary rpc: decode, call `handle` under the server's
/// supervision, encode.
fn unary<Req, Resp, B>(
    request: http::Request<B>,
    hook: Hook,
    version: Version,
    dispatcher: Arc<Dispatcher>,
    handle: Handle<Req, Resp>,
) -> ResponseFuture
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Classify + NeutralAnswer + Send + 'static,
    B: HttpBody + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    Box::pin(async move {
        let mut grpc = Grpc::new(ProstCodec::<Resp, Req>::default())
            .apply_max_message_size_config(dispatcher.supervision.max_request_bytes, None);
        let service = Unary {
            handle,
            hook,
            version,
            dispatcher,
        };
        Ok(too_large_is_resource_exhausted(
            grpc.unary(service, request).await,
        ))
    })
}

/// tonic refuses a request over the size limit with `OUT_OF_RANGE`; gRPC
/// names that case `RESOURCE_EXHAUSTED`. Handlers never answer
/// `OUT_OF_RANGE` (their errors are `UNKNOWN`), so the code is unambiguous.
fn too_large_is_resource_exhausted(mut response: http::Response<Body>) -> http::Response<Body> {
    // `grpc-status` as text: 11 is OUT_OF_RANGE, 8 RESOURCE_EXHAUSTED.
    const OUT_OF_RANGE: &[u8] = b"11";
    const RESOURCE_EXHAUSTED: &str = "8";
    static GRPC_STATUS: http::HeaderName = http::HeaderName::from_static("grpc-status");
    if response
        .headers()
        .get(&GRPC_STATUS)
        .is_some_and(|status| status.as_bytes() == OUT_OF_RANGE)
    {
        response.headers_mut().insert(
            GRPC_STATUS.clone(),
            http::HeaderValue::from_static(RESOURCE_EXHAUSTED),
        );
    }
    response
}

/// Starts one hook's chain for a decoded request.
type Handle<Req, Resp> = fn(Arc<Dispatcher>, Req, Version) -> CallFuture<Resp>;

struct Unary<Req, Resp> {
    handle: Handle<Req, Resp>,
    hook: Hook,
    version: Version,
    dispatcher: Arc<Dispatcher>,
}

impl<Req, Resp> UnaryService<Req> for Unary<Req, Resp>
where
    Resp: Classify + NeutralAnswer,
{
    type Response = Resp;
    type Future = Supervised<CallFuture<Resp>>;

    fn call(&mut self, request: tonic::Request<Req>) -> Self::Future {
        let supervision = &self.dispatcher.supervision;
        let budget = deadline::budget(request.metadata().as_ref(), supervision.handler_timeout);
        if let Some(metrics) = &supervision.metrics {
            metrics.started(self.hook, self.version);
        }
        let future = (self.handle)(self.dispatcher.clone(), request.into_inner(), self.version);
        Supervised::new(future, self.hook, budget, &self.dispatcher.supervision)
    }
}
