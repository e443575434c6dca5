//! The `Handler` trait the hook attributes implement, and the list of
//! handlers a provider runs, in registration order.

use std::future::Future;
use std::pin::Pin;

use tonic::Status;

use crate::event::*;
use crate::extract::Call;
use crate::hook::{Hook, hook_table};
use crate::outcome::{Advertise, Decision, Publish};
use crate::route::{Hits, Route};
use crate::state::StateType;

/// What a hook attribute records about its handler, known at compile time.
#[derive(Debug, Clone, Copy)]
pub struct HandlerSpec {
    hook: Hook,
    name: &'static str,
    path: &'static str,
    topics: &'static [&'static str],
    args: &'static [fn() -> ArgFacts],
}

/// What the runtime needs to know about one handler argument, found at
/// compile time (see `__private::Probe`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct ArgFacts {
    pub(crate) state: Option<StateType>,
    pub(crate) message: MessageUse,
}

impl ArgFacts {
    pub(crate) const fn state(state: StateType) -> Self {
        ArgFacts {
            state: Some(state),
            message: MessageUse::None,
        }
    }

    pub(crate) const fn message(message: MessageUse) -> Self {
        ArgFacts {
            state: None,
            message,
        }
    }
}

/// How an argument uses a publish call's message.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MessageUse {
    #[default]
    None,
    /// `Message` by value: it can be moved to the handler.
    Owned,
    /// `&Message` or the request: it must stay where it is.
    Borrowed,
}

impl HandlerSpec {
    #[doc(hidden)]
    pub const fn __new(
        hook: Hook,
        name: &'static str,
        path: &'static str,
        topics: &'static [&'static str],
        args: &'static [fn() -> ArgFacts],
    ) -> Self {
        HandlerSpec {
            hook,
            name,
            path,
            topics,
            args,
        }
    }

    /// The hook the handler is attached to.
    pub const fn hook(&self) -> Hook {
        self.hook
    }

    /// The handler function's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The handler's full path, such as `my_app::auth::check`.
    pub const fn path(&self) -> &'static str {
        self.path
    }

    /// The handler's topic filters; empty when it takes every topic.
    pub const fn topics(&self) -> &'static [&'static str] {
        self.topics
    }

    pub(crate) const fn with_topics(self, topics: &'static [&'static str]) -> Self {
        HandlerSpec { topics, ..self }
    }

    pub(crate) fn state_types(&self) -> impl Iterator<Item = StateType> + '_ {
        self.args.iter().filter_map(|facts| facts().state)
    }

    /// Whether the handler takes the publish message by value and in no
    /// other way, so that a call can move the message to it.
    pub(crate) fn owns_message(&self) -> bool {
        let uses: Vec<MessageUse> = self.args.iter().map(|facts| facts().message).collect();
        uses.iter().filter(|u| **u == MessageUse::Owned).count() == 1
            && !uses.contains(&MessageUse::Borrowed)
    }
}

/// One entry of a provider's handler list: what the attribute recorded,
/// and how to put the handler into the server's per-hook tables.
#[derive(Debug, Clone, Copy)]
pub struct HandlerEntry {
    pub(crate) spec: HandlerSpec,
    pub(crate) register: fn(&mut Table, usize),
}

impl HandlerEntry {
    #[doc(hidden)]
    pub const fn __new(spec: HandlerSpec, register: fn(&mut Table, usize)) -> Self {
        HandlerEntry { spec, register }
    }

    /// What the attribute recorded.
    pub const fn spec(&self) -> &HandlerSpec {
        &self.spec
    }

    /// Stops compilation (as a constant-evaluation error) when a list names
    /// the same handler twice under different paths.
    pub(crate) const fn assert_unique(entries: &[HandlerEntry]) {
        let mut i = 0;
        while i < entries.len() {
            let mut j = i + 1;
            while j < entries.len() {
                if same_str(entries[i].spec.path, entries[j].spec.path) {
                    panic!(
                        "a handler is listed twice in `provider!`; each handler runs once per call"
                    );
                }
                j += 1;
            }
            i += 1;
        }
    }
}

const fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

macro_rules! output {
    (Loaded) => {
        Advertise
    };
    (Notify) => {
        ()
    };
    (Auth) => {
        Decision
    };
    (Publish) => {
        Publish
    };
}

/// A handler's call, type-erased so that one hook's handlers sit in one list.
pub(crate) type Erased<R, O> =
    for<'a> fn(Call<'a, R>) -> Pin<Box<dyn Future<Output = Result<O, Status>> + Send + 'a>>;

