//! The gRPC services `emqx.exhook.v1`, `v2` and `v3` `HookProvider`: each
//! rpc is found in the hook table and run by one generic [`Rpc`], for
//! the hook's type.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http_body::Body as HttpBody;
use tonic::Status;
use tonic::body::Body;
use tonic::codec::{Codec, DecodeBuf, Decoder};
use tonic::codegen::StdError;
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic_prost::ProstEncoder;

use crate::compat::Wire;
use crate::deadline;
use crate::dispatch::Dispatcher;
use crate::hook::Hook;
use crate::hooks::{self, HookFn, HookPoint};
use crate::kind::HookKind;
use crate::middleware;
use crate::span::call_span;
use crate::supervise::Supervised;
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

/// One unary call of a hook's rpc, run for the hook's type `H`: decode the
/// request as its protocol version lays it out, run the handlers under the
/// server's supervision, encode the answer.
struct Rpc<B> {
    dispatcher: Arc<Dispatcher>,
    version: Version,
    request: http::Request<B>,
}

impl<B: HttpBody + Send + 'static> HookFn for Rpc<B>
where
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
            let mut grpc = Grpc::new(HookCodec::<H> {
                version,
                hook: PhantomData,
            })
            .apply_max_message_size_config(dispatcher.supervision.max_request_bytes, None);
            let service = Unary::<H> {
                version,
                dispatcher,
                hook: PhantomData,
            };
            Ok(too_large_is_resource_exhausted(
                grpc.unary(service, request).await,
            ))
        })
    }
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

/// Hook `H`'s handler chain as tonic's unary service.
struct Unary<H> {
    version: Version,
    dispatcher: Arc<Dispatcher>,
    hook: PhantomData<fn() -> H>,
}

impl<H: HookPoint> UnaryService<H::Request> for Unary<H> {
    type Response = Response<H>;
    type Future = Supervised<CallFuture<H>>;

    fn call(&mut self, request: tonic::Request<H::Request>) -> Self::Future {
        let supervision = &self.dispatcher.supervision;
        let budget = deadline::budget(request.metadata().as_ref(), supervision.handler_timeout);
        if let Some(metrics) = &supervision.metrics {
            metrics.started(H::HOOK, self.version);
        }
        let request = request.into_inner();
        let span = call_span::<H>(self.version, &request);
        // Boxed once (the chain's future is large, and the layers below
        // would otherwise move it), and wrapped in its span only when
        // tracing wants it.
        let chain = middleware::call::<H>(self.dispatcher.clone(), request, self.version);
        let future: CallFuture<H> = if span.is_disabled() {
            chain
        } else {
            Box::pin(tracing::Instrument::instrument(chain, span))
        };
        Supervised::new(future, H::HOOK, budget, supervision)
    }
}

/// Decodes hook `H`'s request as `version` lays it out; encodes the answer.
struct HookCodec<H> {
    version: Version,
    hook: PhantomData<fn() -> H>,
}

impl<H: HookPoint> Codec for HookCodec<H> {
    type Encode = Response<H>;
    type Decode = H::Request;
    type Encoder = ProstEncoder<Response<H>>;
    type Decoder = RequestDecoder<H>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        RequestDecoder {
            version: self.version,
            hook: PhantomData,
        }
    }
}

struct RequestDecoder<H> {
    version: Version,
    hook: PhantomData<fn() -> H>,
}

impl<H: HookPoint> Decoder for RequestDecoder<H> {
    type Item = H::Request;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<H::Request>, Status> {
        <H::Request as Wire>::decode(self.version, buf)
            .map(Some)
            .map_err(|error| Status::internal(error.to_string()))
    }
}
