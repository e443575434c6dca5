//! The bounded buffer between the hook and the sink.
//!
//! A record takes a place in the buffer when the hook accepts it and gives
//! it back only when the sink has acknowledged it, so the records being
//! sent count too: the buffer bounds everything not yet delivered. Records
//! leave in the order they came, which keeps each client's order (EMQX
//! calls the hook for one client's messages one after another).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, Semaphore};
use tracing::warn;

use crate::metrics::Metrics;
use crate::record::Record;

/// What the hook does when the buffer is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum WhenFull {
    /// Wait for a place: EMQX's publisher waits (up to its
    /// `request_timeout`), nothing is lost.
    #[default]
    Block,
    /// Drop the message and count it: EMQX never waits.
    Drop,
}

/// The handlers' end of the buffer, shared through `State`.
#[derive(Clone)]
pub struct Bridge {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Mutex<VecDeque<Record>>,
    /// One permit per free place.
    places: Semaphore,
    /// Told when a record arrives or the buffer closes.
    arrived: Notify,
    when_full: WhenFull,
    metrics: Arc<Metrics>,
}

impl Bridge {
    /// A buffer of `capacity` places (at least one).
    pub fn new(capacity: usize, when_full: WhenFull, metrics: Arc<Metrics>) -> Bridge {
        Bridge {
            inner: Arc::new(Inner {
                queue: Mutex::new(VecDeque::new()),
                places: Semaphore::new(capacity.max(1)),
                arrived: Notify::new(),
                when_full,
                metrics,
            }),
        }
    }

    /// Takes `record` for the sink; whether it was taken. On a full buffer
    /// this waits or drops, as configured; after [`Bridge::close`] it drops.
    pub async fn accept(&self, record: Record) -> bool {
        let inner = &self.inner;
        let place = match inner.when_full {
            WhenFull::Block => inner.places.acquire().await.ok(),
            WhenFull::Drop => inner.places.try_acquire().ok(),
        };
        let Some(place) = place else {
            let dropped = inner.metrics.dropped.inc() + 1;
            // One line per power of two keeps an outage from flooding the log.
            if dropped.is_power_of_two() {
                warn!("buffer full or closed: {dropped} messages dropped so far");
            }
            return false;
        };
        // Given back by `release` once the sink has the record.
        place.forget();
        inner.metrics.depth.inc();
        inner.queue.lock().unwrap().push_back(record);
        inner.arrived.notify_one();
        true
    }

    /// The metrics of this bridge.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The metrics, to keep beyond the bridge.
    pub fn metrics_handle(&self) -> Arc<Metrics> {
        self.inner.metrics.clone()
    }

    /// Refuses further records; those already accepted are still sent.
    pub fn close(&self) {
        self.inner.places.close();
        self.inner.arrived.notify_one();
    }

    /// Up to `max` records from the front, waiting for at least one; empty
    /// once the buffer is closed and nothing is left. They keep their
    /// places until [`Bridge::release`].
    pub(crate) async fn take(&self, max: usize) -> Vec<Record> {
        loop {
            let arrived = self.inner.arrived.notified();
            {
                let mut queue = self.inner.queue.lock().unwrap();
                if !queue.is_empty() {
                    let n = queue.len().min(max.max(1));
                    return queue.drain(..n).collect();
                }
                if self.inner.places.is_closed() {
                    return Vec::new();
                }
            }
            arrived.await;
        }
    }

    /// Gives back the places of `n` records the sink acknowledged.
    pub(crate) fn release(&self, n: usize) {
        self.inner.metrics.depth.dec_by(n as u64);
        self.inner.places.add_permits(n);
    }
}
