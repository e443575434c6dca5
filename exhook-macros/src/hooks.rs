//! The hook attributes, from one table.

/// One hook attribute.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HookDef {
    /// The attribute, such as `on_message_publish`.
    pub(crate) attribute: &'static str,
    /// The runtime's `Hook` variant, argument trait and aliases.
    pub(crate) variant: &'static str,
    /// Whether `topic = …` is allowed.
    pub(crate) takes_topics: bool,
    /// Whether EMQX filters the hook by topic itself (`message.*`).
    pub(crate) message_hook: bool,
}

/// Calls `$m!` with `attribute => Variant, topics, message_hook, "what it returns"` rows.
macro_rules! hook_defs {
    ($m:ident) => {
        $m! {
            on_provider_loaded => ProviderLoaded, false, false,
                "Runs when an EMQX node loads the provider. Takes `&BrokerInfo`, `&RequestMeta`; returns `()` or `Advertise` (or a `Result` of either) to narrow the advertised hooks.";
            on_provider_unloaded => ProviderUnloaded, false, false,
                "Runs when an EMQX node unloads the provider. Takes `&RequestMeta`; returns `()` or `Result<(), E>`.";
            on_client_connect => ClientConnect, false, false,
                "`client.connect`: a CONNECT packet arrived. Takes `&ConnInfo`, `&ClientConnectRequest` (props); returns `()` or `Result<(), E>`.";
            on_client_connack => ClientConnack, false, false,
                "`client.connack`: the broker answers CONNECT. Takes `&ConnInfo`, `&ClientConnackRequest` (result code); returns `()` or `Result<(), E>`.";
            on_client_connected => ClientConnected, false, false,
                "`client.connected`: the client is connected. Takes `&ClientInfo`; returns `()` or `Result<(), E>`.";
            on_client_disconnected => ClientDisconnected, false, false,
                "`client.disconnected`. Takes `&ClientInfo`, `&ClientDisconnectedRequest` (reason); returns `()` or `Result<(), E>`.";
            on_client_authenticate => ClientAuthenticate, false, false,
                "`client.authenticate`. Takes `&ClientInfo` (with the password), `ChainResult`; returns `Decision` or `Result<Decision, E>`.";
            on_client_authorize => ClientAuthorize, true, false,
                "`client.authorize` (`client.check_acl` on EMQX 4). Takes `&ClientInfo`, `AuthorizeAction`, `&ClientAuthorizeRequest` (topic), `ChainResult`; returns `Decision` or `Result<Decision, E>`. `topic = …` matches the topic.";
            on_client_subscribe => ClientSubscribe, true, false,
                "`client.subscribe`. Takes `&ClientInfo`, `&ClientSubscribeRequest` (filters); returns `()` or `Result<(), E>`. `topic = …` matches each subscribed filter.";
            on_client_unsubscribe => ClientUnsubscribe, true, false,
                "`client.unsubscribe`. Takes `&ClientInfo`, `&ClientUnsubscribeRequest`; returns `()` or `Result<(), E>`. `topic = …` matches each filter.";
            on_session_created => SessionCreated, false, false,
                "`session.created`. Takes `&ClientInfo`; returns `()` or `Result<(), E>`.";
            on_session_subscribed => SessionSubscribed, true, false,
                "`session.subscribed`. Takes `&ClientInfo`, `&SubOpts`, `&SessionSubscribedRequest` (topic); returns `()` or `Result<(), E>`. `topic = …` matches the subscribed filter.";
            on_session_unsubscribed => SessionUnsubscribed, true, false,
                "`session.unsubscribed`. Takes `&ClientInfo`, `&SessionUnsubscribedRequest`; returns `()` or `Result<(), E>`. `topic = …` matches the filter.";
            on_session_resumed => SessionResumed, false, false,
                "`session.resumed`. Takes `&ClientInfo`; returns `()` or `Result<(), E>`.";
            on_session_discarded => SessionDiscarded, false, false,
                "`session.discarded`. Takes `&ClientInfo`; returns `()` or `Result<(), E>`.";
            on_session_takenover => SessionTakenover, false, false,
                "`session.takenover` (`session.takeovered` on EMQX 4). Takes `&ClientInfo`; returns `()` or `Result<(), E>`.";
            on_session_terminated => SessionTerminated, false, false,
                "`session.terminated`. Takes `&ClientInfo`, `&SessionTerminatedRequest` (reason); returns `()` or `Result<(), E>`.";
            on_message_publish => MessagePublish, true, true,
                "`message.publish`. Takes `&Message` or `Message` (the message so far); returns `Publish` or `Result<Publish, E>`. `topic = …` is sent to EMQX and matched again locally.";
            on_message_delivered => MessageDelivered, true, true,
                "`message.delivered`. Takes `&ClientInfo` (the subscriber), `&Message`; returns `()` or `Result<(), E>`. `topic = …` is sent to EMQX.";
            on_message_dropped => MessageDropped, true, true,
                "`message.dropped`. Takes `&Message`, `&MessageDroppedRequest` (reason); returns `()` or `Result<(), E>`. `topic = …` is sent to EMQX.";
            on_message_acked => MessageAcked, true, true,
                "`message.acked`. Takes `&ClientInfo`, `&Message`; returns `()` or `Result<(), E>`. `topic = …` is sent to EMQX.";
        }
    };
}
pub(crate) use hook_defs;

macro_rules! hook_def_consts {
    ($($attr:ident => $variant:ident, $topics:literal, $message:literal, $doc:literal;)*) => {
        /// Every hook attribute.
        pub(crate) const HOOKS: &[HookDef] = &[$(HookDef {
            attribute: stringify!($attr),
            variant: stringify!($variant),
            takes_topics: $topics,
            message_hook: $message,
        }),*];
    };
}
hook_defs!(hook_def_consts);

/// The definition of `attribute`.
pub(crate) fn hook(attribute: &str) -> HookDef {
    HOOKS
        .iter()
        .copied()
        .find(|hook| hook.attribute == attribute)
        .unwrap_or(HOOKS[0])
}
