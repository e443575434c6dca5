//! What a running server shares between calls: the handlers, their topic
//! routes, the state and the supervision settings.

use std::sync::Arc;

use crate::event::Message;
use crate::extract::{Call, ChainValue};
use crate::handler::{Erased, HandlerEntry, HandlerTable};
use crate::hook::Hook;
use crate::hooks::HookPoint;
use crate::middleware::{self, LayerEntry, Next};
use crate::provider::LoadedHooks;
use crate::route::Route;
use crate::state::StateMap;
use crate::supervise::Supervision;
use crate::version::Version;

/// Everything a running server shares between calls.
pub struct Dispatcher {
    handlers: HandlerTable,
    /// By provider position: the handler takes the publish message by value
    /// and nothing else of it.
    moves_message: Vec<bool>,
    /// By hook: which handlers a call's topics reach.
    routes: Vec<Route>,
    state: StateMap,
    hooks: LoadedHooks,
    /// Deadlines, limits and metrics around each call.
    pub(crate) supervision: Supervision,
    /// Publish answers carry only what EMQX reads (see
    /// `Server::compact_publish_answers`).
    compact_publish_answers: bool,
    /// By hook: the layers around its handlers, if any.
    layers: Vec<Option<Next>>,
}

impl Dispatcher {
    pub(crate) fn new(
        entries: &[HandlerEntry],
        hooks: LoadedHooks,
        state: StateMap,
        supervision: Supervision,
        compact_publish_answers: bool,
        layers: &[LayerEntry],
    ) -> Arc<Self> {
        let routes = Hook::ALL
            .iter()
            .map(|hook| Route::new(*hook, entries.iter().map(|entry| entry.spec())))
            .collect();
        Arc::new_cyclic(|dispatcher| Dispatcher {
            handlers: HandlerTable::of(entries),
            moves_message: entries
                .iter()
                .map(|entry| entry.spec().moves_message())
                .collect(),
            routes,
            state,
            hooks,
            supervision,
            compact_publish_answers,
            layers: middleware::stacks(layers, dispatcher),
        })
    }

    /// The layers around `hook`'s handlers, if any wrap it.
    pub(crate) fn layers(&self, hook: Hook) -> Option<&Next> {
        self.layers[hook.index()].as_ref()
    }

    /// `H`'s handlers, in registration order, with their positions in the
    /// provider's list.
    pub(crate) fn handlers<H: HookPoint>(&self) -> &[(usize, Erased<H>)] {
        self.handlers.of_hook::<H>()
    }

    /// Which of `hook`'s handlers a call's topics reach.
    pub(crate) fn route(&self, hook: Hook) -> &Route {
        &self.routes[hook.index()]
    }

    pub(crate) fn call<'a, H: HookPoint>(
        &'a self,
        request: &'a H::Request,
        version: Version,
        value: ChainValue<'a>,
    ) -> Call<'a, H> {
        Call {
            request,
            state: &self.state,
            version,
            value,
            owned: None,
        }
    }

    /// Whether a publish call reaching only the handler at `index` can
    /// move the message to it.
    pub(crate) fn moves_message(&self, index: usize) -> bool {
        self.moves_message[index]
    }

    pub(crate) fn loaded_hooks(&self) -> &LoadedHooks {
        &self.hooks
    }

    /// The message a publish answer carries: as the handlers left it, or
    /// only what EMQX reads of it when answers are compact.
    pub(crate) fn answered(&self, message: Message) -> Message {
        if self.compact_publish_answers {
            what_emqx_reads(message)
        } else {
            message
        }
    }
}

/// The part of an answered message that EMQX reads (`assign_to_message/2`
/// and `enrich_header/2`): `qos`, `topic`, `payload` and the
/// `allow_publish` header.
pub(crate) fn what_emqx_reads(mut message: Message) -> Message {
    let mut headers = std::collections::BTreeMap::new();
    if let Some((name, allow)) = message.headers.remove_entry("allow_publish") {
        headers.insert(name, allow);
    }
    Message {
        qos: message.qos,
        topic: std::mem::take(&mut message.topic),
        payload: std::mem::take(&mut message.payload),
        headers,
        ..Message::default()
    }
}
