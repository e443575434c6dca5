//! Writes gathered into one system call per batch of answers.
//!
//! hyper's HTTP/2 connection flushes whenever it is polled, and it is polled
//! each time a call's task finishes: under load that is one `writev` per
//! answer (about 1.5 per call, with the trailers). [`WriteBatch`] holds
//! small writes in a buffer, and the first flush of a batch yields once to
//! the scheduler instead: the other calls that are ready meanwhile add their
//! answers, and the next flush sends them all at once. A lone call waits
//! only for that one pass of the scheduler. A large write (a 64 KiB answer)
//! goes to the socket at once, in the same `writev` as what is buffered.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Up to this much is gathered before it is sent anyway.
const CAPACITY: usize = 8 * 1024;

/// The most slices one `writev` is given (Linux accepts 1024).
const MAX_SLICES: usize = 64;

/// A connection whose writes are sent in batches; see the module docs.
pub(crate) struct WriteBatch<T> {
    io: T,
    /// Written by h2, not yet sent. Allocated on first use.
    buffer: Vec<u8>,
    /// The current batch's flush has yielded once already.
    yielded: bool,
}

impl<T> WriteBatch<T> {
    pub(crate) fn new(io: T) -> Self {
        WriteBatch {
            io,
            buffer: Vec::new(),
            yielded: false,
        }
    }
}

impl<T: AsyncWrite + Unpin> WriteBatch<T> {
    /// Sends the whole buffer.
    fn poll_send_buffer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.buffer.is_empty() {
            let sent = ready!(Pin::new(&mut self.io).poll_write(cx, &self.buffer))?;
            if sent == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.buffer.drain(..sent);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteBatch<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteBatch<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if this.buffer.len() + total <= CAPACITY {
            if this.buffer.capacity() == 0 {
                this.buffer.reserve_exact(CAPACITY);
            }
            for buf in bufs {
                this.buffer.extend_from_slice(buf);
            }
            return Poll::Ready(Ok(total));
        }
        if this.buffer.is_empty() {
            return Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        }
        // What is buffered goes first, in the same system call.
        loop {
            let mut slices = Vec::with_capacity(MAX_SLICES);
            slices.push(IoSlice::new(&this.buffer));
            slices.extend(bufs.iter().take(MAX_SLICES - 1).map(|b| IoSlice::new(b)));
            let sent = ready!(Pin::new(&mut this.io).poll_write_vectored(cx, &slices))?;
            if sent == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            let buffered = this.buffer.len();
            this.buffer.drain(..sent.min(buffered));
            if sent > buffered {
                return Poll::Ready(Ok(sent - buffered));
            }
            if this.buffer.is_empty() {
                return Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.yielded && !this.buffer.is_empty() {
            // Woken during its own poll, the task goes to the back of the
            // run queue: the calls ready now run first.
            this.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        ready!(this.poll_send_buffer(cx))?;
        this.yielded = false;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_send_buffer(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// Records each write the socket gets.
    #[derive(Default)]
    struct Recorder {
        writes: Vec<Vec<u8>>,
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.get_mut().writes.push(buf.to_vec());
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let joined: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            let len = joined.len();
            self.get_mut().writes.push(joined);
            Poll::Ready(Ok(len))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn small_writes_leave_in_one_write_at_the_flush() {
        let mut batch = WriteBatch::new(Recorder::default());
        for part in [&b"one"[..], b"two", b"three"] {
            batch.write_all(part).await.unwrap();
        }
        assert!(batch.io.writes.is_empty());
        batch.flush().await.unwrap();
        assert_eq!(batch.io.writes, [b"onetwothree".to_vec()]);
    }

    #[tokio::test]
    async fn a_large_write_leaves_at_once_with_what_is_buffered() {
        let mut batch = WriteBatch::new(Recorder::default());
        batch.write_all(b"head").await.unwrap();
        let large = vec![7u8; CAPACITY];
        let written = batch
            .write_vectored(&[IoSlice::new(b"frame"), IoSlice::new(&large)])
            .await
            .unwrap();
        assert_eq!(written, 5 + CAPACITY);
        let mut expected = b"headframe".to_vec();
        expected.extend(&large);
        assert_eq!(batch.io.writes, [expected]);
        batch.write_all(b"tail").await.unwrap();
        batch.shutdown().await.unwrap();
        assert_eq!(batch.io.writes.last().unwrap(), b"tail");
    }
}
