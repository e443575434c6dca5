//! The MQTT connection to the other broker: a bounded buffer in front of
//! one client that reconnects by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use exhook_runtime::Message;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS};
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    pub credentials: Option<(String, String)>,
    /// Prepended to every forwarded topic (`""` for none).
    pub prefix: String,
    /// Messages that may wait for the connection.
    pub buffer: usize,
}

/// The handlers' end, shared through `State`.
#[derive(Clone)]
pub struct Bridge {
    client: AsyncClient,
    prefix: Arc<str>,
    dropped: Arc<AtomicU64>,
}

impl Bridge {
    /// Queues `msg` for the other broker with its topic (prefixed), payload
    /// and QoS. Never waits: when the buffer is full (the other broker has
    /// been unreachable for a while), the message is dropped and counted.
    /// Whether it was queued.
    pub fn forward(&self, msg: &Message) -> bool {
        let qos = match msg.qos {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            _ => QoS::ExactlyOnce,
        };
        let topic = format!("{}{}", self.prefix, msg.topic);
        match self
            .client
            .try_publish(topic, qos, false, msg.payload.to_vec())
        {
            Ok(()) => true,
            Err(_) => {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // One line per power of two keeps an outage from flooding the log.
                if dropped.is_power_of_two() {
                    warn!("buffer full: {dropped} messages dropped so far");
                }
                false
            }
        }
    }

    /// Messages dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The connection task's end.
pub struct Connection {
    client: AsyncClient,
    task: JoinHandle<()>,
}

impl Connection {
    /// Sends what is buffered, disconnects, and waits up to `grace` for it.
    pub async fn close(self, grace: Duration) {
        let _ = self.client.disconnect().await;
        if tokio::time::timeout(grace, self.task).await.is_err() {
            warn!("the other broker did not take every buffered message within {grace:?}");
        }
    }
}

/// Starts the connection; messages given to the [`Bridge`] are sent once it
/// is up, and again after every reconnection.
pub fn connect(target: &Target) -> (Bridge, Connection) {
    let mut options = MqttOptions::new(&target.client_id, &target.host, target.port);
    options.set_keep_alive(Duration::from_secs(30));
    // A persistent session: after a reconnection the broker says the session
    // is still there, and the client sends again what was not acknowledged
    // (with a clean session it would discard it).
    options.set_clean_session(false);
    if let Some((username, password)) = &target.credentials {
        options.set_credentials(username, password);
    }
    let (client, events) = AsyncClient::new(options, target.buffer.max(1));
    let task = tokio::spawn(drive(events, format!("{}:{}", target.host, target.port)));
    let bridge = Bridge {
        client: client.clone(),
        prefix: target.prefix.as_str().into(),
        dropped: Arc::default(),
    };
    (bridge, Connection { client, task })
}

/// Runs the connection until it is closed, reconnecting with a growing
/// pause (0.1 s up to 5 s) while the other broker is unreachable.
async fn drive(mut events: EventLoop, address: String) {
    let mut pause = Duration::from_millis(100);
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                info!("connected to {address}");
                pause = Duration::from_millis(100);
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
            Ok(_) => {}
            Err(error) => {
                warn!("connection to {address}: {error}; retrying in {pause:?}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}
