//! Which handlers of a hook a call reaches, by topic.

use exhook_topic::{FilterIndex, subscription_topic};

use crate::event::*;
use crate::handler::HandlerSpec;
use crate::hook::Hook;

/// The handlers (by position in the provider) that a call reaches.
#[derive(Debug, Clone)]
pub(crate) enum Hits {
    /// No handler of the hook has topic filters.
    All,
    /// Up to 128 handlers.
    Small(u128),
    /// More.
    Large(Box<[u64]>),
}

impl Hits {
    #[inline]
    pub(crate) fn contains(&self, index: usize) -> bool {
        match self {
            Hits::All => true,
            Hits::Small(bits) => index < 128 && bits & (1 << index) != 0,
            Hits::Large(words) => words
                .get(index / 64)
                .is_some_and(|word| word & (1 << (index % 64)) != 0),
        }
    }

    fn insert(&mut self, index: usize) {
        match self {
            Hits::All => {}
            Hits::Small(bits) => *bits |= 1 << index,
            Hits::Large(words) => words[index / 64] |= 1 << (index % 64),
        }
    }
}

/// One hook's topic routing, built once when the server starts.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    /// Handlers of this hook without filters; `None` when no handler of the
    /// hook has filters, so every call reaches them all.
    unfiltered: Option<Hits>,
    index: FilterIndex,
}

impl Route {
    pub(crate) fn new<'s>(hook: Hook, handlers: impl Iterator<Item = &'s HandlerSpec>) -> Self {
        let handlers: Vec<&HandlerSpec> = handlers.collect();
        let empty = if handlers.len() <= 128 {
            Hits::Small(0)
        } else {
            Hits::Large(vec![0; handlers.len().div_ceil(64)].into_boxed_slice())
        };
        let mut unfiltered = empty;
        let mut index = FilterIndex::new();
        for (position, spec) in handlers.iter().enumerate() {
            if spec.hook() != hook {
                continue;
            }
            if spec.topics().is_empty() {
                unfiltered.insert(position);
            }
            for topic in spec.topics() {
                index.insert(topic, position);
            }
        }
        Route {
            unfiltered: (!index.is_empty()).then_some(unfiltered),
            index,
        }
    }

    /// Whether some handler of the hook has topic filters.
    pub(crate) fn is_filtered(&self) -> bool {
        self.unfiltered.is_some()
    }

    /// The handlers reached by a call with these topics.
    pub(crate) fn hits<'t>(&self, topics: impl IntoIterator<Item = &'t str>) -> Hits {
        let Some(unfiltered) = &self.unfiltered else {
            return Hits::All;
        };
        let mut hits = unfiltered.clone();
        for topic in topics {
            self.index
                .for_each_match(topic, |position| hits.insert(position));
        }
        hits
    }

    /// The handlers reached by `request`.
    pub(crate) fn hits_for<R: Topics>(&self, request: &R) -> Hits {
        let Some(unfiltered) = &self.unfiltered else {
            return Hits::All;
        };
        let mut hits = unfiltered.clone();
        request.topics(&mut |topic| {
            self.index
                .for_each_match(topic, |position| hits.insert(position));
        });
        hits
    }
}

/// The topics of a request that handler filters are matched against.
pub(crate) trait Topics {
    fn topics<'r>(&'r self, each: &mut dyn FnMut(&'r str));
}

macro_rules! no_topics {
    ($($req:ty),*) => {$(
        impl Topics for $req {
            fn topics<'r>(&'r self, _: &mut dyn FnMut(&'r str)) {}
        }
    )*};
}
no_topics!(
    ProviderLoadedRequest,
    ProviderUnloadedRequest,
    ClientConnectRequest,
    ClientConnackRequest,
    ClientConnectedRequest,
    ClientDisconnectedRequest,
    ClientAuthenticateRequest,
    SessionCreatedRequest,
    SessionResumedRequest,
    SessionDiscardedRequest,
    SessionTakenoverRequest,
    SessionTerminatedRequest
);

macro_rules! message_topic {
    ($($req:ty),*) => {$(
        impl Topics for $req {
            fn topics<'r>(&'r self, each: &mut dyn FnMut(&'r str)) {
                each(&or_empty(&self.message).topic);
            }
        }
    )*};
}
message_topic!(
    MessagePublishRequest,
    MessageDeliveredRequest,
    MessageDroppedRequest,
    MessageAckedRequest
);

impl Topics for ClientAuthorizeRequest {
    fn topics<'r>(&'r self, each: &mut dyn FnMut(&'r str)) {
        each(&self.topic);
    }
}

macro_rules! session_topic {
    ($($req:ty),*) => {$(
        impl Topics for $req {
            fn topics<'r>(&'r self, each: &mut dyn FnMut(&'r str)) {
                each(subscription_topic(&self.topic));
            }
        }
    )*};
}
session_topic!(SessionSubscribedRequest, SessionUnsubscribedRequest);

macro_rules! subscription_filters {
    ($($req:ty),*) => {$(
        impl Topics for $req {
            fn topics<'r>(&'r self, each: &mut dyn FnMut(&'r str)) {
                for filter in &self.topic_filters {
                    each(subscription_topic(&filter.name));
                }
            }
        }
    )*};
}
subscription_filters!(ClientSubscribeRequest, ClientUnsubscribeRequest);
