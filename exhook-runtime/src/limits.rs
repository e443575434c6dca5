//! What one peer may hold of the server: the bounds on connections, streams,
//! buffered request bytes and time that keep a stalled or hostile peer from
//! exhausting memory, file descriptors or CPU.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tonic::Status;

use crate::deadline;

/// The settings, all with defaults (see the [`Server`](crate::Server)
/// methods that set them for why each default is what it is).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_connections: usize,
    pub(crate) max_concurrent_streams: u32,
    pub(crate) buffered_per_connection: usize,
    pub(crate) buffered_per_server: usize,
    pub(crate) request_body_timeout: Duration,
    pub(crate) preface_timeout: Duration,
    pub(crate) tls_handshake_timeout: Duration,
    pub(crate) keepalive_interval: Option<Duration>,
    pub(crate) keepalive_timeout: Duration,
    pub(crate) client_resets: usize,
    pub(crate) client_reset_window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            max_concurrent_streams: 4096,
            buffered_per_connection: 16 << 20,
            buffered_per_server: 64 << 20,
            request_body_timeout: Duration::from_secs(10),
            preface_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            keepalive_interval: Some(Duration::from_secs(60)),
            keepalive_timeout: Duration::from_secs(20),
            client_resets: 1000,
            client_reset_window: Duration::from_secs(10),
        }
    }
}

/// Request bytes received and not yet decoded, against a limit.
#[derive(Debug)]
pub(crate) struct ByteBudget {
    held: AtomicUsize,
    limit: usize,
}

impl ByteBudget {
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(ByteBudget {
            held: AtomicUsize::new(0),
            limit,
        })
    }

    /// Takes `n` bytes if they fit under the limit.
    fn take(&self, n: usize) -> bool {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(n).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    fn give_back(&self, n: usize) {
        self.held.fetch_sub(n, Ordering::AcqRel);
    }
}

/// The budgets a request's bytes count against, and its connection's
/// count of client resets.
#[derive(Debug, Clone)]
pub(crate) struct Budgets {
    pub(crate) connection: Arc<ByteBudget>,
    pub(crate) server: Arc<ByteBudget>,
    pub(crate) resets: Arc<Resets>,
}

/// Streams the client reset before they were answered, counted per window:
/// a call whose body the client reset, or whose future was dropped
/// unfinished (hyper drops it when the client resets the stream).
#[derive(Debug)]
pub(crate) struct Resets {
    limit: usize,
    window: Duration,
    counted: Mutex<(Instant, usize)>,
    exceeded: Notify,
}

impl Resets {
    pub(crate) fn new(limit: usize, window: Duration) -> Self {
        Resets {
            limit,
            window,
            counted: Mutex::new((Instant::now(), 0)),
            exceeded: Notify::new(),
        }
    }

    /// Completes once more than the limit were counted within a window.
    pub(crate) async fn exceeded(&self) {
        self.exceeded.notified().await;
    }

    pub(crate) fn record(&self) {
        let mut counted = self.counted.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if now.duration_since(counted.0) > self.window {
            *counted = (now, 0);
        }
        counted.1 += 1;
        if counted.1 == self.limit + 1 {
            self.exceeded.notify_one();
        }
    }
}

pin_project_lite::pin_project! {
    /// A request body that must arrive before its deadline, and whose bytes
    /// count against the connection's and the server's budgets until the
    /// body is dropped (tonic drops it once the message is decoded). Either
    /// bound failing fails this call alone; the stream is then reset.
    pub(crate) struct LimitedBody<B> {
        #[pin]
        inner: B,
        budgets: Budgets,
        held: usize,
        started: Instant,
        // Only a body that has to wait arms a timer: EMQX's requests arrive
        // whole, in the frame that opens the stream.
        limit: Duration,
        timer: Option<Pin<Box<tokio::time::Sleep>>>,
        failed: bool,
    }

    impl<B> PinnedDrop for LimitedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if *this.held > 0 {
                this.budgets.connection.give_back(*this.held);
                this.budgets.server.give_back(*this.held);
            }
        }
    }
}

