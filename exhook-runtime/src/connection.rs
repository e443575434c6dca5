//! Serving one accepted connection over HTTP/2: the TLS handshake and the
//! client's preface must come in time, HTTP/2 PINGs find dead peers, a
//! peer that keeps resetting its own streams is sent GOAWAY, and a closed
//! connection lingers until the peer has read everything.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Sleep;
use tower::ServiceExt;
use tower::util::Oneshot;

use crate::limits::{Budgets, ByteBudget, LimitedBody, Limits, Resets};
use crate::shutdown::ShutdownHandle;
use crate::write_batch::WriteBatch;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connection refused after GOAWAY for too many resets gets this long
/// to end its streams before it is closed.
const GOAWAY_GRACE: Duration = Duration::from_secs(1);

/// How long a finished connection waits for the peer to close its side,
/// and how much it reads from it meanwhile; see [`linger`].
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 1 << 20;

/// The client's connection preface (24 bytes) and the header of the
/// SETTINGS frame that must follow it (9 bytes): every HTTP/2 client sends
/// them at once, so a peer that has not within the preface timeout is
/// closed. This covers both a silent peer and one that sent the preface
/// and nothing more.
const PREFACE_BYTES: usize = 24 + 9;

/// What every connection of one server shares.
pub(crate) struct Connections<S> {
    pub(crate) service: S,
    pub(crate) limits: Limits,
    pub(crate) server_bytes: Arc<ByteBudget>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
    pub(crate) stop: ShutdownHandle,
}

impl<S, B> Connections<S>
where
    S: tower::Service<Request<LimitedBody<Incoming>>, Response = Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Serves `stream` until it closes, holding `slot` meanwhile.
    pub(crate) async fn serve(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
        slot: OwnedSemaphorePermit,
    ) {
        let _slot = slot;
        // Each call waits for its answer, so small writes must leave at
        // once: without TCP_NODELAY, Nagle's algorithm and delayed ACKs hold
        // every answer for about 40 ms.
        let _ = stream.set_nodelay(true);
        #[cfg(feature = "tls")]
        if let Some(acceptor) = &self.tls {
            let timeout = self.limits.tls_handshake_timeout;
            match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => self.http2(stream, peer).await,
                Ok(Err(error)) => {
                    tracing::debug!(target: "exhook", %peer, "TLS handshake failed: {error}");
                }
                Err(_) => {
                    tracing::debug!(target: "exhook", %peer, "no TLS handshake within {timeout:?}; closed");
                }
            }
            return;
        }
        self.http2(stream, peer).await;
    }

    async fn http2<IO>(&self, mut io: IO, peer: SocketAddr)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let limits = &self.limits;
        let resets = Arc::new(Resets::new(
            limits.client_resets,
            limits.client_reset_window,
        ));
        let calls = Calls {
            service: self.service.clone(),
            limits: *limits,
            budgets: Budgets {
                connection: ByteBudget::new(limits.buffered_per_connection),
                server: self.server_bytes.clone(),
                resets: resets.clone(),
            },
        };
        let mut builder = http2::Builder::new(TokioExecutor::new());
        builder
            .timer(TokioTimer::new())
            .max_concurrent_streams(limits.max_concurrent_streams)
            .keep_alive_interval(limits.keepalive_interval)
            .keep_alive_timeout(limits.keepalive_timeout);
        {
            // hyper borrows the stream, so that it can linger once hyper is done.
            let batched = WriteBatch::new(&mut io);
            let borrowed = TokioIo::new(Preface::new(batched, limits.preface_timeout));
            let connection = builder.serve_connection(borrowed, calls);
            let mut connection = std::pin::pin!(connection);
            let mut closing = false;
            let mut grace: Option<Pin<Box<Sleep>>> = None;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(error) = result {
                            tracing::debug!(target: "exhook", %peer, "connection ended: {error}");
                        }
                        break;
                    }
                    () = self.stop.requested(), if !closing => {
                        closing = true;
                        connection.as_mut().graceful_shutdown();
                    }
                    () = resets.exceeded(), if !closing => {
                        tracing::warn!(
                            target: "exhook",
                            %peer,
                            "the client reset more than {} streams within {:?}; closing its connection (GOAWAY)",
                            limits.client_resets,
                            limits.client_reset_window,
                        );
                        closing = true;
                        connection.as_mut().graceful_shutdown();
                        grace = Some(Box::pin(tokio::time::sleep(GOAWAY_GRACE)));
                    }
                    () = async { grace.as_mut().expect("set").await }, if grace.is_some() => break,
                }
            }
        }
        linger(&mut io).await;
    }
}

