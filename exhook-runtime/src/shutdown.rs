//! Stopping a server: on SIGTERM or Ctrl-C, or through a handle.

use tokio::sync::watch;

/// Stops a running server gracefully from elsewhere in the program.
///
/// ```no_run
/// use exhook_runtime::prelude::*;
///
/// #[on_session_created]
/// async fn created() {}
///
/// # async fn run() -> Result<(), exhook_runtime::Error> {
/// let server = Server::new(provider![created]);
/// let stop = server.shutdown_handle();
/// tokio::spawn(async move {
///     tokio::time::sleep(std::time::Duration::from_secs(60)).await;
///     stop.shutdown();
/// });
/// server.serve().await
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    sender: watch::Sender<bool>,
}

impl ShutdownHandle {
    pub(crate) fn new() -> Self {
        ShutdownHandle {
            sender: watch::Sender::new(false),
        }
    }

    /// Starts the graceful shutdown: health turns to `NOT_SERVING`, no new
    /// connection is accepted, and calls in flight get the drain time to
    /// finish.
    pub fn shutdown(&self) {
        self.sender.send_replace(true);
    }

    /// Completes once [`shutdown`](Self::shutdown) was called.
    pub(crate) async fn requested(&self) {
        let mut receiver = self.sender.subscribe();
        let _ = receiver.wait_for(|stop| *stop).await;
    }
}

/// Completes on Ctrl-C, or on SIGTERM where there are signals. The signals
/// are listened for from this call on, not from the future's first poll: a
/// SIGTERM that arrives after the server said it is serving, however soon,
/// stops the server rather than killing the process.
#[cfg(unix)]
pub(crate) fn os_signal() -> impl Future<Output = ()> + Send {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    async fn received(signal: Option<Signal>) {
        match signal {
            Some(mut signal) => {
                signal.recv().await;
            }
            // No handler could be installed: the signal keeps its default.
            None => std::future::pending().await,
        }
    }
    let terminate = signal(SignalKind::terminate()).ok();
    let interrupt = signal(SignalKind::interrupt()).ok();
    async move {
        tokio::select! {
            () = received(terminate) => {},
            () = received(interrupt) => {},
        }
    }
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
pub(crate) fn os_signal() -> impl Future<Output = ()> + Send {
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        if ctrl_c.await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::time::Duration;

    #[tokio::test]
    async fn a_sigterm_before_the_first_poll_stops_the_server_not_the_process() {
        let stop = super::os_signal();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        // Without a handler in place, the signal would have ended this process.
        tokio::time::timeout(Duration::from_secs(10), stop)
            .await
            .expect("the SIGTERM completes the future");
    }
}
