//! A lean unary gRPC client straight on the `h2` crate, for `exhook bench`
//! over plain `http://`: per call it opens a stream, sends the framed
//! request with EMQX's headers in the caller's task, and reads the answer
//! and its status, so that one core of load generator keeps up with the
//! provider. (TLS benchmarks use tonic's client, [`crate::wire`].)

use bytes::{BufMut, Bytes, BytesMut};
use h2::client::SendRequest;
use http::HeaderValue;
use http::uri::{Authority, PathAndQuery};
use tokio::net::TcpStream;
use tonic::{Code, Status};

/// One HTTP/2 connection.
#[derive(Clone)]
pub(crate) struct Connection {
    send: SendRequest<Bytes>,
    authority: Authority,
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
            .handshake(stream)
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

    /// One unary call, `grpc_timeout` sent as `grpc-timeout` (the caller
    /// bounds the wait).
    pub(crate) async fn unary(
        &mut self,
        path: &PathAndQuery,
        body: &Bytes,
        grpc_timeout: &HeaderValue,
    ) -> Result<(), Status> {
        let unavailable = |error: h2::Error| Status::unavailable(error.to_string());
        let mut frame = BytesMut::with_capacity(5 + body.len());
        frame.put_u8(0);
        frame.put_u32(
            u32::try_from(body.len()).map_err(|_| Status::internal("request over 4 GiB"))?,
        );
        frame.put_slice(body);
        let uri = http::Uri::builder()
            .scheme("http")
            .authority(self.authority.clone())
            .path_and_query(path.clone())
            .build()
            .map_err(|error| Status::internal(error.to_string()))?;
        let mut request = http::Request::new(());
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/grpc+proto"),
        );
        headers.insert("te", HeaderValue::from_static("trailers"));
        headers.insert("grpc-timeout", grpc_timeout.clone());
        let mut send = self.send.clone().ready().await.map_err(unavailable)?;
        let (response, mut stream) = send.send_request(request, false).map_err(unavailable)?;
        stream
            .send_data(frame.freeze(), true)
            .map_err(unavailable)?;
        let (parts, mut body) = response.await.map_err(unavailable)?.into_parts();
        // A trailers-only answer carries the status in the headers.
        let status = match parts.headers.get("grpc-status") {
            Some(status) => Some(status.clone()),
            None => {
                while let Some(data) = body.data().await {
                    let data = data.map_err(unavailable)?;
                    let _ = body.flow_control().release_capacity(data.len());
                }
                let trailers = body.trailers().await.map_err(unavailable)?;
                trailers.and_then(|t| t.get("grpc-status").cloned())
            }
        };
        match status
            .as_ref()
            .and_then(|s| s.to_str().ok())
            .and_then(|s| s.parse::<i32>().ok())
        {
            Some(0) => Ok(()),
            Some(code) => Err(Status::new(Code::from_i32(code), "")),
            None => Err(Status::internal(format!(
                "no grpc-status (HTTP {})",
                parts.status
            ))),
        }
    }
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
