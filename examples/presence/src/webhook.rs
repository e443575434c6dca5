//! Posting changes to the webhook: a bounded queue the hooks never wait on,
//! one sender that posts in order, with a timeout and a bounded retry.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Certificate, Client, Url};
use tokio::sync::mpsc;
use tracing::{debug, error, warn};

use super::table::Change;

/// How to post.
#[derive(Debug, Clone)]
pub struct Settings {
    /// An `http://` or `https://` URL.
    pub url: Url,
    /// Per attempt, connection included.
    pub timeout: Duration,
    /// Attempts after the first, for timeouts, connection errors and 5xx.
    pub retries: u32,
    /// Changes that may wait to be posted.
    pub queue: usize,
    /// Certificate authorities trusted for `https://` besides the usual
    /// public ones (a private CA, for example).
    pub roots: Vec<Certificate>,
}

/// A webhook URL that cannot be posted to.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    /// Not a URL.
    #[error("webhook URL {text:?}: {source}")]
    Parse {
        /// The URL as given.
        text: String,
        /// Why.
        source: url::ParseError,
    },
    /// Not an `http://` or `https://` URL with a host.
    #[error("webhook URL {0:?}: an http:// or https:// URL with a host is needed")]
    Scheme(String),
}

/// Parses and checks a webhook URL (`http://` or `https://`).
pub fn parse_url(text: &str) -> Result<Url, UrlError> {
    let url = Url::parse(text).map_err(|source| UrlError::Parse {
        text: text.to_owned(),
        source,
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(UrlError::Scheme(text.to_owned()));
    }
    Ok(url)
}

/// The hooks' end, shared through `State`.
#[derive(Clone)]
pub struct Webhook {
    changes: mpsc::Sender<Vec<u8>>,
    dropped: Arc<AtomicU64>,
}

impl Webhook {
    /// Queues `change` for posting; never waits. When the queue is full
    /// (the webhook has been down a while), the change is dropped and
    /// counted.
    pub fn notify(&self, change: &Change) {
        let body = serde_json::to_vec(change).expect("a change serializes");
        if self.changes.try_send(body).is_err() {
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

/// Starts the sender task; fails when the HTTP client cannot be built
/// (TLS set-up).
pub fn start(settings: Settings) -> Result<Webhook, reqwest::Error> {
    let client = settings
        .roots
        .iter()
        .cloned()
        .fold(Client::builder(), |builder, root| {
            builder.add_root_certificate(root)
        })
        .timeout(settings.timeout)
        .build()?;
    let (changes, queued) = mpsc::channel(settings.queue.max(1));
    tokio::spawn(send_all(client, settings, queued));
    Ok(Webhook {
        changes,
        dropped: Arc::default(),
    })
}

async fn send_all(client: Client, settings: Settings, mut queued: mpsc::Receiver<Vec<u8>>) {
    while let Some(body) = queued.recv().await {
        let mut pause = Duration::from_millis(100);
        for attempt in 0..=settings.retries {
            if attempt > 0 {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            let sent = client
                .post(settings.url.clone())
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let why = match sent {
                Ok(response) if response.status().is_success() => {
                    debug!("webhook: {}", response.status());
                    break;
                }
                Ok(response) if response.status().is_client_error() => {
                    // The receiver refuses this change; sending it again will not help.
                    error!(
                        "webhook answered {}; change not delivered",
                        response.status()
                    );
                    break;
                }
                Ok(response) => response.status().to_string(),
                // reqwest's own message ("error sending request") leaves the
                // cause (refused, timed out, untrusted certificate) to its sources.
                Err(e) => error_chain(&e),
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

/// `error` and its causes, `: `-separated.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