/// Closes the write side, then reads and discards what the peer still
/// sends until it closes too, for at most [`LINGER`] and [`LINGER_BYTES`].
///
/// A socket closed with unread bytes in it (a WINDOW_UPDATE or a new stream
/// the peer sent just before our final GOAWAY arrived) makes the kernel
/// send a TCP reset, and a peer that receives a reset may discard what it
/// has not read yet: the last answers. A proxy such as HAProxy then ends
/// those calls without a `grpc-status`.
async fn linger<IO: AsyncRead + AsyncWrite + Unpin>(io: &mut IO) {
    let drained = async {
        io.shutdown().await?;
        let mut discard = vec![0u8; 8 * 1024];
        let mut read = 0;
        while read < LINGER_BYTES {
            match io.read(&mut discard).await? {
                0 => break,
                n => read += n,
            }
        }
        io::Result::Ok(())
    };
    let _ = tokio::time::timeout(LINGER, drained).await;
}

/// The calls of one connection: each request body is bounded, and each call
/// dropped before it was answered (the client reset its stream) counted.
struct Calls<S> {
    service: S,
    limits: Limits,
    budgets: Budgets,
}

impl<S, B> hyper::service::Service<Request<Incoming>> for Calls<S>
where
    S: tower::Service<Request<LimitedBody<Incoming>>, Response = Response<B>> + Clone,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = Answered<Oneshot<S, Request<LimitedBody<Incoming>>>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let (parts, body) = request.into_parts();
        let body = LimitedBody::new(body, &parts.headers, &self.limits, self.budgets.clone());
        Answered {
            future: self
                .service
                .clone()
                .oneshot(Request::from_parts(parts, body)),
            resets: Some(self.budgets.resets.clone()),
        }
    }
}

pin_project_lite::pin_project! {
    /// A call's future; dropped unfinished, it counts as reset by the client.
    struct Answered<F> {
        #[pin]
        future: F,
        resets: Option<Arc<Resets>>,
    }

    impl<F> PinnedDrop for Answered<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(resets) = this.project().resets.take() {
                resets.record();
            }
        }
    }
}

impl<F: Future> Future for Answered<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let output = ready!(this.future.poll(cx));
        *this.resets = None;
        Poll::Ready(output)
    }
}

pin_project_lite::pin_project! {
    /// A connection whose first [`PREFACE_BYTES`] must arrive before a
    /// deadline; reading fails with `TimedOut` after it.
    struct Preface<T> {
        #[pin]
        io: T,
        missing: usize,
        timer: Option<Pin<Box<Sleep>>>,
    }
}

impl<T> Preface<T> {
    fn new(io: T, timeout: Duration) -> Self {
        Preface {
            io,
            missing: PREFACE_BYTES,
            timer: Some(Box::pin(tokio::time::sleep(timeout))),
        }
    }
}

impl<T: AsyncRead> AsyncRead for Preface<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let Some(timer) = this.timer else {
            return this.io.poll_read(cx, buf);
        };
        let before = buf.filled().len();
        match this.io.poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let read = buf.filled().len() - before;
                *this.missing = this.missing.saturating_sub(read);
                if *this.missing == 0 {
                    *this.timer = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if timer.as_mut().poll(cx).is_ready() => {
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no HTTP/2 preface and SETTINGS in time",
                )))
            }
            other => other,
        }
    }
}

impl<T: AsyncWrite> AsyncWrite for Preface<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
