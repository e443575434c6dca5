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

/// Completes on Ctrl-C, or on SIGTERM where there are signals.
pub(crate) async fn os_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
