//! The `Handler` trait the hook attributes implement, and the list of
//! handlers a provider runs, in registration order.

use std::future::Future;

use tonic::Status;

use crate::event::*;
use crate::extract::{Call, ChainValue};
use crate::hook::{Hook, HookSet, hook_table};
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
    states: &'static [fn() -> Option<StateType>],
}

impl HandlerSpec {
    #[doc(hidden)]
    pub const fn __new(
        hook: Hook,
        name: &'static str,
        path: &'static str,
        topics: &'static [&'static str],
        states: &'static [fn() -> Option<StateType>],
    ) -> Self {
        HandlerSpec {
            hook,
            name,
            path,
            topics,
            states,
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

    pub(crate) fn state_types(&self) -> impl Iterator<Item = StateType> + '_ {
        self.states.iter().filter_map(|state| state())
    }
}

/// One link of the compile-time list of a provider's handlers.
#[derive(Debug)]
pub struct SpecNode {
    spec: HandlerSpec,
    next: Option<&'static SpecNode>,
}

impl SpecNode {
    /// Stops compilation (as a constant-evaluation error) when two entries of
    /// the list are the same handler.
    pub(crate) const fn assert_unique(first: Option<&'static SpecNode>) {
        let mut outer = first;
        while let Some(node) = outer {
            let mut inner = node.next;
            while let Some(other) = inner {
                if same_str(node.spec.path, other.spec.path) {
                    panic!(
                        "a handler is listed twice in `provider!`; each handler runs once per call"
                    );
                }
                inner = other.next;
            }
            outer = node.next;
        }
    }

    /// Walks the list from `first`.
    pub(crate) fn iter(
        first: Option<&'static SpecNode>,
    ) -> impl Iterator<Item = &'static HandlerSpec> {
        std::iter::successors(first, |node| node.next).map(|node| &node.spec)
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
        pub trait Handler: Send + Sync + 'static {
            /// What the attribute recorded.
            const SPEC: HandlerSpec;

            $(
                #[doc(hidden)]
                fn $attr<'a>(call: Call<'a, $req>) -> impl Future<Output = Result<output!($kind), Status>> + Send + 'a {
                    let _ = call;
                    std::future::ready(Err(wrong_hook(Self::SPEC, Hook::$variant)))
                }
            )*
        }

        /// The handlers of a provider, as a type-level list `(A, (B, ()))`
        /// walked in registration order.
        #[diagnostic::on_unimplemented(
            message = "`{Self}` is not a list of exhook handlers",
            note = "build providers with `provider![handler_a, handler_b]`"
        )]
        pub trait HandlerList: Send + Sync + 'static {
            /// The handlers' specs, first to last.
            const SPECS: Option<&'static SpecNode>;

            $(list_method!(decl $kind, $attr, $req);)*
        }

        impl HandlerList for () {
            const SPECS: Option<&'static SpecNode> = None;

            $(list_method!(end $kind, $attr, $req);)*
        }

        impl<H: Handler, T: HandlerList> HandlerList for (H, T) {
            const SPECS: Option<&'static SpecNode> = Some(&SpecNode {
                spec: H::SPEC,
                next: T::SPECS,
            });

            $(list_method!(cons $kind, $variant, $attr, $req);)*
        }
    };
}

