//! The hook points EMQX can call, from one table.

use std::fmt;

use crate::version::Version;

/// Calls `$m!` with one row per hook point:
/// `Variant, attribute, request type, EMQX name, EMQX 4.x name, kind, topic source`.
macro_rules! hook_table {
    ($m:ident) => {
        $m! {
            ProviderLoaded, on_provider_loaded, ProviderLoadedRequest, "provider.loaded", "provider.loaded", Loaded, None;
            ProviderUnloaded, on_provider_unloaded, ProviderUnloadedRequest, "provider.unloaded", "provider.unloaded", Notify, None;
            ClientConnect, on_client_connect, ClientConnectRequest, "client.connect", "client.connect", Notify, None;
            ClientConnack, on_client_connack, ClientConnackRequest, "client.connack", "client.connack", Notify, None;
            ClientConnected, on_client_connected, ClientConnectedRequest, "client.connected", "client.connected", Notify, None;
            ClientDisconnected, on_client_disconnected, ClientDisconnectedRequest, "client.disconnected", "client.disconnected", Notify, None;
            ClientAuthenticate, on_client_authenticate, ClientAuthenticateRequest, "client.authenticate", "client.authenticate", Auth, None;
            ClientAuthorize, on_client_authorize, ClientAuthorizeRequest, "client.authorize", "client.check_acl", Auth, AuthorizeTopic;
            ClientSubscribe, on_client_subscribe, ClientSubscribeRequest, "client.subscribe", "client.subscribe", Notify, SubscriptionFilters;
            ClientUnsubscribe, on_client_unsubscribe, ClientUnsubscribeRequest, "client.unsubscribe", "client.unsubscribe", Notify, SubscriptionFilters;
            SessionCreated, on_session_created, SessionCreatedRequest, "session.created", "session.created", Notify, None;
            SessionSubscribed, on_session_subscribed, SessionSubscribedRequest, "session.subscribed", "session.subscribed", Notify, SessionTopic;
            SessionUnsubscribed, on_session_unsubscribed, SessionUnsubscribedRequest, "session.unsubscribed", "session.unsubscribed", Notify, SessionTopic;
            SessionResumed, on_session_resumed, SessionResumedRequest, "session.resumed", "session.resumed", Notify, None;
            SessionDiscarded, on_session_discarded, SessionDiscardedRequest, "session.discarded", "session.discarded", Notify, None;
            SessionTakenover, on_session_takenover, SessionTakenoverRequest, "session.takenover", "session.takeovered", Notify, None;
            SessionTerminated, on_session_terminated, SessionTerminatedRequest, "session.terminated", "session.terminated", Notify, None;
            MessagePublish, on_message_publish, MessagePublishRequest, "message.publish", "message.publish", Publish, MessageTopic;
            MessageDelivered, on_message_delivered, MessageDeliveredRequest, "message.delivered", "message.delivered", Notify, MessageTopic;
            MessageDropped, on_message_dropped, MessageDroppedRequest, "message.dropped", "message.dropped", Notify, MessageTopic;
            MessageAcked, on_message_acked, MessageAckedRequest, "message.acked", "message.acked", Notify, MessageTopic;
        }
    };
}
pub(crate) use hook_table;

/// Where a hook's topic comes from, for handlers with `topic = …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopicSource {
    /// The hook carries no topic.
    None,
    /// `message.topic`; EMQX filters these hooks itself with the advertised topics.
    MessageTopic,
    /// `ClientAuthorizeRequest.topic`.
    AuthorizeTopic,
    /// `topic` of `session.(un)subscribed`, prefixes stripped.
    SessionTopic,
    /// Every `topic_filters[].name`, prefixes stripped.
    SubscriptionFilters,
}

