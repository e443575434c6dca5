//! The table: one row per hook point. Every other view of a hook (the
//! attributes, gRPC routing, span fields, topic extraction, what a handler
//! can take, the test kit's calls) is derived from it.

/// Calls `$callback!` with every row of the table.
///
/// A row's fields:
///
/// * `attribute`: the handler attribute, also the name of the hook's marker
///   type in `exhook_runtime::hooks`;
/// * `name`, `v1_name`: EMQX's hook name (EMQX 5, EMQX 4);
/// * `rpc`, `v1_rpc`: the rpc of `HookProvider` (`v2`/`v3`, `v1`);
/// * `request`, `v1_request`: the request message (neutral model, `v1`);
/// * `wire`: `Plain` when every version's request decodes as the neutral
///   type (v1's fields are a subset of v3's), `Converted` when the runtime
///   converts some versions' layouts (`exhook_runtime`'s `compat`);
/// * `answer`: `Notify` (`EmptySuccess`), `Decide` (a bool
///   `ValuedResponse`), `Publish` (a message `ValuedResponse`) or `Load`;
/// * `topic`: where topics matched by `topic = …` come from: `None`,
///   `Message` (`message.topic`, advertised to EMQX), `Field` (`topic`),
///   `Subscription` (`topic`, a subscription) or `Filters` (every
///   `topic_filters[].name`);
/// * `pieces`: the request's parts a handler can take (`field: Type`); the
///   first one also names the call's client;
/// * `doc`: one line.
#[macro_export]
#[doc(hidden)]
macro_rules! hook_table {
    ($callback:ident) => {
        $callback! {
            ProviderLoaded {
                attribute: on_provider_loaded,
                name: "provider.loaded", v1_name: "provider.loaded",
                rpc: "OnProviderLoaded", v1_rpc: "OnProviderLoaded",
                request: ProviderLoadedRequest, v1_request: ProviderLoadedRequest,
                wire: Converted, answer: Load, topic: None,
                pieces: [broker: BrokerInfo, meta: RequestMeta],
                doc: "An EMQX node loads the provider; the answer lists the hooks it wants.",
            }
            ProviderUnloaded {
                attribute: on_provider_unloaded,
                name: "provider.unloaded", v1_name: "provider.unloaded",
                rpc: "OnProviderUnloaded", v1_rpc: "OnProviderUnloaded",
                request: ProviderUnloadedRequest, v1_request: ProviderUnloadedRequest,
                wire: Plain, answer: Notify, topic: None,
                pieces: [meta: RequestMeta],
                doc: "An EMQX node unloads the provider.",
            }
            ClientConnect {
                attribute: on_client_connect,
                name: "client.connect", v1_name: "client.connect",
                rpc: "OnClientConnect", v1_rpc: "OnClientConnect",
                request: ClientConnectRequest, v1_request: ClientConnectRequest,
                wire: Plain, answer: Notify, topic: None,
                pieces: [conninfo: ConnInfo, meta: RequestMeta],
                doc: "A CONNECT packet arrived.",
            }
            ClientConnack {
                attribute: on_client_connack,
                name: "client.connack", v1_name: "client.connack",
                rpc: "OnClientConnack", v1_rpc: "OnClientConnack",
                request: ClientConnackRequest, v1_request: ClientConnackRequest,
                wire: Plain, answer: Notify, topic: None,
                pieces: [conninfo: ConnInfo, meta: RequestMeta],
                doc: "The broker answers CONNECT (`result_code`).",
            }
            ClientConnected {
                attribute: on_client_connected,
                name: "client.connected", v1_name: "client.connected",
                rpc: "OnClientConnected", v1_rpc: "OnClientConnected",
                request: ClientConnectedRequest, v1_request: ClientConnectedRequest,
                wire: Plain, answer: Notify, topic: None,
                pieces: [clientinfo: ClientInfo, meta: RequestMeta],
                doc: "The client is connected.",
            }
            ClientDisconnected {
                attribute: on_client_disconnected,
                name: "client.disconnected", v1_name: "client.disconnected",
                rpc: "OnClientDisconnected", v1_rpc: "OnClientDisconnected",
                request: ClientDisconnectedRequest, v1_request: ClientDisconnectedRequest,
                wire: Plain, answer: Notify, topic: None,
                pieces: [clientinfo: ClientInfo, meta: RequestMeta],
                doc: "The client disconnected (`reason`).",
            }
            ClientAuthenticate {
                attribute: on_client_authenticate,
                name: "client.authenticate", v1_name: "client.authenticate",
                rpc: "OnClientAuthenticate", v1_rpc: "OnClientAuthenticate",
                request: ClientAuthenticateRequest, v1_request: ClientAuthenticateRequest,
                wire: Plain, answer: Decide, topic: None,
                pieces: [clientinfo: ClientInfo, meta: RequestMeta],
                doc: "A login that EMQX's own authenticators left undecided; the `ClientInfo` carries the password.",
            }
            ClientAuthorize {
                attribute: on_client_authorize,
                name: "client.authorize", v1_name: "client.check_acl",
                rpc: "OnClientAuthorize", v1_rpc: "OnClientCheckAcl",
                request: ClientAuthorizeRequest, v1_request: ClientCheckAclRequest,
                wire: Plain, answer: Decide, topic: Field,
                pieces: [clientinfo: ClientInfo, meta: RequestMeta],
                doc: "May the client publish or subscribe to `topic`? `topic = …` matches the topic.",
            }
            ClientSubscribe {
                attribute: on_client_subscribe,
                name: "client.subscribe", v1_name: "client.subscribe",
                rpc: "OnClientSubscribe", v1_rpc: "OnClientSubscribe",
                request: ClientSubscribeRequest, v1_request: ClientSubscribeRequest,
                wire: Converted, answer: Notify, topic: Filters,
                pieces: [clientinfo: ClientInfo, meta: RequestMeta],
                doc: "A SUBSCRIBE packet arrived. `topic = …` matches each subscribed filter.",
            }
            ClientUnsubscribe {
                attribute: on_client_unsubscribe,
                name: "client.unsubscribe", v1_name: "client.unsubscribe",
                rpc: "OnClientUnsubscribe", v1_rpc: "OnClientUnsubscribe",
                request: ClientUnsubscribeRequest, v1_request: ClientUnsubscribeRequest,
                wire: Converted, answer: Notify, topic: Filters,
                pieces: [clientinfo: ClientInfo, meta: RequestMeta],
                doc: "An UNSUBSCRIBE packet arrived. `topic = …` matches each filter.",
            }
            SessionCreated {
                attribute: on_session_created,
                name: "session.created", v1_name: "session.created",
                rpc: "OnSessionCreated", v1_rpc: "OnSessionCreated",
                request: SessionCreatedRequest, v1_request: SessionCreatedRequest,
                wire: Plain, answer: Notify, topic: None,
                pieces: [clientinfo: ClientInfo, meta: RequestMeta],
                doc: "A session was created.",
            }
            SessionSubscribed {
                attribute: on_session_subscribed,
                name: "session.subscribed", v1_name: "session.subscribed",
                rpc: "OnSessionSubscribed", v1_rpc: "OnSessionSubscribed",
                request: SessionSubscribedRequest, v1_request: SessionSubscribedRequest,
                wire: Converted, answer: Notify, topic: Subscription,
                pieces: [clientinfo: ClientInfo, subopts: SubOpts, meta: RequestMeta],
                doc: "A subscription was added to the session. `topic = …` matches the subscribed filter.",
            }
            SessionUnsubscribed {
                attribute: on_session_unsubscribed,
                name: "session.unsubscribed", v1_name: "session.unsubscribed",
                rpc: "OnSessionUnsubscribed", v1_rpc: "OnSessionUnsubscribed",
                request: SessionUnsubscribedRequest, v1_request: SessionUnsubscribedRequest,
                wire: Plain, answer: Notify, topic: Subscription,
                pieces: [clientinfo: ClientInfo, meta: RequestMeta],
                doc: "A subscription was removed from the session. `topic = …` matches the filter.",
            }
            SessionResumed {
                attribute: on_session_resumed,
                name: "session.resumed", v1_name: "session.resumed",
                rpc: "OnSessionResumed", v1_rpc: "OnSessionResumed",
                request: SessionResumedRequest, v1_request: SessionResumedRequest,
                wire: Plain, answer: Notify, topic: None,
                pieces: [clientinfo: ClientInfo, meta: RequestMeta],
                doc: "A persistent session was resumed.",
            }
            SessionDiscarded {
                attribute: on_session_discarded,
                name: "session.discarded", v1_name: "session.discarded",
                rpc: "OnSessionDiscarded", v1_rpc: "OnSessionDiscarded",
                request: SessionDiscardedRequest, v1_request: SessionDiscardedRequest,
                wire: Plain, answer: Notify, topic: None,
                pieces: [clientinfo: ClientInfo, meta: RequestMeta],
                doc: "A session was discarded by a clean start.",
            }
            SessionTakenover {
                attribute: on_session_takenover,
                name: "session.takenover", v1_name: "session.takeovered",
                rpc: "OnSessionTakenover", v1_rpc: "OnSessionTakeovered",
                request: SessionTakenoverRequest, v1_request: SessionTakeoveredRequest,
                wire: Plain, answer: Notify, topic: None,
                pieces: [clientinfo: ClientInfo, meta: RequestMeta],
                doc: "A session was taken over by a new connection of the same client.",
            }
            SessionTerminated {
                attribute: on_session_terminated,
                name: "session.terminated", v1_name: "session.terminated",
                rpc: "OnSessionTerminated", v1_rpc: "OnSessionTerminated",
                request: SessionTerminatedRequest, v1_request: SessionTerminatedRequest,
                wire: Plain, answer: Notify, topic: None,
                pieces: [clientinfo: ClientInfo, meta: RequestMeta],
                doc: "A session ended (`reason`).",
            }
            MessagePublish {
                attribute: on_message_publish,
                name: "message.publish", v1_name: "message.publish",
                rpc: "OnMessagePublish", v1_rpc: "OnMessagePublish",
                request: MessagePublishRequest, v1_request: MessagePublishRequest,
                wire: Plain, answer: Publish, topic: Message,
                pieces: [message: Message, meta: RequestMeta],
                doc: "A message is published; the answer may change or drop it. `topic = …` is sent to EMQX and matched again locally.",
            }
            MessageDelivered {
                attribute: on_message_delivered,
                name: "message.delivered", v1_name: "message.delivered",
                rpc: "OnMessageDelivered", v1_rpc: "OnMessageDelivered",
                request: MessageDeliveredRequest, v1_request: MessageDeliveredRequest,
                wire: Plain, answer: Notify, topic: Message,
                pieces: [clientinfo: ClientInfo, message: Message, meta: RequestMeta],
                doc: "A message is delivered to a subscriber (the `ClientInfo`). `topic = …` is sent to EMQX.",
            }
            MessageDropped {
                attribute: on_message_dropped,
                name: "message.dropped", v1_name: "message.dropped",
                rpc: "OnMessageDropped", v1_rpc: "OnMessageDropped",
                request: MessageDroppedRequest, v1_request: MessageDroppedRequest,
                wire: Plain, answer: Notify, topic: Message,
                pieces: [message: Message, meta: RequestMeta],
                doc: "A message was dropped (`reason`). `topic = …` is sent to EMQX.",
            }
            MessageAcked {
                attribute: on_message_acked,
                name: "message.acked", v1_name: "message.acked",
                rpc: "OnMessageAcked", v1_rpc: "OnMessageAcked",
                request: MessageAckedRequest, v1_request: MessageAckedRequest,
                wire: Plain, answer: Notify, topic: Message,
                pieces: [clientinfo: ClientInfo, message: Message, meta: RequestMeta],
                doc: "A subscriber acknowledged a QoS 1 or 2 message. `topic = …` is sent to EMQX.",
            }
        }
    };
}
