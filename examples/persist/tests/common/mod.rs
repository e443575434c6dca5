//! What the SQLite and PostgreSQL tests share: the command, and a burst of
//! publishes interrupted by SIGTERM.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use exhook_app_testing::{Process, message_v3};
use exhook_runtime::proto::v3;

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The command, with none of its settings taken from the test's shell.
pub(crate) fn example() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_persist"));
    for variable in [
        "PERSIST_TOPICS",
        "DATABASE_URL",
        "PERSIST_DB",
        "PERSIST_QUEUE",
        "PERSIST_BATCH",
    ] {
        command.env_remove(variable);
    }
    command
}

/// What a burst interrupted by SIGTERM left.
pub(crate) struct Burst {
    /// Ids of the messages whose calls were answered `OK`.
    pub(crate) accepted: BTreeSet<String>,
    /// How many rows the provider said it wrote before exiting.
    pub(crate) written: usize,
    /// How many messages were sent (ids `m00000` up).
    pub(crate) sent: usize,
}

impl Burst {
    /// Checks the stored message ids against the burst: every accepted
    /// message was written, nothing was written twice, and the provider
    /// wrote what it said.
    ///
    /// A message can be stored although its call was not answered `OK`: a
    /// provider that has stopped closes its connections while the client
    /// is still sending, and the kernel then resets them, which can discard
    /// answers already sent but not yet read. EMQX treats such a call as
    /// failed; no accepted message is lost.
    pub(crate) fn check(&self, stored: &[String]) {
        let unique: BTreeSet<&String> = stored.iter().collect();
        assert_eq!(unique.len(), stored.len(), "a message stored twice");
        assert_eq!(stored.len(), self.written, "rows vs the provider's count");
        let missing: Vec<_> = self
            .accepted
            .iter()
            .filter(|id| !unique.contains(id))
            .collect();
        assert!(missing.is_empty(), "accepted but not stored: {missing:?}");
        let sent: BTreeSet<String> = (0..self.sent).map(|n| format!("m{n:05}")).collect();
        let unknown: Vec<_> = stored.iter().filter(|id| !sent.contains(*id)).collect();
        assert!(unknown.is_empty(), "rows never sent: {unknown:?}");
    }
}

/// Sends `total` publishes over 4 connections and SIGTERMs the process once
/// a quarter are answered.
pub(crate) async fn burst_then_sigterm(process: Process, total: usize) -> Burst {
    let mut calls = tokio::task::JoinSet::new();
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for connection in 0..4 {
        let client = process.v3().await;
        let answered = answered.clone();
        calls.spawn(async move {
            let mut accepted = Vec::new();
            let mut in_flight = tokio::task::JoinSet::new();
            for n in (connection..total).step_by(4) {
                let mut client = client.clone();
                let answered = answered.clone();
                in_flight.spawn(async move {
                    let mut message = message_v3("meter", &format!("sensors/{n}"), &n.to_string());
                    message.id = format!("m{n:05}");
                    let request = v3::MessagePublishRequest {
                        message: Some(message),
                        ..Default::default()
                    };
                    let ok = client.on_message_publish(request).await.is_ok();
                    answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    ok.then(|| format!("m{n:05}"))
                });
                if in_flight.len() >= 16 {
                    accepted.extend(in_flight.join_next().await.unwrap().unwrap());
                }
            }
            while let Some(id) = in_flight.join_next().await {
                accepted.extend(id.unwrap());
            }
            drop(client);
            accepted
        });
    }
    while answered.load(std::sync::atomic::Ordering::Relaxed) < total / 4 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    process.terminate();
    let mut accepted = BTreeSet::new();
    while let Some(ids) = calls.join_next().await {
        accepted.extend(ids.unwrap());
    }
    let (status, lines) = process.wait().await;
    assert!(status.success(), "{status:?} {lines:?}");
    let written_line = lines
        .iter()
        .find(|l| l.contains("messages written"))
        .unwrap_or_else(|| panic!("{lines:?}"));
    let written: usize = written_line
        .split(" messages written")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{written_line}"));
    // The signal came in the middle: later calls found the server gone.
    assert!(
        accepted.len() < total,
        "every call was accepted: SIGTERM came too late"
    );
    eprintln!(
        "{} of {total} messages accepted before the provider stopped, {written} written",
        accepted.len()
    );
    Burst {
        accepted,
        written,
        sent: total,
    }
}