macro_rules! define_hook {
    ($($variant:ident, $attr:ident, $req:ident, $name:literal, $v1_name:literal, $kind:ident, $topic:ident;)*) => {
        /// A hook point of EMQX's ExHook, plus the provider's own load and unload.
        ///
        /// ```
        /// use exhook_runtime::{Hook, Version};
        ///
        /// assert_eq!(Hook::ClientAuthorize.name(Version::V3), "client.authorize");
        /// assert_eq!(Hook::ClientAuthorize.name(Version::V1), "client.check_acl");
        /// assert!(Hook::MessagePublish.is_message_hook());
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Hook {
            $(
                #[doc = concat!("`", $name, "`, handled by `#[", stringify!($attr), "]`.")]
                $variant,
            )*
        }

        impl Hook {
            /// Every hook, in the order of EMQX's service definition.
            pub const ALL: [Hook; 21] = [$(Hook::$variant),*];

            /// The hook point's name as the given protocol version spells it
            /// (`client.check_acl` and `session.takeovered` in v1).
            pub const fn name(self, version: Version) -> &'static str {
                match (self, version) {
                    $((Hook::$variant, Version::V1) => $v1_name,)*
                    $((Hook::$variant, _) => $name,)*
                }
            }

            /// The attribute that handles this hook, such as `on_client_connect`.
            pub const fn attribute(self) -> &'static str {
                match self {
                    $(Hook::$variant => stringify!($attr),)*
                }
            }


            pub(crate) const fn topic_source(self) -> TopicSource {
                match self {
                    $(Hook::$variant => TopicSource::$topic,)*
                }
            }
        }
    };
}
hook_table!(define_hook);

impl Hook {
    /// The 19 hook points a provider can advertise to EMQX in `OnProviderLoaded`.
    pub fn advertisable() -> impl Iterator<Item = Hook> {
        Hook::ALL.into_iter().filter(|hook| hook.is_advertisable())
    }

    /// Whether EMQX can be asked to call this hook (every hook but the
    /// provider's own load and unload).
    pub const fn is_advertisable(self) -> bool {
        !matches!(self, Hook::ProviderLoaded | Hook::ProviderUnloaded)
    }

    /// Whether this is one of the four `message.*` hooks, whose topic filters
    /// EMQX applies before calling.
    pub const fn is_message_hook(self) -> bool {
        matches!(self.topic_source(), TopicSource::MessageTopic)
    }

    /// Whether this is one of the eight `client.*` hooks.
    pub const fn is_client_hook(self) -> bool {
        (self as u8) >= (Hook::ClientConnect as u8)
            && (self as u8) <= (Hook::ClientUnsubscribe as u8)
    }

    /// Whether this is one of the seven `session.*` hooks.
    pub const fn is_session_hook(self) -> bool {
        (self as u8) >= (Hook::SessionCreated as u8)
            && (self as u8) <= (Hook::SessionTerminated as u8)
    }

    /// Whether handlers of this hook may take `topic = …`.
    pub const fn takes_topics(self) -> bool {
        !matches!(self.topic_source(), TopicSource::None)
    }

    /// The hook advertised under `name` in any protocol version.
    pub fn from_name(name: &str) -> Option<Hook> {
        Hook::ALL
            .into_iter()
            .find(|hook| hook.name(Version::V3) == name || hook.name(Version::V1) == name)
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name(Version::V3))
    }
}

/// A set of hooks, used to narrow what `OnProviderLoaded` advertises.
///
/// ```
/// use exhook_runtime::{Hook, HookSet};
///
/// let client_only: HookSet = Hook::advertisable().filter(|h| h.is_client_hook()).collect();
/// assert_eq!(client_only.len(), 8);
/// assert!(client_only.contains(Hook::ClientAuthenticate));
/// assert!(!client_only.contains(Hook::MessagePublish));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct HookSet(u32);

impl HookSet {
    /// No hook.
    pub const EMPTY: HookSet = HookSet(0);
    /// Every hook.
    pub const ALL: HookSet = HookSet((1 << 21) - 1);

    /// Whether `hook` is in the set.
    pub const fn contains(self, hook: Hook) -> bool {
        self.0 & (1 << hook as u8) != 0
    }

    /// Adds `hook`.
    pub fn insert(&mut self, hook: Hook) {
        self.0 |= 1 << hook as u8;
    }

    /// Removes `hook`.
    pub fn remove(&mut self, hook: Hook) {
        self.0 &= !(1 << hook as u8);
    }

    /// The hooks in both sets.
    pub const fn intersection(self, other: HookSet) -> HookSet {
        HookSet(self.0 & other.0)
    }

    /// How many hooks are in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The hooks in the set, in [`Hook::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Hook> {
        Hook::ALL
            .into_iter()
            .filter(move |hook| self.contains(*hook))
    }
}

impl FromIterator<Hook> for HookSet {
    fn from_iter<I: IntoIterator<Item = Hook>>(iter: I) -> Self {
        let mut set = HookSet::EMPTY;
        iter.into_iter().for_each(|hook| set.insert(hook));
        set
    }
}

impl fmt::Debug for HookSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}