/// The chain walk of one hook, for the declaration, the end of the list and
/// one link.
macro_rules! list_method {
    (decl Notify, $attr:ident, $req:ident) => {
        #[doc(hidden)]
        fn $attr<'a>(
            call: Call<'a, $req>,
            hits: &'a Hits,
            index: usize,
        ) -> impl Future<Output = Result<(), Status>> + Send + 'a;
    };
    (end Notify, $attr:ident, $req:ident) => {
        fn $attr<'a>(
            _: Call<'a, $req>,
            _: &'a Hits,
            _: usize,
        ) -> impl Future<Output = Result<(), Status>> + Send + 'a {
            std::future::ready(Ok(()))
        }
    };
    (cons Notify, $variant:ident, $attr:ident, $req:ident) => {
        fn $attr<'a>(
            call: Call<'a, $req>,
            hits: &'a Hits,
            index: usize,
        ) -> impl Future<Output = Result<(), Status>> + Send + 'a {
            async move {
                // Every handler sees the event; the first error is reported.
                let mine = if H::SPEC.hook as u8 == Hook::$variant as u8 && hits.contains(index) {
                    H::$attr(call).await
                } else {
                    Ok(())
                };
                let rest = T::$attr(call, hits, index + 1).await;
                mine.and(rest)
            }
        }
    };

    (decl Auth, $attr:ident, $req:ident) => {
        #[doc(hidden)]
        fn $attr<'a>(
            call: Call<'a, $req>,
            hits: &'a Hits,
            chain: &'a mut AuthChain,
            index: usize,
        ) -> impl Future<Output = Result<(), Status>> + Send + 'a;
    };
    (end Auth, $attr:ident, $req:ident) => {
        fn $attr<'a>(
            _: Call<'a, $req>,
            _: &'a Hits,
            _: &'a mut AuthChain,
            _: usize,
        ) -> impl Future<Output = Result<(), Status>> + Send + 'a {
            std::future::ready(Ok(()))
        }
    };
    (cons Auth, $variant:ident, $attr:ident, $req:ident) => {
        fn $attr<'a>(
            call: Call<'a, $req>,
            hits: &'a Hits,
            chain: &'a mut AuthChain,
            index: usize,
        ) -> impl Future<Output = Result<(), Status>> + Send + 'a {
            async move {
                if H::SPEC.hook as u8 == Hook::$variant as u8 && hits.contains(index) {
                    let call = Call {
                        value: ChainValue::Bool(chain.value),
                        ..call
                    };
                    chain.apply(H::$attr(call).await?);
                    if chain.stopped {
                        return Ok(());
                    }
                }
                T::$attr(call, hits, chain, index + 1).await
            }
        }
    };

    (decl Publish, $attr:ident, $req:ident) => {
        #[doc(hidden)]
        fn $attr<'a>(
            call: Call<'a, $req>,
            route: &'a Route,
            chain: &'a mut PublishChain,
            index: usize,
        ) -> impl Future<Output = Result<(), Status>> + Send + 'a;
    };
    (end Publish, $attr:ident, $req:ident) => {
        fn $attr<'a>(
            _: Call<'a, $req>,
            _: &'a Route,
            _: &'a mut PublishChain,
            _: usize,
        ) -> impl Future<Output = Result<(), Status>> + Send + 'a {
            std::future::ready(Ok(()))
        }
    };
    (cons Publish, $variant:ident, $attr:ident, $req:ident) => {
        fn $attr<'a>(
            call: Call<'a, $req>,
            route: &'a Route,
            chain: &'a mut PublishChain,
            index: usize,
        ) -> impl Future<Output = Result<(), Status>> + Send + 'a {
            async move {
                if H::SPEC.hook as u8 == Hook::$variant as u8 && chain.hits.contains(index) {
                    let current = chain
                        .current
                        .as_ref()
                        .unwrap_or(or_empty(&call.request.message));
                    let answer = H::$attr(Call {
                        value: ChainValue::Message(current),
                        ..call
                    })
                    .await?;
                    chain.apply(answer, route, &or_empty(&call.request.message).topic);
                    if chain.stopped {
                        return Ok(());
                    }
                }
                T::$attr(call, route, chain, index + 1).await
            }
        }
    };

    (decl Loaded, $attr:ident, $req:ident) => {
        #[doc(hidden)]
        fn $attr<'a>(
            call: Call<'a, $req>,
            advertised: &'a mut HookSet,
        ) -> impl Future<Output = Result<(), Status>> + Send + 'a;
    };
    (end Loaded, $attr:ident, $req:ident) => {
        fn $attr<'a>(
            _: Call<'a, $req>,
            _: &'a mut HookSet,
        ) -> impl Future<Output = Result<(), Status>> + Send + 'a {
            std::future::ready(Ok(()))
        }
    };
    (cons Loaded, $variant:ident, $attr:ident, $req:ident) => {
        fn $attr<'a>(
            call: Call<'a, $req>,
            advertised: &'a mut HookSet,
        ) -> impl Future<Output = Result<(), Status>> + Send + 'a {
            async move {
                if H::SPEC.hook as u8 == Hook::$variant as u8 {
                    if let Advertise::Only(only) = H::$attr(call).await? {
                        *advertised = advertised.intersection(only);
                    }
                }
                T::$attr(call, advertised).await
            }
        }
    };
}

hook_table!(define_handler);

/// The state of an authenticate or authorize chain.
#[derive(Debug, Clone, Copy)]
pub struct AuthChain {
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

    fn apply(&mut self, decision: Decision) {
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
pub struct PublishChain {
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

    fn apply(&mut self, answer: Publish, route: &Route, received_topic: &str) {
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
