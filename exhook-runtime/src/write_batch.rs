//! Writes gathered into one system call per batch of answers.
//!
//! hyper's HTTP/2 connection flushes whenever it is polled, and it is polled
//! each time a call's task finishes: under load that is one `writev` per
//! answer (about 1.5 per call, with the trailers). [`WriteBatch`] holds
//! writes in a buffer, and the first flush of a batch yields once to the
//! scheduler instead: the other calls that are ready meanwhile add their
//! answers, and the next flush sends them all at once. A lone call waits
//! only for that one pass of the scheduler.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, BufWriter, ReadBuf};

/// What is gathered before it is sent anyway. Larger writes (a 64 KiB
/// answer) go straight to the socket.
const CAPACITY: usize = 8 * 1024;

pin_project_lite::pin_project! {
    /// A connection whose writes are sent in batches; see the module docs.
    pub(crate) struct WriteBatch<T> {
        #[pin]
        io: BufWriter<T>,
        // The current batch's flush has yielded once already.
        yielded: bool,
    }
}

impl<T: AsyncWrite> WriteBatch<T> {
    pub(crate) fn new(io: T) -> Self {
        WriteBatch {
            io: BufWriter::with_capacity(CAPACITY, io),
            yielded: false,
        }
    }
}

impl<T: AsyncRead + AsyncWrite> AsyncRead for WriteBatch<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().io.poll_read(cx, buf)
    }
}

impl<T: AsyncWrite> AsyncWrite for WriteBatch<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write(cx, buf)
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

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        if !*this.yielded && !this.io.buffer().is_empty() {
            // Woken during its own poll, the task goes to the back of the
            // run queue: the calls ready now run first.
            *this.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        *this.yielded = false;
        this.io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}
