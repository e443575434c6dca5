//! One unary gRPC call as EMQX makes it, on bytes encoded beforehand.
//!
//! Requests are encoded once by [`crate::request`] (with each generation's
//! own types), so the bench can send the same bytes again without encoding;
//! answers come back as bytes and are read by [`crate::emqx`].

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use exhook_hooks::{Hook, Version};
use http::uri::PathAndQuery;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

/// The gRPC path of `hook` in `version`, such as
/// `/emqx.exhook.v1.HookProvider/OnClientCheckAcl`.
pub(crate) fn path(hook: Hook, version: Version) -> PathAndQuery {
    let path = format!("/{}/{}", version.service_name(), hook.rpc(version));
    PathAndQuery::try_from(path).expect("service and rpc names are valid paths")
}

/// Sends `body` (an encoded request) to `path` and returns the encoded
/// answer. Like EMQX, it sends the request timeout as `grpc-timeout` and
/// gives up at that deadline itself.
pub(crate) async fn unary(
    channel: &Channel,
    path: PathAndQuery,
    body: Bytes,
    timeout: Duration,
) -> Result<Bytes, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    let call = async {
        grpc.ready()
            .await
            .map_err(|error| Status::unavailable(error.to_string()))?;
        let mut request = tonic::Request::new(body);
        request.set_timeout(timeout);
        grpc.unary(request, path, RawCodec).await
    };
    match tokio::time::timeout(timeout, call).await {
        Ok(answer) => answer.map(tonic::Response::into_inner),
        Err(_) => Err(Status::deadline_exceeded(format!(
            "no answer within the request timeout ({})",
            humantime::format_duration(timeout)
        ))),
    }
}

/// A codec that passes protobuf bytes through unchanged.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
