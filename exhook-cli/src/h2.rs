//! A lean unary gRPC client straight on the `h2` crate, for `exhook bench`
//! over plain `http://`: each request is framed once ([`Call`]) and sent
//! again as it is, in the caller's task, and each answer is read with its
//! status, so that one core of load generator keeps up with the provider.
//! (TLS benchmarks use tonic's client, [`crate::wire`].)

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use h2::client::SendRequest;
use http::uri::{Authority, PathAndQuery};
use http::{HeaderMap, HeaderValue, Method, Request, Uri};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tonic::{Code, Status};

/// One HTTP/2 connection.
#[derive(Clone)]
pub(crate) struct Connection {
    send: SendRequest<Bytes>,
    authority: Authority,
}

/// One request, ready to be sent any number of times: its URI, EMQX's
/// headers and the gRPC frame of its body.
pub(crate) struct Call {
    uri: Uri,
    headers: HeaderMap,
    frame: Bytes,
}

impl Connection {
    /// Connects to `authority` (`host:port`) with prior knowledge (h2c),
    /// EMQX 5's window sizes and TCP_NODELAY.
    pub(crate) async fn open(authority: &str) -> Result<Connection, String> {
        let stream = TcpStream::connect(authority)
            .await
            .map_err(|error| format!("cannot connect to {authority}: {error}"))?;
        stream
            .set_nodelay(true)
            .map_err(|error| error.to_string())?;
        let (send, connection) = h2::client::Builder::new()
            .initial_window_size(8_000_000)
            .initial_connection_window_size(8_000_000)
            .handshake(Unvectored(stream))
            .await
            .map_err(|error| format!("HTTP/2 with {authority}: {error}"))?;
        tokio::spawn(connection);
        Ok(Connection {
            send,
            authority: authority
                .parse()
                .map_err(|error| format!("{authority}: {error}"))?,
        })
    }

    /// The call of `path` with `body` (an encoded request), `grpc_timeout`
    /// sent as `grpc-timeout`.
    pub(crate) fn call(
        &self,
        path: &PathAndQuery,
        body: &[u8],
        grpc_timeout: &HeaderValue,
    ) -> Result<Call, String> {
        let uri = Uri::builder()
            .scheme("http")
            .authority(self.authority.clone())
            .path_and_query(path.clone())
            .build()
            .map_err(|error| error.to_string())?;
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/grpc+proto"),
        );
        headers.insert("te", HeaderValue::from_static("trailers"));
        headers.insert("grpc-timeout", grpc_timeout.clone());
        let mut frame = BytesMut::with_capacity(5 + body.len());
        frame.put_u8(0);
        frame.put_u32(u32::try_from(body.len()).map_err(|_| "request over 4 GiB")?);
        frame.put_slice(body);
        Ok(Call {
            uri,
            headers,
            frame: frame.freeze(),
        })
    }

    /// Sends `call` and returns the answer's message (the caller bounds the
    /// wait). Anything but `grpc-status: 0` with one uncompressed message
    /// is an error.
    pub(crate) async fn unary(&mut self, call: &Call) -> Result<Bytes, Status> {
        let unavailable = |error: h2::Error| Status::unavailable(error.to_string());
        let mut request = Request::new(());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = call.uri.clone();
        *request.headers_mut() = call.headers.clone();
        std::future::poll_fn(|cx| self.send.poll_ready(cx))
            .await
            .map_err(unavailable)?;
        let (response, mut stream) = self
            .send
            .send_request(request, false)
            .map_err(unavailable)?;
        stream
            .send_data(call.frame.clone(), true)
            .map_err(unavailable)?;
        let (parts, mut body) = response.await.map_err(unavailable)?.into_parts();
        // A trailers-only answer carries the status in the headers.
        let (status, message) = match parts.headers.get("grpc-status") {
            Some(status) => (Some(status.clone()), Bytes::new()),
            None => {
                let mut message = Bytes::new();
                while let Some(data) = body.data().await {
                    let data = data.map_err(unavailable)?;
                    let _ = body.flow_control().release_capacity(data.len());
                    message = if message.is_empty() {
                        data
                    } else {
                        [message, data].concat().into()
                    };
                }
                let trailers = body.trailers().await.map_err(unavailable)?;
                (
                    trailers.and_then(|t| t.get("grpc-status").cloned()),
                    message,
                )
            }
        };
        match status
            .as_ref()
            .and_then(|s| s.to_str().ok())
            .and_then(|s| s.parse::<i32>().ok())
        {
            Some(0) => unframe(message),
            Some(code) => Err(Status::new(Code::from_i32(code), "")),
            None => Err(Status::internal(format!(
                "no grpc-status (HTTP {})",
                parts.status
            ))),
        }
    }
}

/// The message of an answer's body: exactly one uncompressed gRPC frame.
fn unframe(mut body: Bytes) -> Result<Bytes, Status> {
    if body.len() < 5 || body[0] != 0 {
        return Err(Status::internal("answer is not one uncompressed message"));
    }
    body.advance(1);
    let length = body.get_u32() as usize;
    if length != body.len() {
        return Err(Status::internal(format!(
            "answer frame of {length} bytes carries {}",
            body.len()
        )));
    }
    Ok(body)
}

/// `grpc-timeout` as EMQX writes it: whole seconds above one second
/// (truncated), else milliseconds.
pub(crate) fn grpc_timeout(timeout: std::time::Duration) -> HeaderValue {
    let ms = timeout.as_millis();
    let text = if ms > 1000 {
        format!("{}S", ms / 1000)
    } else {
        format!("{ms}m")
    };
    HeaderValue::try_from(text).expect("digits and a unit are a valid header value")
}

/// A TCP stream that does not offer vectored writes. Given vectored writes,
/// `h2` sends every DATA frame over 256 bytes with a write of its own; without,
/// it copies frames up to 1 KiB into its buffer and writes many calls at
/// once, as an EMQX node or h2load does, instead of one small TCP segment
/// per call.
struct Unvectored(TcpStream);

impl AsyncRead for Unvectored {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Unvectored {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_one_uncompressed_message() {
        let framed = |flag: u8, length: u32, message: &[u8]| {
            let mut body = vec![flag];
            body.extend_from_slice(&length.to_be_bytes());
            body.extend_from_slice(message);
            Bytes::from(body)
        };
        assert_eq!(unframe(framed(0, 3, b"abc")).unwrap(), &b"abc"[..]);
        assert_eq!(unframe(framed(0, 0, b"")).unwrap(), &b""[..]);
        assert!(unframe(framed(1, 3, b"abc")).is_err(), "compressed");
        assert!(unframe(framed(0, 4, b"abc")).is_err(), "cut short");
        assert!(unframe(framed(0, 2, b"abc")).is_err(), "two messages");
        assert!(unframe(Bytes::new()).is_err(), "no message");
    }
}
