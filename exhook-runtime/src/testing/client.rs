//! Scripted MQTT clients: the hook calls EMQX makes for a connect,
//! subscribe, publish, unsubscribe and disconnect, in EMQX's order.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::event::*;
use crate::hook::Hook;
use crate::hooks::{HookPoint, HookRequest};
use crate::version::Version;

use super::broker::{Answer, FailedAction, TestBroker};
use super::link::Link;
use crate::proto::v3::ValuedResponse;

/// Whether a login was let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectOutcome {
    /// The client is connected.
    Allowed,
    /// The client was refused (`not_authorized`).
    Denied,
}

impl ConnectOutcome {
    /// Whether the client got in.
    pub fn is_allowed(self) -> bool {
        self == ConnectOutcome::Allowed
    }
}

/// Whether a subscribe or publish was authorized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Authorized (and, for a subscribe, done).
    Allowed,
    /// Refused by authorization.
    Denied,
}

/// What became of a publish.
#[derive(Debug, Clone, PartialEq)]
pub enum PublishOutcome {
    /// Authorization refused the publish.
    Denied,
    /// A provider dropped it (`allow_publish = "false"`); the message is as
    /// the providers left it.
    Dropped(Message),
    /// Routed: the message as EMQX would route it, and the client ids it was
    /// delivered to (none: EMQX dropped it for `no_subscribers`).
    Published {
        /// The message after every provider's rewrite.
        message: Message,
        /// Subscribers that received it, in subscription order.
        delivered_to: Vec<String>,
    },
}

impl PublishOutcome {
    /// The routed message, if it was routed.
    pub fn message(&self) -> Option<&Message> {
        match self {
            PublishOutcome::Published { message, .. } => Some(message),
            _ => None,
        }
    }
}

/// A subscription the broker routes to.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    clientinfo: ClientInfo,
    filter: String,
    qos: u32,
}

/// One MQTT client of a [`TestBroker`]. Defaults: user name = client id,
/// no password, MQTT 5 from `127.0.0.1` on port 1883.
pub struct TestClient<'b> {
    broker: &'b TestBroker,
    clientid: String,
    username: String,
    password: String,
    proto_ver: u32,
    props: Vec<Property>,
    user_props: Vec<Property>,
}

/// Calls a notification hook on every provider that asked for it, in order;
/// an error is only logged, as EMQX does.
async fn cast<R: HookRequest>(broker: &TestBroker, topic: Option<&str>, request: R) {
    let hook = <R::Hook as HookPoint>::HOOK;
    if topic.is_some_and(|t| hook.is_message_hook() && t.starts_with("$SYS/")) {
        return;
    }
    let providers = broker.providers.read().await;
    for (index, provider) in providers.iter().enumerate() {
        let Some(hooks) = &provider.hooks else {
            continue;
        };
        if !TestBroker::wants(hooks, hook, topic) {
            continue;
        }
        broker.record(index, hook);
        if let Err(status) = provider
            .link
            .call(request.clone(), broker.request_timeout)
            .await
        {
            broker.failed(index, hook, &status);
        }
    }
}

impl<'b> TestClient<'b> {
    pub(crate) fn new(broker: &'b TestBroker, clientid: String) -> Self {
        TestClient {
            broker,
            username: clientid.clone(),
            clientid,
            password: String::new(),
            proto_ver: 5,
            props: Vec::new(),
            user_props: Vec::new(),
        }
    }