fn wrong_hook(spec: HandlerSpec, hook: Hook) -> Status {
    Status::internal(format!(
        "handler `{}` is for {}, not {}",
        spec.path, spec.hook, hook
    ))
}

macro_rules! define_handler {
    ($($variant:ident, $attr:ident, $req:ident, $name:literal, $v1:literal, $kind:ident, $topic:ident;)*) => {
        /// A hook handler. Implemented by the hook attributes (such as
        /// `#[on_client_connect]`) on a type named after the function; you do
        /// not implement it yourself.
        #[diagnostic::on_unimplemented(
            message = "`{Self}` is not an exhook handler",
            label = "not a handler",
            note = "put a hook attribute such as `#[on_client_authenticate]` on an `async fn` and list the function here"
        )]
        pub trait Handler: Send + Sync + Sized + 'static {
            /// What the attribute recorded.
            const SPEC: HandlerSpec;

            /// The handler as `provider!` lists it (written by the attribute,
            /// which registers the one hook it knows).
            const ENTRY: HandlerEntry;

            $(
                #[doc(hidden)]
                fn $attr<'a>(call: Call<'a, $req>) -> impl Future<Output = Result<output!($kind), Status>> + Send + 'a {
                    let _ = call;
                    std::future::ready(Err(wrong_hook(Self::SPEC, Hook::$variant)))
                }
            )*
        }

        /// Each hook's handlers, in registration order, with their position
        /// in the provider's list.
        #[derive(Default)]
        pub struct Table {
            $(pub(crate) $attr: Vec<(usize, Erased<$req, output!($kind)>)>,)*
        }

        /// Puts a handler into its hook's table, one function per hook, so
        /// that each handler instantiates only its own erased call.
        #[allow(non_snake_case)]
        pub mod register {
            use super::*;

            $(
                #[doc(hidden)]
                pub fn $variant<H: Handler>(table: &mut Table, index: usize) {
                    table.$attr.push((index, erase::$attr::<H>));
                }
            )*
        }

        /// The erased calls, one generic function per hook.
        mod erase {
            use super::*;

            $(
                pub(super) fn $attr<'a, H: Handler>(
                    call: Call<'a, $req>,
                ) -> Pin<Box<dyn Future<Output = Result<output!($kind), Status>> + Send + 'a>> {
                    Box::pin(H::$attr(call))
                }
            )*
        }
    };
}

hook_table!(define_handler);

impl Table {
    /// The tables of every handler of `entries`.
    pub(crate) fn of(entries: &[HandlerEntry]) -> Table {
        let mut table = Table::default();
        for (index, entry) in entries.iter().enumerate() {
            (entry.register)(&mut table, index);
        }
        table
    }
}

/// The state of an authenticate or authorize chain.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuthChain {
    pub(crate) value: bool,
    /// Some handler answered something other than `Ignore`.
    pub(crate) answered: bool,
    pub(crate) stopped: bool,
}

impl AuthChain {
    pub(crate) fn new(value: bool) -> Self {
        AuthChain {
            value,
            answered: false,
            stopped: false,
        }
    }

    pub(crate) fn apply(&mut self, decision: Decision) {
        match decision {
            Decision::Ignore => return,
            Decision::Continue(value) => self.value = value,
            Decision::Allow => (self.value, self.stopped) = (true, true),
            Decision::Deny => (self.value, self.stopped) = (false, true),
        }
        self.answered = true;
    }
}

/// The state of a publish chain.
#[derive(Debug)]
pub(crate) struct PublishChain {
    /// The message so far; `None` while it is still the received one.
    pub(crate) current: Option<Message>,
    pub(crate) answered: bool,
    pub(crate) stopped: bool,
    pub(crate) dropped: bool,
    /// Which handlers match the current topic.
    pub(crate) hits: Hits,
}

impl PublishChain {
    pub(crate) fn new(hits: Hits) -> Self {
        PublishChain {
            current: None,
            answered: false,
            stopped: false,
            dropped: false,
            hits,
        }
    }

    pub(crate) fn apply(&mut self, answer: Publish, route: &Route, received_topic: &str) {
        let message = match answer {
            Publish::Ignore => return,
            Publish::Drop => {
                self.dropped = true;
                self.stopped = true;
                self.answered = true;
                return;
            }
            Publish::Stop(message) => {
                self.stopped = true;
                message
            }
            Publish::Continue(message) => message,
        };
        self.answered = true;
        // Like EMQX between servers, later handlers match the new topic.
        let previous_topic = self.current.as_ref().map_or(received_topic, |m| &m.topic);
        if !self.stopped && route.is_filtered() && previous_topic != message.topic {
            self.hits = route.hits([message.topic.as_str()]);
        }
        self.current = Some(message);
    }
}
