//! Which clients are online: one entry per client id, kept in memory.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use exhook_runtime::ClientInfo;
use serde::Serialize;

use super::webhook::Webhook;

/// What is known of one client id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Whether a connection of this client id is open.
    pub online: bool,
    /// The username of the last connection.
    pub username: String,
    /// Its address.
    pub peerhost: String,
    /// Its port.
    pub peerport: u32,
    /// The EMQX node it reached.
    pub node: String,
    /// When it connected, in milliseconds since the Unix epoch.
    pub connected_at: i64,
    /// When it disconnected, if it did.
    pub disconnected_at: Option<i64>,
    /// EMQX's reason for the last disconnection (`normal`, `kicked`, …).
    pub reason: Option<String>,
}

/// A change, as posted to the webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[allow(missing_docs)] // the fields are the JSON keys, as `Entry`'s
pub enum Change {
    /// A client connected.
    Connected {
        clientid: String,
        username: String,
        peerhost: String,
        node: String,
        /// Milliseconds since the Unix epoch.
        timestamp: i64,
    },
    /// A connection ended.
    Disconnected {
        clientid: String,
        username: String,
        peerhost: String,
        node: String,
        timestamp: i64,
        /// EMQX's reason.
        reason: String,
        /// When the connection that ended began, if it was online.
        connected_at: Option<i64>,
        /// `false` when a newer connection of the same client id is still
        /// online (the old one was taken over or discarded).
        offline: bool,
    },
}

/// The table, shared by the handlers and the HTTP endpoint; every change
/// is also queued for the webhook.
#[derive(Clone, Default)]
pub struct Presence {
    clients: Arc<Mutex<BTreeMap<String, Entry>>>,
    webhook: Option<Webhook>,
}

impl Presence {
    /// An empty table whose changes go to `webhook`, if any.
    pub fn new(webhook: Option<Webhook>) -> Presence {
        Presence {
            clients: Arc::default(),
            webhook,
        }
    }

    /// Queues `change` for the webhook. Called with the table locked, so
    /// that changes are posted in the order they were made.
    fn publish(&self, change: Change) -> Change {
        if let Some(webhook) = &self.webhook {
            webhook.notify(&change);
        }
        change
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a connection made at `now`.
    pub fn connected(&self, client: &ClientInfo, now: i64) -> Change {
        let mut clients = self.lock();
        clients.insert(
            client.clientid.clone(),
            Entry {
                online: true,
                username: client.username.clone(),
                peerhost: client.peerhost.clone(),
                peerport: client.peerport,
                node: client.node.clone(),
                connected_at: now,
                disconnected_at: None,
                reason: None,
            },
        );
        self.publish(Change::Connected {
            clientid: client.clientid.clone(),
            username: client.username.clone(),
            peerhost: client.peerhost.clone(),
            node: client.node.clone(),
            timestamp: now,
        })
    }

    /// Records a disconnection at `now`. When the client id is online from
    /// another address (EMQX may report the old connection's end after a
    /// new one took the session over), the entry stays online.
    pub fn disconnected(&self, client: &ClientInfo, reason: &str, now: i64) -> Change {
        let mut clients = self.lock();
        let entry = clients.get_mut(&client.clientid);
        let same_connection = |e: &Entry| {
            e.peerhost == client.peerhost && e.peerport == client.peerport && e.node == client.node
        };
        let (connected_at, offline) = match entry {
            Some(entry) if entry.online && !same_connection(entry) => (None, false),
            Some(entry) => {
                let connected_at = entry.online.then_some(entry.connected_at);
                entry.online = false;
                entry.disconnected_at = Some(now);
                entry.reason = Some(reason.to_owned());
                (connected_at, true)
            }
            None => {
                clients.insert(
                    client.clientid.clone(),
                    Entry {
                        online: false,
                        username: client.username.clone(),
                        peerhost: client.peerhost.clone(),
                        peerport: client.peerport,
                        node: client.node.clone(),
                        connected_at: 0,
                        disconnected_at: Some(now),
                        reason: Some(reason.to_owned()),
                    },
                );
                (None, true)
            }
        };
        self.publish(Change::Disconnected {
            clientid: client.clientid.clone(),
            username: client.username.clone(),
            peerhost: client.peerhost.clone(),
            node: client.node.clone(),
            timestamp: now,
            reason: reason.to_owned(),
            connected_at,
            offline,
        })
    }

    /// One client's entry.
    pub fn get(&self, clientid: &str) -> Option<Entry> {
        self.lock().get(clientid).cloned()
    }

    /// Every client id seen, with its entry, ordered by client id.
    pub fn snapshot(&self) -> BTreeMap<String, Entry> {
        self.lock().clone()
    }

    /// How many clients are online.
    pub fn online(&self) -> usize {
        self.lock().values().filter(|e| e.online).count()
    }
}
