//! How the test broker reaches one provider: in process, or over gRPC with
//! one protocol version.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use tonic::Status;
use tonic::transport::Channel;

use bytes::BufMut;
use tonic::codec::{Codec, EncodeBuf, Encoder};
use tonic_prost::ProstDecoder;

use crate::dispatch::Dispatcher;
use crate::hook::Hook;
use crate::hooks::{HookPoint, HookRequest};
use crate::kind::HookKind;
use crate::middleware;
use crate::shutdown::ShutdownHandle;
use crate::supervise::Supervised;
use crate::version::Version;

/// One provider as the broker sees it.
pub(crate) enum Link {
    InProcess {
        dispatcher: Arc<Dispatcher>,
        version: Version,
        down: bool,
    },
    Grpc {
        channel: Channel,
        version: Version,
        stop: ShutdownHandle,
        task: Option<tokio::task::JoinHandle<Result<(), crate::Error>>>,
    },
}

impl Link {
    /// Takes the provider down: later calls fail as calls to a stopped
    /// provider do.
    pub(crate) async fn stop(&mut self) {
        match self {
            Link::InProcess { down, .. } => *down = true,
            Link::Grpc { stop, task, .. } => {
                stop.shutdown();
                if let Some(task) = task.take() {
                    let _ = task.await;
                }
            }
        }
    }
}

/// What EMQX gets for hook `H`.
pub(crate) type Response<H> = <<H as HookPoint>::Kind as HookKind<H>>::Response;

impl Link {
    /// Calls the hook `request` belongs to: in process under the server's
    /// deadline and panic guard, or over gRPC as EMQX of the link's
    /// protocol version encodes it.
    pub(crate) async fn call<R: HookRequest>(
        &self,
        request: R,
        timeout: Duration,
    ) -> Result<Response<R::Hook>, Status> {
        let hook = <R::Hook as HookPoint>::HOOK;
        match self {
            Link::InProcess { down: true, .. } => {
                Err(Status::unavailable("the provider is stopped"))
            }
            Link::InProcess {
                dispatcher,
                version,
                ..
            } => {
                let call = middleware::call::<R::Hook>(dispatcher.clone(), request, *version);
                Supervised::new(call, hook, Some(timeout), &dispatcher.supervision).await
            }
            Link::Grpc {
                channel, version, ..
            } => grpc_call(channel, *version, hook, request.encode(*version), timeout).await,
        }
    }
}

/// One unary call over gRPC, as EMQX makes it: `grpc-timeout` set to the
/// request timeout, and the caller giving up at that deadline too.
async fn grpc_call<Resp>(
    channel: &Channel,
    version: Version,
    hook: Hook,
    request: Vec<u8>,
    timeout: Duration,
) -> Result<Resp, Status>
where
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|error| Status::unavailable(error.to_string()))?;
    let path = format!("/{}/{}", version.service_name(), hook.rpc(version));
    let path = http::uri::PathAndQuery::try_from(path)
        .map_err(|error| Status::internal(error.to_string()))?;
    let mut request = tonic::Request::new(request);
    request.set_timeout(timeout);
    let call = grpc.unary(request, path, EncodedCodec::<Resp>(PhantomData));
    match tokio::time::timeout(timeout, call).await {
        Ok(result) => result.map(tonic::Response::into_inner),
        Err(_) => Err(Status::deadline_exceeded("request_timeout elapsed")),
    }
}

/// Sends a request already encoded for the link's protocol version;
/// decodes the answer.
struct EncodedCodec<Resp>(PhantomData<fn() -> Resp>);

impl<Resp: prost::Message + Default + Send + 'static> Codec for EncodedCodec<Resp> {
    type Encode = Vec<u8>;
    type Decode = Resp;
    type Encoder = EncodedRequest;
    type Decoder = ProstDecoder<Resp>;

    fn encoder(&mut self) -> EncodedRequest {
        EncodedRequest
    }

    fn decoder(&mut self) -> ProstDecoder<Resp> {
        ProstDecoder::default()
    }
}

struct EncodedRequest;

impl Encoder for EncodedRequest {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        buf.put_slice(&item);
        Ok(())
    }
}
