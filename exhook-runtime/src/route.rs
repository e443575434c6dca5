//! Which handlers of a hook a call reaches, by topic.

use exhook_topic::FilterIndex;

use crate::handler::HandlerSpec;
use crate::hook::Hook;
use crate::hooks::HookRequest;

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
    pub(crate) fn hits_for<R: HookRequest>(&self, request: &R) -> Hits {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(hook: Hook, topics: &'static [&'static str]) -> HandlerSpec {
        HandlerSpec::new(hook, "h", "t::h", topics, &[])
    }

    fn reached(hits: &Hits, handlers: usize) -> Vec<usize> {
        (0..handlers)
            .filter(|index| hits.contains(*index))
            .collect()
    }

    #[test]
    fn unfiltered_hooks_reach_every_handler() {
        let specs = [
            spec(Hook::ClientConnected, &[]),
            spec(Hook::ClientConnected, &[]),
        ];
        let route = Route::new(Hook::ClientConnected, specs.iter());
        assert!(!route.is_filtered());
        assert_eq!(reached(&route.hits(["any/topic"]), 2), [0, 1]);
    }

    #[test]
    fn filters_pick_their_handlers_and_unfiltered_ones_always_run() {
        let specs = [
            spec(Hook::SessionSubscribed, &["a/#"]),
            spec(Hook::ClientConnected, &[]),
            spec(Hook::SessionSubscribed, &[]),
            spec(Hook::SessionSubscribed, &["b/+", "a/1"]),
        ];
        let route = Route::new(Hook::SessionSubscribed, specs.iter());
        assert!(route.is_filtered());
        assert_eq!(reached(&route.hits(["a/1"]), 4), [0, 2, 3]);
        assert_eq!(reached(&route.hits(["b/x"]), 4), [2, 3]);
        assert_eq!(reached(&route.hits(["c"]), 4), [2]);
        // Several topics (a subscribe's filters) reach the union.
        assert_eq!(reached(&route.hits(["a/2", "b/y"]), 4), [0, 2, 3]);
    }

    #[test]
    fn more_than_128_handlers_use_the_large_set() {
        let specs: Vec<HandlerSpec> = (0..200)
            .map(|i| {
                spec(
                    Hook::SessionSubscribed,
                    if i % 50 == 49 { &["x/#"] } else { &["y"] },
                )
            })
            .collect();
        let route = Route::new(Hook::SessionSubscribed, specs.iter());
        let hits = route.hits(["x/1"]);
        assert!(matches!(hits, Hits::Large(_)));
        assert_eq!(reached(&hits, 200), [49, 99, 149, 199]);
    }
}
