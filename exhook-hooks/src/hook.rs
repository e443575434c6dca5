//! [`Hook`] and its row of the table.

use std::fmt;

use crate::version::Version;

/// The kind of answer a hook gives EMQX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    /// A notification, answered with `EmptySuccess`.
    Notify,
    /// A `ValuedResponse` carrying a bool: authenticate and authorize.
    Decide,
    /// A `ValuedResponse` carrying the message: publish.
    Publish,
    /// The `LoadedResponse` of `OnProviderLoaded`.
    Load,
}

/// Where the topics that `topic = …` filters match come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopicSource {
    /// The hook carries no topic.
    None,
    /// `message.topic`; EMQX filters these hooks itself with the advertised
    /// filters, and the runtime matches them again per handler.
    Message,
    /// The request's `topic` (authorize).
    Field,
    /// The request's `topic`, a subscription: `$share/<group>/`, `$queue/`
    /// and `$exclusive/` are removed before matching.
    Subscription,
    /// Every `topic_filters[].name`, subscriptions as above.
    Filters,
}

/// How the request travels in each protocol generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireLayout {
    /// The neutral request type decodes every generation (v1's fields are
    /// a subset of v3's, and v2's are v3's).
    Plain,
    /// Some generations lay the request out differently; the runtime
    /// converts them.
    Converted,
}

/// One row of the table: everything known about a hook point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookRow {
    /// The hook.
    pub hook: Hook,
    /// The handler attribute: `on_` and the name, `_` for `.`.
    pub attribute: &'static str,
    /// EMQX 5's name, such as `client.connected`.
    pub name: &'static str,
    /// EMQX 4's name (the same but for two hooks).
    pub v1_name: &'static str,
    /// The rpc in `emqx.exhook.v2` and `v3`: `On` and the name in camel case.
    pub rpc: &'static str,
    /// The rpc in `emqx.exhook.v1` (the same but for two hooks).
    pub v1_rpc: &'static str,
    /// The request message in the neutral model (v3's name).
    pub request: &'static str,
    /// The request message in `emqx.exhook.v1`.
    pub v1_request: &'static str,
    /// How the request travels in each generation.
    pub wire: WireLayout,
    /// The kind of answer.
    pub answer: Answer,
    /// Where topics come from.
    pub topic: TopicSource,
    /// The request's parts a handler can take, as type names.
    pub pieces: &'static [&'static str],
    /// One line about the hook.
    pub doc: &'static str,
}

macro_rules! define_hooks {
    ($(
        $variant:ident {
            attribute: $attribute:ident,
            name: $name:literal, v1_name: $v1_name:literal,
            rpc: $rpc:literal, v1_rpc: $v1_rpc:literal,
            request: $request:ident, v1_request: $v1_request:ident,
            wire: $wire:ident, answer: $answer:ident, topic: $topic:ident,
            pieces: [$($field:ident: $piece:ident),*],
            doc: $doc:literal,
        }
    )*) => {
        /// A hook point of EMQX's ExHook, plus the provider's own load and
        /// unload.
        ///
        /// ```
        /// use exhook_hooks::{Hook, Version};
        ///
        /// let hook = Hook::from_name("client.connected").unwrap();
        /// assert_eq!(hook.attribute(), "on_client_connected");
        /// assert_eq!(hook.rpc(Version::V3), "OnClientConnected");
        /// assert!(hook.is_client_hook() && !hook.takes_topics());
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Hook {
            $(
                #[doc = concat!("`", $name, "`, handled by `#[", stringify!($attribute), "]`: ", $doc)]
                $variant,
            )*
        }

        impl Hook {
            /// Every hook, in the order of EMQX's service definition.
            pub const ALL: [Hook; Hook::COUNT] = [$(Hook::$variant),*];

            /// Everything the table says about this hook.
            pub const fn row(self) -> &'static HookRow {
                match self {
                    $(Hook::$variant => &HookRow {
                        hook: Hook::$variant,
                        attribute: stringify!($attribute),
                        name: $name,
                        v1_name: $v1_name,
                        rpc: $rpc,
                        v1_rpc: $v1_rpc,
                        request: stringify!($request),
                        v1_request: stringify!($v1_request),
                        wire: WireLayout::$wire,
                        answer: Answer::$answer,
                        topic: TopicSource::$topic,
                        pieces: &[$(stringify!($piece)),*],
                        doc: $doc,
                    },)*
                }
            }

            /// The hook that `rpc` carries in `version`.
            pub fn from_rpc(version: Version, rpc: &str) -> Option<Hook> {
                match version {
                    Version::V1 => match rpc {
                        $($v1_rpc => Some(Hook::$variant),)*
                        _ => None,
                    },
                    Version::V2 | Version::V3 => match rpc {
                        $($rpc => Some(Hook::$variant),)*
                        _ => None,
                    },
                }
            }
        }
    };
}
crate::hook_table!(define_hooks);

