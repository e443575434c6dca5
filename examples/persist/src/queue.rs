//! The bounded queue between the hook and the database: handlers wait when
//! it is full, one writer drains it in batches.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::store::{Row, Store, StoreError};

/// The handlers' end: cheap to clone, shared through `State`.
#[derive(Clone)]
pub struct Queue {
    rows: mpsc::Sender<Row>,
}

/// The queue is closed: the provider is shutting down.
#[derive(Debug, thiserror::Error)]
#[error("the message store is shutting down")]
pub struct Closed;

/// Why accepted messages were not all written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The database kept failing while shutting down.
    #[error("{count} messages not written: {source}")]
    Unwritten {
        /// Messages accepted and not written.
        count: usize,
        /// The last failure.
        source: StoreError,
    },
    /// The writer task ended abnormally.
    #[error("message writer: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl Queue {
    /// Queues `row`, waiting for room when the queue is full. Once this
    /// returns `Ok`, the row is written before the writer finishes.
    pub async fn push(&self, row: Row) -> Result<(), Closed> {
        self.rows.send(row).await.map_err(|_| Closed)
    }
}

/// The writer's end: finish it to write everything accepted.
pub struct Writer {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<u64, WriteError>>,
}

impl Writer {
    /// Closes the queue (later pushes fail), writes every row already
    /// accepted, and returns how many rows were written in all.
    pub async fn finish(self) -> Result<u64, WriteError> {
        let _ = self.stop.send(());
        self.task.await?
    }
}

/// Starts a writer on `store`: at most `capacity` rows wait, and up to
/// `batch` are written per transaction.
pub fn start(store: Store, capacity: usize, batch: usize) -> (Queue, Writer) {
    let (rows, receiver) = mpsc::channel(capacity.max(1));
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(write_all(store, receiver, stopped, batch.max(1)));
    (Queue { rows }, Writer { stop, task })
}

async fn write_all(
    mut store: Store,
    mut rows: mpsc::Receiver<Row>,
    mut stopped: oneshot::Receiver<()>,
    batch_size: usize,
) -> Result<u64, WriteError> {
    let mut batch = Vec::with_capacity(batch_size);
    let mut written = 0;
    loop {
        tokio::select! {
            received = rows.recv_many(&mut batch, batch_size) => {
                if received == 0 {
                    return Ok(written);
                }
                written += write_batch(&mut store, &mut batch, false).await?;
            }
            _ = &mut stopped => break,
        }
    }
    // No new rows from here on; the ones already accepted are written.
    rows.close();
    while rows.recv_many(&mut batch, batch_size).await > 0 {
        written += write_batch(&mut store, &mut batch, true).await?;
    }
    Ok(written)
}

/// Writes one batch, retrying while the database is unavailable. Handlers
/// meanwhile wait on the full queue instead of losing messages. While
/// shutting down it gives up after a few attempts.
async fn write_batch(
    store: &mut Store,
    batch: &mut Vec<Row>,
    closing: bool,
) -> Result<u64, WriteError> {
    let mut attempt = 0u32;
    loop {
        match store.insert(batch).await {
            Ok(()) => {
                let count = batch.len() as u64;
                batch.clear();
                return Ok(count);
            }
            Err(source) if closing && attempt >= 5 => {
                return Err(WriteError::Unwritten {
                    count: batch.len(),
                    source,
                });
            }
            Err(error) => {
                attempt += 1;
                let wait = Duration::from_millis(100 << attempt.min(6));
                tracing::warn!(
                    "writing {} messages failed (attempt {attempt}), retrying in {wait:?}: {error}",
                    batch.len()
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
}
