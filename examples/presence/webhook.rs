//! Posting changes to the webhook: a bounded queue the hooks never wait on,
//! one sender that posts in order, with a timeout and a bounded retry.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tracing::{debug, error, warn};

use super::table::Change;

/// How to post.
#[derive(Debug, Clone)]
pub struct Settings {
    /// An `http://host[:port]/path` URL.
    pub url: Uri,
    /// Per attempt, connection included.
    pub timeout: Duration,
    /// Attempts after the first, for timeouts, connection errors and 5xx.
    pub retries: u32,
    /// Changes that may wait to be posted.
    pub queue: usize,
}

/// Parses and checks a webhook URL (plain `http://` only).
pub fn parse_url(text: &str) -> Result<Uri, String> {
    let url: Uri = text
        .parse()
        .map_err(|e| format!("webhook URL {text:?}: {e}"))?;
    if url.scheme_str() != Some("http") || url.host().is_none() {
        return Err(format!(
            "webhook URL {text:?}: an http://host[:port]/path URL is needed"
        ));
    }
    Ok(url)
}

/// The hooks' end, shared through `State`.
#[derive(Clone)]
pub struct Webhook {
    changes: mpsc::Sender<Bytes>,
    dropped: Arc<AtomicU64>,
}

impl Webhook {
    /// Queues `change` for posting; never waits. When the queue is full
    /// (the webhook has been down a while), the change is dropped and
    /// counted.
    pub fn notify(&self, change: &Change) {
        let body = serde_json::to_vec(change).expect("a change serializes");
        if self.changes.try_send(Bytes::from(body)).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                warn!("webhook queue full: {dropped} changes dropped so far");
            }
        }
    }

    /// Changes dropped on a full queue.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Starts the sender task.
pub fn start(settings: Settings) -> Webhook {
    let (changes, queued) = mpsc::channel(settings.queue.max(1));
    tokio::spawn(send_all(settings, queued));
    Webhook {
        changes,
        dropped: Arc::default(),
    }
}

async fn send_all(settings: Settings, mut queued: mpsc::Receiver<Bytes>) {
    while let Some(body) = queued.recv().await {
        let mut pause = Duration::from_millis(100);
        for attempt in 0..=settings.retries {
            if attempt > 0 {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            match post(&settings.url, body.clone(), settings.timeout).await {
                Ok(status) if status.is_success() => {
                    debug!("webhook: {status}");
                    break;
                }
                Ok(status) if status.is_client_error() => {
                    // The receiver refuses this change; sending it again will not help.
                    error!("webhook answered {status}; change not delivered");
                    break;
                }
                outcome => {
                    let why = match outcome {
                        Ok(status) => status.to_string(),
                        Err(e) => e,
                    };
                    if attempt == settings.retries {
                        error!(
                            "webhook: {why}; change dropped after {} attempts",
                            attempt + 1
                        );
                    } else {
                        warn!("webhook: {why}; retrying in {pause:?}");
                    }
                }
            }
        }
    }
}

/// One POST on a new connection, bounded by `timeout`.
async fn post(url: &Uri, body: Bytes, timeout: Duration) -> Result<StatusCode, String> {
    let host = url.host().unwrap_or_default();
    let port = url.port_u16().unwrap_or(80);
    let authority = url.authority().map(|a| a.as_str()).unwrap_or(host);
    let path = url.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let attempt = async {
        let stream = TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("connect to {authority}: {e}"))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        let request = Request::post(path)
            .header(HOST, authority)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(body))
            .map_err(|e| e.to_string())?;
        let exchange = async move {
            let response = sender.send_request(request).await;
            drop(sender); // lets the connection close once answered
            response
        };
        let (response, _) = tokio::join!(exchange, connection);
        response.map(|r| r.status()).map_err(|e| e.to_string())
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .map_err(|_| format!("no answer within {timeout:?}"))?
}
