//! Accepting connections: at most a fixed number at once, and with a pause
//! after a failed `accept` (out of file descriptors, say) instead of a loop
//! that retries at once and spins a core.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::shutdown::ShutdownHandle;

/// The first pause after a failed `accept`, doubled on each further
/// failure up to [`MAX_PAUSE`]. While descriptors are exhausted nothing
/// can be accepted anyway; the pending connections wait in the kernel's
/// backlog until idle ones are closed.
const FIRST_PAUSE: Duration = Duration::from_millis(5);
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// A listener with a cap on the connections it has open.
pub(crate) struct Acceptor {
    listener: TcpListener,
    slots: Arc<Semaphore>,
    what: &'static str,
}

impl Acceptor {
    /// `what` names the listener in log lines ("gRPC", "metrics").
    pub(crate) fn new(listener: TcpListener, cap: usize, what: &'static str) -> Self {
        Acceptor {
            listener,
            slots: Arc::new(Semaphore::new(cap.clamp(1, Semaphore::MAX_PERMITS))),
            what,
        }
    }

    /// The next connection with its slot, which the connection holds until
    /// it closes; `None` once `stop` is requested. At the cap it waits for
    /// a slot, leaving new connections in the backlog.
    pub(crate) async fn next(
        &self,
        stop: &ShutdownHandle,
    ) -> Option<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
        let mut pause = FIRST_PAUSE;
        loop {
            let permit = tokio::select! {
                () = stop.requested() => return None,
                permit = self.slots.clone().acquire_owned() => permit.ok()?,
            };
            let accepted = tokio::select! {
                () = stop.requested() => return None,
                accepted = self.listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, peer)) => return Some((stream, peer, permit)),
                Err(error) if is_per_connection(&error) => {
                    tracing::debug!(target: "exhook", "{} accept: {error}", self.what);
                }
                Err(error) => {
                    drop(permit);
                    if pause == FIRST_PAUSE {
                        crate::log::warn(format_args!(
                            "{} listener cannot accept: {error}; retrying with pauses of up to {MAX_PAUSE:?}",
                            self.what
                        ));
                    }
                    tokio::select! {
                        () = stop.requested() => return None,
                        () = tokio::time::sleep(pause) => {},
                    }
                    pause = (pause * 2).min(MAX_PAUSE);
                }
            }
        }
    }
}

/// Errors that concern one incoming connection only (it was reset before
/// it was accepted), after which the next `accept` can go ahead at once.
fn is_per_connection(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted};
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted
    )
}

/// Raises the soft limit on open files to the hard limit, once per process,
/// and logs both: each connection costs a descriptor, and the usual soft
/// limit of 1024 is soon reached.
pub(crate) fn raise_fd_limit() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(unix)]
        {
            use rustix::process::{Resource, getrlimit, setrlimit};
            let limit = getrlimit(Resource::Nofile);
            let show = |v: Option<u64>| v.map_or_else(|| "unlimited".to_owned(), |v| v.to_string());
            if limit.current == limit.maximum {
                crate::log::announce(format_args!(
                    "open files limit: {} (soft = hard)",
                    show(limit.current)
                ));
                return;
            }
            let raised = rustix::process::Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => crate::log::announce(format_args!(
                    "open files limit: soft {} raised to the hard limit {}",
                    show(limit.current),
                    show(limit.maximum)
                )),
                Err(error) => crate::log::announce(format_args!(
                    "open files limit: soft {}, hard {}; raising the soft limit failed: {error}",
                    show(limit.current),
                    show(limit.maximum)
                )),
            }
        }
    });
}