impl<B> LimitedBody<B> {
    /// `body` of a request with `headers`: its deadline is the request's
    /// `grpc-timeout`, and `limits.request_body_timeout` at most.
    pub(crate) fn new(
        body: B,
        headers: &http::HeaderMap,
        limits: &Limits,
        budgets: Budgets,
    ) -> Self {
        let limit = deadline::budget(headers, Some(limits.request_body_timeout))
            .unwrap_or(limits.request_body_timeout);
        LimitedBody {
            inner: body,
            budgets,
            held: 0,
            started: Instant::now(),
            limit,
            timer: None,
            failed: false,
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<B> Body for LimitedBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        if *this.failed {
            return Poll::Ready(None);
        }
        let error = match this.inner.poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let n = frame.data_ref().map_or(0, Bytes::len);
                if n == 0 {
                    return Poll::Ready(Some(Ok(frame)));
                }
                if this.budgets.connection.take(n) {
                    if this.budgets.server.take(n) {
                        *this.held += n;
                        return Poll::Ready(Some(Ok(frame)));
                    }
                    this.budgets.connection.give_back(n);
                    Status::resource_exhausted(
                        "the server holds too many partly received requests; try again",
                    )
                } else {
                    Status::resource_exhausted(
                        "this connection holds too many partly received requests",
                    )
                }
            }
            Poll::Ready(Some(Err(error))) => {
                // The client reset the stream (or lost the connection).
                this.budgets.resets.record();
                return Poll::Ready(Some(Err(error.into())));
            }
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {
                let deadline = *this.started + *this.limit;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                Status::deadline_exceeded(format!(
                    "the request body did not arrive within {:?}",
                    this.limit
                ))
            }
        };
        *this.failed = true;
        Poll::Ready(Some(Err(Box::new(error))))
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn budgets(connection: usize, server: usize) -> Budgets {
        Budgets {
            connection: ByteBudget::new(connection),
            server: ByteBudget::new(server),
            resets: Arc::new(Resets::new(100, Duration::from_secs(10))),
        }
    }

    #[tokio::test]
    async fn bytes_count_until_the_body_is_dropped() {
        let budgets = budgets(10, 100);
        let body = http_body_util::Full::new(Bytes::from_static(b"12345678"));
        let mut first = LimitedBody::new(
            body.clone(),
            &http::HeaderMap::new(),
            &Limits::default(),
            budgets.clone(),
        );
        assert_eq!(
            first
                .frame()
                .await
                .unwrap()
                .unwrap()
                .into_data()
                .unwrap()
                .len(),
            8
        );
        let mut second = LimitedBody::new(
            body,
            &http::HeaderMap::new(),
            &Limits::default(),
            budgets.clone(),
        );
        let error = second.frame().await.unwrap().unwrap_err();
        let status = error.downcast_ref::<Status>().unwrap();
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert!(second.frame().await.is_none(), "a failed body ends");
        drop(first);
        assert_eq!(budgets.connection.held.load(Ordering::Relaxed), 0);
        assert_eq!(budgets.server.held.load(Ordering::Relaxed), 0);
    }

    /// A body whose frames never come.
    struct Stalled;

    impl Body for Stalled {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_body_that_stalls_fails_at_its_grpc_timeout() {
        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-timeout", "300m".parse().unwrap());
        let mut body = LimitedBody::new(Stalled, &headers, &Limits::default(), budgets(10, 10));
        let started = Instant::now();
        let error = body.frame().await.unwrap().unwrap_err();
        let status = error.downcast_ref::<Status>().unwrap();
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
        assert!(started.elapsed() >= Duration::from_millis(250));
    }

    #[tokio::test]
    async fn without_grpc_timeout_the_body_timeout_applies() {
        let limits = Limits {
            request_body_timeout: Duration::from_millis(200),
            ..Limits::default()
        };
        let mut body = LimitedBody::new(Stalled, &http::HeaderMap::new(), &limits, budgets(10, 10));
        let error = body.frame().await.unwrap().unwrap_err();
        let status = error.downcast_ref::<Status>().unwrap();
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
    }
}