    /// The user name (the client id unless set).
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = username.into();
        self
    }

    /// The password, which EMQX passes to `client.authenticate` in clear.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = password.into();
        self
    }

    /// The MQTT protocol version: 3, 4 (3.1.1) or 5.
    pub fn proto_ver(mut self, version: u32) -> Self {
        self.proto_ver = version;
        self
    }

    /// An MQTT 5 property sent with each packet, such as
    /// `("Session-Expiry-Interval", "100")`.
    pub fn property(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.props.push(Property {
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// An MQTT 5 User-Property sent with each packet.
    pub fn user_property(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.user_props.push(Property {
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// `ClientInfo` as EMQX fills it for this client.
    pub fn clientinfo(&self) -> ClientInfo {
        ClientInfo {
            node: self.broker.meta.node.clone(),
            clientid: self.clientid.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            peerhost: "127.0.0.1".to_owned(),
            sockport: 1883,
            protocol: "mqtt".to_owned(),
            mountpoint: String::new(),
            is_superuser: false,
            anonymous: self.username.is_empty(),
            cn: String::new(),
            dn: String::new(),
            peerport: 54_321,
        }
    }

    /// `ConnInfo` as EMQX fills it for this client.
    pub fn conninfo(&self) -> ConnInfo {
        ConnInfo {
            node: self.broker.meta.node.clone(),
            clientid: self.clientid.clone(),
            username: self.username.clone(),
            peerhost: "127.0.0.1".to_owned(),
            sockport: 1883,
            proto_name: "MQTT".to_owned(),
            proto_ver: self.proto_ver.to_string(),
            keepalive: 60,
            peerport: 54_321,
        }
    }

    /// A message from this client, as EMQX builds it for the hooks.
    pub fn message(&self, topic: &str, payload: impl Into<bytes::Bytes>, qos: u32) -> Message {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Message {
            node: self.broker.meta.node.clone(),
            id: format!("{:032X}", now.as_nanos()),
            qos,
            from: self.clientid.clone(),
            topic: topic.to_owned(),
            payload: payload.into(),
            timestamp: u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
            headers: [
                ("username", self.username.as_str()),
                ("protocol", "mqtt"),
                ("peerhost", "127.0.0.1"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        }
    }

    fn meta(&self) -> Option<RequestMeta> {
        Some(self.broker.meta.clone())
    }

    /// MQTT 5 properties as the protocol version carries them: v3 sends
    /// User-Property pairs apart; before, EMQX put them in `props` as one
    /// entry.
    fn properties(&self) -> (Vec<Property>, Vec<Property>) {
        if self.proto_ver != 5 {
            return (Vec::new(), Vec::new());
        }
        if self.broker.version == Version::V3 || self.user_props.is_empty() {
            return (self.props.clone(), self.user_props.clone());
        }
        let pairs: Vec<String> = self
            .user_props
            .iter()
            .map(|p| format!("{{<<\"{}\">>,<<\"{}\">>}}", p.name, p.value))
            .collect();
        let mut props = self.props.clone();
        props.push(Property {
            name: "User-Property".to_owned(),
            value: format!("[{}]", pairs.join(",")),
        });
        (props, Vec::new())
    }

    /// CONNECT: `client.connect`, `client.authenticate`, then on success
    /// `session.created`, `client.connected`, `client.connack`.
    pub async fn connect(&self) -> ConnectOutcome {
        let (props, user_props) = self.properties();
        let request = ClientConnectRequest {
            conninfo: Some(self.conninfo()),
            props: props.clone(),
            meta: self.meta(),
            user_props: user_props.clone(),
        };
        cast(self.broker, None, request.clone()).await;
        let allowed = self.authenticate().await;
        if allowed {
            let session = SessionCreatedRequest {
                clientinfo: Some(self.clientinfo()),
                meta: self.meta(),
            };
            cast(self.broker, None, session.clone()).await;
            let connected = ClientConnectedRequest {
                clientinfo: Some(self.clientinfo()),
                meta: self.meta(),
            };
            cast(self.broker, None, connected.clone()).await;
        }
        self.connack(allowed).await;
        if allowed {
            ConnectOutcome::Allowed
        } else {
            ConnectOutcome::Denied
        }
    }

    /// CONNECT again with the same client id while the old connection's
    /// session exists. With `clean_start` the old session is discarded
    /// (`session.discarded`) and a new one created; without it the new
    /// connection takes it over (`session.takenover`, then
    /// `session.resumed` instead of `session.created`).
    pub async fn reconnect(&self, clean_start: bool) -> ConnectOutcome {
        let (props, user_props) = self.properties();
        let request = ClientConnectRequest {
            conninfo: Some(self.conninfo()),
            props,
            meta: self.meta(),
            user_props,
        };
        cast(self.broker, None, request.clone()).await;
        if !self.authenticate().await {
            self.connack(false).await;
            return ConnectOutcome::Denied;
        }
        let info = Some(self.clientinfo());
        if clean_start {
            let discarded = SessionDiscardedRequest {
                clientinfo: info.clone(),
                meta: self.meta(),
            };
            cast(self.broker, None, discarded.clone()).await;
            let created = SessionCreatedRequest {
                clientinfo: info.clone(),
                meta: self.meta(),
            };
            cast(self.broker, None, created.clone()).await;
        } else {
            let taken = SessionTakenoverRequest {
                clientinfo: info.clone(),
                meta: self.meta(),
            };
            cast(self.broker, None, taken.clone()).await;
            let resumed = SessionResumedRequest {
                clientinfo: info.clone(),
                meta: self.meta(),
            };
            cast(self.broker, None, resumed.clone()).await;
        }
        let connected = ClientConnectedRequest {
            clientinfo: info,
            meta: self.meta(),
        };
        cast(self.broker, None, connected.clone()).await;
        self.connack(true).await;
        ConnectOutcome::Allowed
    }

    async fn connack(&self, allowed: bool) {
        let connack = ClientConnackRequest {
            conninfo: Some(self.conninfo()),
            result_code: if allowed { "success" } else { "not_authorized" }.to_owned(),
            props: Vec::new(),
            meta: self.meta(),
            user_props: Vec::new(),
        };
        cast(self.broker, None, connack.clone()).await;
    }

    /// `client.authenticate` folded over the providers.
    async fn authenticate(&self) -> bool {
        let initial = self.broker.authn_result;
        self.fold_bool(
            Hook::ClientAuthenticate,
            initial,
            async |link: &Link, result, timeout| {
                let request = ClientAuthenticateRequest {
                    clientinfo: Some(self.clientinfo()),
                    result,
                    meta: self.meta(),
                };
                link.call(request, timeout).await
            },
        )
        .await
    }

    /// `client.authorize` folded over the providers.
    async fn authorize(&self, action: AuthorizeAction, topic: &str) -> bool {
        let initial = self.broker.authz_result;
        self.fold_bool(
            Hook::ClientAuthorize,
            initial,
            async |link: &Link, result, timeout| {
                let request = ClientAuthorizeRequest {
                    clientinfo: Some(self.clientinfo()),
                    r#type: action as i32,
                    topic: topic.to_owned(),
                    result,
                    meta: self.meta(),
                };
                link.call(request, timeout).await
            },
        )
        .await
    }

    /// A valued hook with a `bool` folded over the providers in order, as
    /// EMQX does: `IGNORE` keeps the result, `CONTINUE` replaces it,
    /// `STOP_AND_RETURN` ends the fold, a failure applies `failed_action`.
    async fn fold_bool(
        &self,
        hook: Hook,
        initial: bool,
        call: impl AsyncFn(&Link, bool, std::time::Duration) -> Result<ValuedResponse, tonic::Status>,
    ) -> bool {
        let broker = self.broker;
        let mut result = initial;
        let providers = broker.providers.read().await;
        for (index, provider) in providers.iter().enumerate() {
            let Some(hooks) = &provider.hooks else {
                continue;
            };
            if !TestBroker::wants(hooks, hook, None) {
                continue;
            }
            broker.record(index, hook);
            match call(&provider.link, result, broker.request_timeout).await {
                Ok(answer) => match broker.bool_answer(index, hook, answer) {
                    Answer::Ignore | Answer::Unusable => {}
                    Answer::Continue(value) => result = value,
                    Answer::Stop(value) => return value,
                },
                Err(status) => {
                    broker.failed(index, hook, &status);
                    if provider.failed_action == FailedAction::Deny {
                        return false;
                    }
                }
            }
        }
        result
    }

    /// SUBSCRIBE to one filter: `client.authorize` (subscribe, with the real
    /// topic), then `client.subscribe` and `session.subscribed`.
    pub async fn subscribe(&self, filter: &str, qos: u32) -> Access {
        let real = exhook_topic::subscription_topic(filter);
        if !self.authorize(AuthorizeAction::Subscribe, real).await {
            return Access::Denied;
        }
        let subopts = SubOpts {
            qos,
            rh: 0,
            rap: 0,
            nl: 0,
        };
        let (props, user_props) = self.properties();
        let request = ClientSubscribeRequest {
            clientinfo: Some(self.clientinfo()),
            props,
            topic_filters: vec![SubscriptionFilter {
                name: filter.to_owned(),
                subopts: Some(subopts),
            }],
            meta: self.meta(),
            user_props,
        };
        cast(self.broker, None, request.clone()).await;
        let subscribed = SessionSubscribedRequest {
            clientinfo: Some(self.clientinfo()),
            topic: filter.to_owned(),
            subopts: Some(subopts),
            meta: self.meta(),
        };
        cast(self.broker, None, subscribed.clone()).await;
        if let Ok(mut subscriptions) = self.broker.subscriptions.lock() {
            subscriptions.retain(|s| !(s.clientinfo.clientid == self.clientid && s.filter == real));
            subscriptions.push(Subscription {
                clientinfo: self.clientinfo(),
                filter: real.to_owned(),
                qos,
            });
        }
        Access::Allowed
    }

    /// UNSUBSCRIBE: `client.unsubscribe`, then `session.unsubscribed`.
    pub async fn unsubscribe(&self, filter: &str) {
        let (props, user_props) = self.properties();
        let request = ClientUnsubscribeRequest {
            clientinfo: Some(self.clientinfo()),
            props,
            topic_filters: vec![SubscriptionFilter {
                name: filter.to_owned(),
                subopts: Some(SubOpts::default()),
            }],
            meta: self.meta(),
            user_props,
        };
        cast(self.broker, None, request.clone()).await;
        let unsubscribed = SessionUnsubscribedRequest {
            clientinfo: Some(self.clientinfo()),
            topic: filter.to_owned(),
            meta: self.meta(),
        };
        cast(self.broker, None, unsubscribed.clone()).await;
        let real = exhook_topic::subscription_topic(filter);
        if let Ok(mut subscriptions) = self.broker.subscriptions.lock() {
            subscriptions.retain(|s| !(s.clientinfo.clientid == self.clientid && s.filter == real));
        }
    }

    /// PUBLISH at QoS 0; see [`publish_qos`](Self::publish_qos).
    pub async fn publish(&self, topic: &str, payload: impl Into<bytes::Bytes>) -> PublishOutcome {
        self.publish_qos(topic, payload, 0).await
    }

    /// PUBLISH: `client.authorize` (publish), `message.publish` folded over
    /// the providers, then `message.delivered` for each subscriber (and
    /// `message.acked` at QoS 1 and 2), or `message.dropped` when nobody
    /// subscribed. `$SYS/…` messages reach no `message.*` hook.
    pub async fn publish_qos(
        &self,
        topic: &str,
        payload: impl Into<bytes::Bytes>,
        qos: u32,
    ) -> PublishOutcome {
        if !self.authorize(AuthorizeAction::Publish, topic).await {
            return PublishOutcome::Denied;
        }
        let message = self.publish_hook(self.message(topic, payload, qos)).await;
        if message
            .headers
            .get("allow_publish")
            .is_some_and(|v| v == "false")
        {
            return PublishOutcome::Dropped(message);
        }
        let receivers: Vec<Subscription> = self
            .broker
            .subscriptions
            .lock()
            .map(|subscriptions| {
                subscriptions
                    .iter()
                    .filter(|s| exhook_topic::matches(&s.filter, &message.topic))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if receivers.is_empty() {
            let request = MessageDroppedRequest {
                message: Some(message.clone()),
                reason: "no_subscribers".to_owned(),
                meta: self.meta(),
            };
            cast(self.broker, Some(&message.topic), request.clone()).await;
        }
        let mut delivered_to = Vec::new();
        for receiver in receivers {
            let delivered = Message {
                qos: message.qos.min(receiver.qos),
                ..message.clone()
            };
            let request = MessageDeliveredRequest {
                clientinfo: Some(receiver.clientinfo.clone()),
                message: Some(delivered.clone()),
                meta: self.meta(),
            };
            cast(self.broker, Some(&delivered.topic), request.clone()).await;
            if delivered.qos > 0 {
                let request = MessageAckedRequest {
                    clientinfo: Some(receiver.clientinfo.clone()),
                    message: Some(delivered.clone()),
                    meta: self.meta(),
                };
                cast(self.broker, Some(&delivered.topic), request.clone()).await;
            }
            delivered_to.push(receiver.clientinfo.clientid.clone());
        }
        PublishOutcome::Published {
            message,
            delivered_to,
        }
    }

    /// `message.publish` folded over the providers as EMQX folds it: a
    /// provider that answers with a message hands that message, as it is,
    /// to the next provider (which is matched on its topic); the routed
    /// message is the received one with `qos`, `topic`, `payload` and
    /// `allow_publish` taken from the last answer.
    async fn publish_hook(&self, mut message: Message) -> Message {
        if message.topic.starts_with("$SYS/") {
            return message;
        }
        let broker = self.broker;
        // Only v3 carries the PUBLISH packet's properties.
        let (props, user_props) = match broker.version {
            Version::V3 => self.properties(),
            _ => (Vec::new(), Vec::new()),
        };
        let providers = broker.providers.read().await;
        // What the next provider is sent: the last answer's message.
        let mut passed = message.clone();
        let mut answered = false;
        for (index, provider) in providers.iter().enumerate() {
            let Some(hooks) = &provider.hooks else {
                continue;
            };
            if !TestBroker::wants(hooks, Hook::MessagePublish, Some(&passed.topic)) {
                continue;
            }
            broker.record(index, Hook::MessagePublish);
            let request = MessagePublishRequest {
                message: Some(passed.clone()),
                meta: self.meta(),
                props: props.clone(),
                user_props: user_props.clone(),
            };
            match provider.link.call(request, broker.request_timeout).await {
                Ok(answer) => match broker.message_answer(index, answer) {
                    Answer::Ignore | Answer::Unusable => {}
                    Answer::Continue(message) => {
                        passed = message;
                        answered = true;
                    }
                    Answer::Stop(message) => {
                        passed = message;
                        answered = true;
                        break;
                    }
                },
                Err(status) => {
                    broker.failed(index, Hook::MessagePublish, &status);
                    if provider.failed_action == FailedAction::Deny {
                        break;
                    }
                }
            }
        }
        if answered {
            assign(&mut message, passed);
        }
        message
    }

    /// DISCONNECT: `client.disconnected`, then `session.terminated`.
    pub async fn disconnect(&self) {
        let request = ClientDisconnectedRequest {
            clientinfo: Some(self.clientinfo()),
            reason: "normal".to_owned(),
            meta: self.meta(),
        };
        cast(self.broker, None, request.clone()).await;
        let terminated = SessionTerminatedRequest {
            clientinfo: Some(self.clientinfo()),
            reason: "normal".to_owned(),
            meta: self.meta(),
        };
        cast(self.broker, None, terminated.clone()).await;
        if let Ok(mut subscriptions) = self.broker.subscriptions.lock() {
            subscriptions.retain(|s| s.clientinfo.clientid != self.clientid);
        }
    }
}

/// What EMQX takes from an answered message (`assign_to_message/2`):
/// `qos`, `topic`, `payload`, and the `allow_publish` header.
fn assign(message: &mut Message, answered: Message) {
    message.qos = answered.qos;
    message.topic = answered.topic;
    message.payload = answered.payload;
    if let Some(allow) = answered.headers.get("allow_publish") {
        message
            .headers
            .insert("allow_publish".to_owned(), allow.clone());
    }
}
