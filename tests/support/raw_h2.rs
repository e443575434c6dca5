//! An HTTP/2 client driven frame by frame, to behave as a broken or hostile
//! peer does: opening streams past the server's limit, never sending a
//! body, resetting its own streams, or staying silent. It answers the
//! server's SETTINGS (so the connection is valid) but never its PINGs.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const GOAWAY: u8 = 0x7;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const ACK: u8 = 0x1;
/// RST_STREAM's error code for a stream refused before any processing.
pub const REFUSED_STREAM: u32 = 0x7;
const CANCEL: u32 = 0x8;

/// What the server did to the connection so far.
#[derive(Debug, Default)]
pub struct Seen {
    /// Streams the server ended, by RST_STREAM or END_STREAM.
    pub ended: HashSet<u32>,
    /// Of those, the streams refused with REFUSED_STREAM.
    pub refused: usize,
    /// GOAWAY's last stream id and error code.
    pub goaway: Option<(u32, u32)>,
    /// The server closed the TCP connection.
    pub closed: bool,
}

pub struct RawH2 {
    inner: Arc<Inner>,
}

struct Inner {
    writer: tokio::sync::Mutex<OwnedWriteHalf>,
    seen: Arc<(Mutex<Seen>, Notify)>,
}

impl Inner {
    async fn write(&self, bytes: &[u8]) {
        // The server may have closed the connection; what it did is in `seen`.
        let _ = self.writer.lock().await.write_all(bytes).await;
    }
}

impl RawH2 {
    /// Connects, sends the preface and an empty SETTINGS frame.
    pub async fn connect(addr: SocketAddr) -> RawH2 {
        let mut hello = PREFACE.to_vec();
        hello.extend(frame(SETTINGS, 0, 0, &[]));
        RawH2::connect_sending(addr, &hello).await
    }

    /// Connects and sends `first` before anything else: the server sends
    /// its SETTINGS at once, and their acknowledgement must not go out
    /// before the preface (the server would see a protocol error).
    async fn connect_sending(addr: SocketAddr, first: &[u8]) -> RawH2 {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (mut reader, mut writer) = stream.into_split();
        writer.write_all(first).await.expect("write the preface");
        let writer = tokio::sync::Mutex::new(writer);
        let seen: Arc<(Mutex<Seen>, Notify)> = Arc::default();
        let inner = Arc::new(Inner {
            writer,
            seen: seen.clone(),
        });
        let (acks_tx, mut acks) = tokio::sync::mpsc::unbounded_channel::<()>();
        tokio::spawn(async move {
            let mut header = [0u8; 9];
            loop {
                if reader.read_exact(&mut header).await.is_err() {
                    break;
                }
                let len = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
                let (kind, flags) = (header[3], header[4]);
                let id =
                    u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7fff_ffff;
                let mut payload = vec![0u8; len];
                if reader.read_exact(&mut payload).await.is_err() {
                    break;
                }
                let mut s = seen.0.lock().unwrap();
                match kind {
                    SETTINGS if flags & ACK == 0 => {
                        let _ = acks_tx.send(());
                    }
                    RST_STREAM => {
                        s.ended.insert(id);
                        if payload.get(..4) == Some(&REFUSED_STREAM.to_be_bytes()) {
                            s.refused += 1;
                        }
                    }
                    HEADERS | DATA if flags & END_STREAM != 0 => {
                        s.ended.insert(id);
                    }
                    GOAWAY if payload.len() >= 8 => {
                        let last =
                            u32::from_be_bytes(payload[..4].try_into().unwrap()) & 0x7fff_ffff;
                        let code = u32::from_be_bytes(payload[4..8].try_into().unwrap());
                        s.goaway = Some((last, code));
                    }
                    _ => {}
                }
                drop(s);
                seen.1.notify_waiters();
            }
            seen.0.lock().unwrap().closed = true;
            seen.1.notify_waiters();
        });
        // SETTINGS acknowledgements go out from here, between our writes.
        let acker = Arc::downgrade(&inner);
        tokio::spawn(async move {
            while acks.recv().await.is_some() {
                let Some(inner) = acker.upgrade() else { break };
                inner.write(&frame(SETTINGS, ACK, 0, &[])).await;
            }
        });
        RawH2 { inner }
    }

    /// Opens streams `ids` as gRPC calls to `path`, without a body and
    /// without `grpc-timeout`; `end_stream` closes them at once (an empty
    /// body).
    pub async fn open(&self, ids: impl IntoIterator<Item = u32>, path: &str, end_stream: bool) {
        let block = headers(path);
        let flags = END_HEADERS | if end_stream { END_STREAM } else { 0 };
        let mut out = Vec::new();
        for id in ids {
            out.extend(frame(HEADERS, flags, id, &block));
            if out.len() > 64 * 1024 {
                self.write(&out).await;
                out.clear();
            }
        }
        self.write(&out).await;
    }

    /// Resets stream `id` (CANCEL), as a client that gave up on it.
    pub async fn reset(&self, id: u32) {
        self.write(&frame(RST_STREAM, 0, id, &CANCEL.to_be_bytes()))
            .await;
    }

    /// Sends raw bytes.
    pub async fn write(&self, bytes: &[u8]) {
        self.inner.write(bytes).await;
    }

    /// Waits until `done` holds for what the server did, for up to
    /// `timeout`; returns whether it held.
    pub async fn wait(&self, timeout: Duration, mut done: impl FnMut(&Seen) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.seen.1.notified();
            if done(&self.inner.seen.0.lock().unwrap()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return done(&self.inner.seen.0.lock().unwrap());
            }
        }
    }

    /// Reads what the server did so far.
    pub fn seen<T>(&self, read: impl FnOnce(&Seen) -> T) -> T {
        read(&self.inner.seen.0.lock().unwrap())
    }
}

fn frame(kind: u8, flags: u8, id: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend(&len.to_be_bytes()[1..]);
    out.extend([kind, flags]);
    out.extend(id.to_be_bytes());
    out.extend(payload);
    out
}

/// The HPACK block of a gRPC request, with literal fields only (no table
/// state to keep): `:method POST`, `:scheme http`, `:authority`, `:path`,
/// `content-type: application/grpc`, `te: trailers`.
fn headers(path: &str) -> Vec<u8> {
    fn literal(out: &mut Vec<u8>, value: &str) {
        assert!(value.len() < 127);
        out.push(value.len() as u8);
        out.extend(value.as_bytes());
    }
    let mut out = vec![0x83, 0x86];
    out.push(0x01); // :authority, literal without indexing
    literal(&mut out, "localhost");
    out.push(0x04); // :path
    literal(&mut out, path);
    out.extend([0x0f, 0x10]); // content-type (static index 31)
    literal(&mut out, "application/grpc");
    out.push(0x00); // a new name
    literal(&mut out, "te");
    literal(&mut out, "trailers");
    out
}
