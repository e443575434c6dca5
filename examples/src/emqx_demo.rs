//! The rules of the provider EMQX's own ExHook test suite runs against
//! (`emqx_exhook_demo_svr`), rebuilt on exhook: the handlers of
//! `cargo run --example emqx_demo`.
//!
//! * `OnProviderLoaded` advertises all 19 hooks, or only the 8 `client.*`
//!   hooks when the loading cluster is named `test_emqx_cluster`.
//! * Authenticate and authorize by username: `baduser` is denied, `gooduser`
//!   allowed (both stop the chain), `normaluser` continues with `true`,
//!   anyone else is ignored.
//! * Publish by sender (`message.from`): `baduser`'s messages are dropped
//!   (qos 0, empty topic and payload, `allow_publish = "false"`); `gooduser`'s
//!   are rewritten to topic and payload `gooduser` with `allow_publish =
//!   "true"`; other messages are ignored.
//! * Every other hook answers success.

use exhook_runtime::prelude::*;
use tracing::debug;

#[on_provider_loaded]
pub async fn loaded(meta: &RequestMeta) -> Advertise {
    if meta.cluster_name == "test_emqx_cluster" {
        Advertise::Only(
            Hook::advertisable()
                .filter(|h| h.is_client_hook())
                .collect(),
        )
    } else {
        Advertise::All
    }
}

#[on_provider_unloaded]
pub async fn unloaded(meta: &RequestMeta) {
    debug!(node = %meta.node, "provider unloaded");
}

fn decide(username: &str) -> Decision {
    match username {
        "baduser" => Decision::Deny,
        "gooduser" => Decision::Allow,
        "normaluser" => Decision::Continue(true),
        _ => Decision::Ignore,
    }
}

#[on_client_authenticate]
pub async fn authenticate(client: &ClientInfo) -> Decision {
    debug!(clientid = %client.clientid, "client.authenticate");
    decide(&client.username)
}

#[on_client_authorize]
pub async fn authorize(client: &ClientInfo, action: AuthorizeAction) -> Decision {
    debug!(clientid = %client.clientid, ?action, "client.authorize");
    decide(&client.username)
}

#[on_message_publish]
pub async fn publish(mut msg: Message) -> Publish {
    debug!(from = %msg.from, topic = %msg.topic, "message.publish");
    match msg.from.as_str() {
        "baduser" => {
            msg.qos = 0;
            msg.topic.clear();
            msg.payload.clear();
            msg.headers.insert("allow_publish".into(), "false".into());
            Publish::Stop(msg)
        }
        "gooduser" => {
            msg.topic = "gooduser".into();
            msg.payload = "gooduser".into();
            msg.headers.insert("allow_publish".into(), "true".into());
            Publish::Stop(msg)
        }
        _ => Publish::Ignore,
    }
}

#[on_client_connect]
pub async fn connect(request: &ClientConnectRequest) {
    debug!(?request, "client.connect");
}

#[on_client_connack]
pub async fn connack(request: &ClientConnackRequest) {
    debug!(?request, "client.connack");
}

#[on_client_connected]
pub async fn connected(client: &ClientInfo) {
    debug!(clientid = %client.clientid, "client.connected");
}

#[on_client_disconnected]
pub async fn disconnected(request: &ClientDisconnectedRequest) {
    debug!(reason = %request.reason, "client.disconnected");
}

#[on_client_subscribe]
pub async fn subscribe(request: &ClientSubscribeRequest) {
    debug!(filters = ?request.topic_filters, "client.subscribe");
}

#[on_client_unsubscribe]
pub async fn unsubscribe(request: &ClientUnsubscribeRequest) {
    debug!(filters = ?request.topic_filters, "client.unsubscribe");
}

#[on_session_created]
pub async fn session_created(client: &ClientInfo) {
    debug!(clientid = %client.clientid, "session.created");
}

#[on_session_subscribed]
pub async fn session_subscribed(request: &SessionSubscribedRequest) {
    debug!(topic = %request.topic, "session.subscribed");
}

#[on_session_unsubscribed]
pub async fn session_unsubscribed(request: &SessionUnsubscribedRequest) {
    debug!(topic = %request.topic, "session.unsubscribed");
}

#[on_session_resumed]
pub async fn session_resumed(client: &ClientInfo) {
    debug!(clientid = %client.clientid, "session.resumed");
}

#[on_session_discarded]
pub async fn session_discarded(client: &ClientInfo) {
    debug!(clientid = %client.clientid, "session.discarded");
}

#[on_session_takenover]
pub async fn session_takenover(client: &ClientInfo) {
    debug!(clientid = %client.clientid, "session.takenover");
}

#[on_session_terminated]
pub async fn session_terminated(request: &SessionTerminatedRequest) {
    debug!(reason = %request.reason, "session.terminated");
}

#[on_message_delivered]
pub async fn delivered(client: &ClientInfo, msg: &Message) {
    debug!(to = %client.clientid, topic = %msg.topic, "message.delivered");
}

#[on_message_dropped]
pub async fn dropped(request: &MessageDroppedRequest) {
    debug!(reason = %request.reason, "message.dropped");
}

#[on_message_acked]
pub async fn acked(client: &ClientInfo, msg: &Message) {
    debug!(by = %client.clientid, id = %msg.id, "message.acked");
}

/// Every handler of the demo, in the order they run.
pub fn provider() -> Provider {
    provider![
        loaded,
        unloaded,
        connect,
        connack,
        connected,
        disconnected,
        authenticate,
        authorize,
        subscribe,
        unsubscribe,
        session_created,
        session_subscribed,
        session_unsubscribed,
        session_resumed,
        session_discarded,
        session_takenover,
        session_terminated,
        publish,
        delivered,
        dropped,
        acked,
    ]
}
