//! A provider: the handlers a server runs, fixed at compile time.

use std::fmt;

use crate::handler::{HandlerEntry, HandlerSpec};
use crate::hook::{Hook, HookSet};
use crate::version::Version;

/// The set of handlers one server runs, built with
/// [`provider!`](crate::provider). Handlers of the same hook run in the order
/// they are listed.
///
/// ```
/// use exhook_runtime::prelude::*;
///
/// #[on_client_connected]
/// async fn hello(client: &ClientInfo) {
///     println!("{} connected", client.clientid);
/// }
///
/// #[on_message_publish(topic = ["sensors/#", "alarms/+"])]
/// async fn check(msg: &Message) -> Publish {
///     Publish::Ignore
/// }
///
/// let provider = provider![hello, check];
/// let hooks = provider.hooks();
/// assert_eq!(hooks.len(), 2);
/// assert_eq!(hooks.topics(Hook::MessagePublish), Some(vec!["sensors/#", "alarms/+"]));
/// ```
#[derive(Clone, Copy)]
pub struct Provider {
    entries: &'static [HandlerEntry],
}

impl Provider {
    pub(crate) const fn new(entries: &'static [HandlerEntry]) -> Self {
        Provider { entries }
    }

    /// The hooks this provider advertises when EMQX loads it, with their
    /// topic filters. A `const fn`: `const HOOKS: LoadedHooks =
    /// provider![a, b].hooks();` makes the list a constant.
    pub const fn hooks(&self) -> LoadedHooks {
        LoadedHooks {
            entries: self.entries,
        }
    }

    /// Every handler, in registration order.
    pub fn handlers(&self) -> impl Iterator<Item = &'static HandlerSpec> {
        self.entries.iter().map(HandlerEntry::spec)
    }

    pub(crate) fn entries(&self) -> &'static [HandlerEntry] {
        self.entries
    }

    /// The same provider with the handler at `path` filtering on `topics`
    /// instead of its attribute's filters; `None` when no listed handler
    /// has that path.
    ///
    /// The new list lives as long as the process: a server is configured
    /// once, and `'static` lists keep the per-call path free of reference
    /// counting.
    pub(crate) fn with_topics(&self, path: &str, topics: Vec<String>) -> Option<Provider> {
        let position = self
            .entries
            .iter()
            .position(|entry| entry.spec.path() == path)?;
        let topics: Vec<&'static str> = topics
            .into_iter()
            .map(|topic| &*Box::leak(topic.into_boxed_str()))
            .collect();
        let mut entries = self.entries.to_vec();
        entries[position].spec = entries[position]
            .spec
            .with_topics(Box::leak(topics.into_boxed_slice()));
        Some(Provider {
            entries: Box::leak(entries.into_boxed_slice()),
        })
    }
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("hooks", &self.hooks())
            .finish()
    }
}

/// The hooks a provider advertises in `OnProviderLoaded`: one entry per hook
/// point that has handlers, with the topic filters of the `message.*` hooks
/// merged across their handlers.
#[derive(Clone, Copy)]
pub struct LoadedHooks {
    entries: &'static [HandlerEntry],
}

impl LoadedHooks {
    fn handlers(&self) -> impl Iterator<Item = &'static HandlerSpec> {
        self.entries.iter().map(HandlerEntry::spec)
    }

    /// The advertised hook points, in EMQX's order (`OnProviderLoaded` and
    /// `OnProviderUnloaded` handlers are not advertised: they are always called).
    pub fn set(&self) -> HookSet {
        self.handlers()
            .map(HandlerSpec::hook)
            .filter(|hook| hook.is_advertisable())
            .collect()
    }

    /// How many hook points are advertised.
    pub fn len(&self) -> usize {
        self.set().len()
    }

    /// Whether nothing is advertised.
    pub fn is_empty(&self) -> bool {
        self.set().is_empty()
    }

    /// Whether `hook` is advertised.
    pub fn contains(&self, hook: Hook) -> bool {
        self.set().contains(hook)
    }

    /// The topic filters sent with `hook`: `None` when the hook is not
    /// advertised, an empty list when EMQX should send every topic (always
    /// so for hooks other than `message.*`, and when any handler of the hook
    /// has no filter), else the handlers' filters without repeats.
    pub fn topics(&self, hook: Hook) -> Option<Vec<&'static str>> {
        if !self.contains(hook) {
            return None;
        }
        if !hook.is_message_hook() {
            return Some(Vec::new());
        }
        let mut topics = Vec::new();
        for spec in self.handlers().filter(|spec| spec.hook() == hook) {
            if spec.topics().is_empty() {
                return Some(Vec::new());
            }
            for topic in spec.topics() {
                if !topics.contains(topic) {
                    topics.push(*topic);
                }
            }
        }
        Some(topics)
    }

    /// The `HookSpec` list for one protocol version, narrowed to `only`.
    pub(crate) fn specs(&self, version: Version, only: HookSet) -> Vec<crate::proto::v3::HookSpec> {
        self.set()
            .intersection(only)
            .iter()
            .map(|hook| crate::proto::v3::HookSpec {
                name: hook.name(version).to_owned(),
                topics: self
                    .topics(hook)
                    .unwrap_or_default()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            })
            .collect()
    }

    /// `name [topics]` for each hook, for the load log line.
    pub(crate) fn describe(&self, version: Version, only: HookSet) -> String {
        let mut out = Vec::new();
        for hook in self.set().intersection(only).iter() {
            let topics = self.topics(hook).unwrap_or_default();
            if topics.is_empty() {
                out.push(hook.name(version).to_owned());
            } else {
                out.push(format!("{} {:?}", hook.name(version), topics));
            }
        }
        out.join(", ")
    }
}

impl fmt::Debug for LoadedHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.set()
                    .iter()
                    .map(|hook| (hook, self.topics(hook).unwrap_or_default())),
            )
            .finish()
    }
}
