//! The gRPC services `emqx.exhook.v1`, `v2` and `v3` `HookProvider`: each
//! rpc is found in the hook table and run by one generic [`Rpc`], for
//! the hook's type.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Body as HttpBody;
use tonic::Status;
use tonic::body::Body;
use tonic::codegen::StdError;
use tonic::server::NamedService;

use crate::compat::Wire;
use crate::deadline;
use crate::dispatch::Dispatcher;
use crate::hook::Hook;
use crate::hooks::{self, HookFn, HookPoint};
use crate::kind::HookKind;
use crate::middleware;
use crate::span::call_span;
use crate::supervise::Supervised;
use crate::unary::{self, Encode as _};
use crate::version::Version;

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;

/// What EMQX gets for hook `H`.
type Response<H> = <<H as HookPoint>::Kind as HookKind<H>>::Response;

/// One call's handler chain, boxed.
type CallFuture<H> = Pin<Box<dyn Future<Output = Result<Response<H>, Status>> + Send>>;

/// A protocol version as a type, for [`NamedService`].
pub(crate) trait VersionTag: Send + Sync + 'static {
    const VERSION: Version;
}

pub(crate) struct V1;
pub(crate) struct V2;
pub(crate) struct V3;

impl VersionTag for V1 {
    const VERSION: Version = Version::V1;
}

impl VersionTag for V2 {
    const VERSION: Version = Version::V2;
}

impl VersionTag for V3 {
    const VERSION: Version = Version::V3;
}

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
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> ResponseFuture {
        let version = V::VERSION;
        // The router sent only paths under this service: `/<service>/<rpc>`.
        let path = request.uri().path();
        let rpc_name = path.get(version.service_name().len() + 2..).unwrap_or("");
        match Hook::from_rpc(version, rpc_name) {
            Some(hook) => {
                let rpc = Rpc {
                    dispatcher: self.dispatcher.clone(),
                    version,
                    request,
                };
                hooks::with_hook(hook, rpc)
            }
            None => {
                let status = Status::unimplemented(format!(
                    "{} has no method {path:?}",
                    version.service_name()
                ));
                Box::pin(std::future::ready(Ok(status.into_http())))
            }
        }
    }
}

/// One unary call of a hook's rpc, run for the hook's type `H`: read and
/// decode the request as its protocol version lays it out, run the handlers
/// under the server's supervision, send the answer.
struct Rpc<B> {
    dispatcher: Arc<Dispatcher>,
    version: Version,
    request: http::Request<B>,
}

impl<B> HookFn for Rpc<B>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Output = ResponseFuture;

    fn call<H: HookPoint>(self) -> ResponseFuture {
        let Rpc {
            dispatcher,
            version,
            request,
        } = self;
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let limit = dispatcher
                .supervision
                .max_request_bytes
                .unwrap_or(unary::DEFAULT_MAX_REQUEST_BYTES);
            let message = match unary::read_message(&parts.headers, body, limit).await {
                Ok(message) => message,
                Err(status) => return Ok(unary::failure(status)),
            };
            let request = match <H::Request as Wire>::decode(version, message) {
                Ok(request) => request,
                Err(error) => return Ok(unary::failure(Status::internal(error.to_string()))),
            };
            Ok(
                match supervised::<H>(dispatcher, version, &parts.headers, request).await {
                    Ok(answer) => unary::answer(answer.encode_answer()),
                    Err(status) => unary::failure(status),
                },
            )
        })
    }
}

/// Hook `H`'s handler chain for one request, under its deadline (the
/// shorter of the caller's `grpc-timeout` and the server's own limit),
/// panic isolation and metrics.
fn supervised<H: HookPoint>(
    dispatcher: Arc<Dispatcher>,
    version: Version,
    headers: &http::HeaderMap,
    request: H::Request,
) -> Supervised<CallFuture<H>> {
    let supervision = &dispatcher.supervision;
    let budget = deadline::budget(headers, supervision.handler_timeout);
    if let Some(metrics) = &supervision.metrics {
        metrics.started(H::HOOK, version);
    }
    let span = call_span::<H>(version, &request);
    // Boxed once (the chain's future is large, and the layers below would
    // otherwise move it), and wrapped in its span only when tracing wants it.
    let chain = middleware::call::<H>(dispatcher.clone(), request, version);
    let future: CallFuture<H> = if span.is_disabled() {
        chain
    } else {
        Box::pin(tracing::Instrument::instrument(chain, span))
    };
    Supervised::new(future, H::HOOK, budget, supervision)
}
