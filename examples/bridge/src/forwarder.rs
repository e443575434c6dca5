//! The task that moves records from the buffer into the sink: one batch at
//! a time, in order, each sent until the sink acknowledges it.

use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::buffer::{Bridge, WhenFull};
use crate::{Sink, SinkError};

/// The shared settings of every sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Places in the buffer (`--buffer`).
    pub buffer: usize,
    /// What the hook does when they are all taken (`--when-full`).
    pub when_full: WhenFull,
    /// Records given to the sink at once (`--batch`).
    pub batch: usize,
    /// How long one connection attempt or one send may take before it
    /// counts as failed (`--send-timeout-ms`).
    pub send_timeout: Duration,
    /// First pause before reconnecting; it doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// The longest pause between attempts.
    pub max_backoff: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            buffer: 10_000,
            when_full: WhenFull::Block,
            batch: 500,
            send_timeout: Duration::from_secs(30),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// The running forwarder.
pub struct Forwarder {
    bridge: Bridge,
    task: JoinHandle<()>,
}

impl Forwarder {
    /// Closes the buffer and waits up to `within` for the sink to
    /// acknowledge everything in it; how many records were left.
    pub async fn flush(self, within: Duration) -> u64 {
        self.bridge.close();
        let mut task = self.task;
        if tokio::time::timeout(within, &mut task).await.is_err() {
            task.abort();
        }
        let left = self.bridge.metrics().depth.get();
        if left > 0 {
            warn!("{left} messages not acknowledged by the sink within {within:?}");
        }
        left
    }
}

pub(crate) fn spawn<S: Sink>(sink: S, bridge: Bridge, options: &Options) -> Forwarder {
    let task = tokio::spawn(run(sink, bridge.clone(), options.clone()));
    Forwarder { bridge, task }
}

async fn run<S: Sink>(mut sink: S, bridge: Bridge, options: Options) {
    let metrics = bridge.metrics_handle();
    let mut connected = false;
    let mut pause = options.min_backoff;
    loop {
        let batch = bridge.take(options.batch).await;
        if batch.is_empty() {
            return; // closed and empty
        }
        loop {
            if !connected {
                let connected_in = tokio::time::timeout(options.send_timeout, sink.connect());
                match connected_in
                    .await
                    .unwrap_or_else(|_| Err("timed out".into()))
                {
                    Ok(()) => {
                        info!("{}: connected", sink.name());
                        connected = true;
                    }
                    Err(error) => {
                        warn!(
                            "{}: cannot connect: {error}; retrying in {pause:?}",
                            sink.name()
                        );
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(options.max_backoff);
                        continue;
                    }
                }
            }
            let started = Instant::now();
            let sent: Result<(), SinkError> =
                match tokio::time::timeout(options.send_timeout, sink.send(&batch)).await {
                    Ok(sent) => sent,
                    Err(_) => {
                        Err(format!("no acknowledgement within {:?}", options.send_timeout).into())
                    }
                };
            match sent {
                Ok(()) => {
                    metrics.observe_latency(started.elapsed());
                    metrics.forwarded.inc_by(batch.len() as u64);
                    bridge.release(batch.len());
                    pause = options.min_backoff;
                    break;
                }
                Err(error) => {
                    metrics.retried.inc_by(batch.len() as u64);
                    warn!(
                        "{}: sending {} messages failed: {error}; reconnecting in {pause:?}",
                        sink.name(),
                        batch.len()
                    );
                    connected = false;
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(options.max_backoff);
                }
            }
        }
    }
}