impl Hook {
    /// How many hook points there are.
    pub const COUNT: usize = 21;

    /// The hook's position in [`Hook::ALL`], for tables indexed by hook.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The hook point's name as the given protocol version spells it (v1
    /// spells two hooks differently).
    pub const fn name(self, version: Version) -> &'static str {
        match version {
            Version::V1 => self.row().v1_name,
            Version::V2 | Version::V3 => self.row().name,
        }
    }

    /// The rpc of `HookProvider` that carries this hook in `version`.
    pub const fn rpc(self, version: Version) -> &'static str {
        match version {
            Version::V1 => self.row().v1_rpc,
            Version::V2 | Version::V3 => self.row().rpc,
        }
    }

    /// The attribute that handles this hook, such as `on_client_connect`.
    pub const fn attribute(self) -> &'static str {
        self.row().attribute
    }

    /// The kind of answer the hook gives.
    pub const fn answer(self) -> Answer {
        self.row().answer
    }

    /// Where the hook's topics come from.
    pub const fn topic_source(self) -> TopicSource {
        self.row().topic
    }

    /// The 19 hook points a provider can advertise to EMQX in `OnProviderLoaded`.
    pub fn advertisable() -> impl Iterator<Item = Hook> {
        Hook::ALL.into_iter().filter(|hook| hook.is_advertisable())
    }

    /// Whether EMQX can be asked to call this hook (every hook but the
    /// provider's own load and unload).
    pub const fn is_advertisable(self) -> bool {
        !starts_with(self.row().name, "provider.")
    }

    /// Whether this is one of the four `message.*` hooks, whose topic filters
    /// EMQX applies before calling.
    pub const fn is_message_hook(self) -> bool {
        matches!(self.topic_source(), TopicSource::Message)
    }

    /// Whether this is one of the eight `client.*` hooks.
    pub const fn is_client_hook(self) -> bool {
        starts_with(self.row().name, "client.")
    }

    /// Whether this is one of the seven `session.*` hooks.
    pub const fn is_session_hook(self) -> bool {
        starts_with(self.row().name, "session.")
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

    /// The hook handled by `attribute`, such as `on_client_connect`.
    pub fn from_attribute(attribute: &str) -> Option<Hook> {
        Hook::ALL
            .into_iter()
            .find(|hook| hook.attribute() == attribute)
    }
}

const fn starts_with(text: &str, prefix: &str) -> bool {
    let (text, prefix) = (text.as_bytes(), prefix.as_bytes());
    if text.len() < prefix.len() {
        return false;
    }
    let mut i = 0;
    while i < prefix.len() {
        if text[i] != prefix[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name(Version::V3))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_and_positions_agree() {
        assert_eq!(Hook::ALL.len(), Hook::COUNT);
        for (position, hook) in Hook::ALL.into_iter().enumerate() {
            assert_eq!(hook.index(), position, "{hook}");
            assert_eq!(hook.row().hook, hook);
        }
    }

    #[test]
    fn names_rpcs_and_attributes_are_unique_and_found_again() {
        for hook in Hook::ALL {
            for version in Version::ALL {
                assert_eq!(Hook::from_rpc(version, hook.rpc(version)), Some(hook));
                assert_eq!(Hook::from_name(hook.name(version)), Some(hook));
            }
            assert_eq!(Hook::from_attribute(hook.attribute()), Some(hook));
        }
    }

    #[test]
    fn spellings_follow_one_pattern_except_v1s_two_renames() {
        for hook in Hook::ALL {
            let row = hook.row();
            // `client.connected` -> `on_client_connected`, `OnClientConnected`,
            // `ClientConnectedRequest`.
            assert_eq!(row.attribute, format!("on_{}", row.name.replace('.', "_")));
            let camel: String = row
                .name
                .split(['.', '_'])
                .map(|word| word[..1].to_uppercase() + &word[1..])
                .collect();
            assert_eq!(row.rpc, format!("On{camel}"));
            assert_eq!(row.request, format!("{camel}Request"));
            assert_eq!(row.v1_request, format!("{}Request", &row.v1_rpc[2..]));
            let renamed = row.v1_name != row.name;
            assert_eq!(renamed, row.v1_rpc != row.rpc, "{hook}");
        }
        let renamed = Hook::ALL
            .into_iter()
            .filter(|hook| hook.row().v1_name != hook.row().name);
        assert_eq!(renamed.count(), 2);
    }

    #[test]
    fn groups_are_read_from_names() {
        let count = |f: fn(Hook) -> bool| Hook::ALL.into_iter().filter(|h| f(*h)).count();
        assert_eq!(count(Hook::is_client_hook), 8);
        assert_eq!(count(Hook::is_session_hook), 7);
        assert_eq!(count(Hook::is_message_hook), 4);
        assert_eq!(Hook::advertisable().count(), 19);
        assert_eq!(count(Hook::takes_topics), 9);
    }
}
