//! The hook points as types: one marker per hook, named after its
//! attribute, and what each request offers the runtime.
//!
//! Everything here is derived from the hook table of `exhook-hooks`. A
//! handler's arguments are resolved through these types: an argument type
//! `T` works on hook `H` when `T: FromCall<H>`, and the built-in pieces
//! (`&ClientInfo`, `&Message`, …) work on every hook `H` with
//! `H: Provides<Piece>`.
//!
//! ```
//! use exhook_runtime::hooks::{self, HookPoint, Provides};
//! use exhook_runtime::prelude::*;
//!
//! fn needs_client<H: Provides<ClientInfo>>() -> Hook { H::HOOK }
//!
//! assert_eq!(needs_client::<hooks::on_client_authenticate>(), Hook::ClientAuthenticate);
//! // `client.connect` carries a `ConnInfo`, not a `ClientInfo`.
//! fn needs_conn<H: Provides<ConnInfo>>() -> Hook { H::HOOK }
//! assert_eq!(needs_conn::<hooks::on_client_connect>(), Hook::ClientConnect);
//! ```

use std::convert::Infallible;
use std::future::{Future, ready};

pub use crate::compat::Wire;
pub use exhook_hooks::{Answer, HookRow, TopicSource, WireLayout};

use crate::compat;
use crate::event::*;
use crate::extract::{Call, ChainValue, FromCall};
use crate::hook::Hook;
use crate::kind::{self, HookKind};
use crate::version::Version;

mod sealed {
    pub trait Sealed {}
}

/// A hook point as a type: the markers in this module, one per hook.
pub trait HookPoint: sealed::Sealed + Sized + Send + Sync + 'static {
    /// The hook.
    const HOOK: Hook;
    /// The request its handlers see.
    type Request: HookRequest<Hook = Self>;
    /// How its handlers' answers are chained and sent to EMQX.
    type Kind: HookKind<Self>;
}

/// What a request offers the runtime, whichever hook it belongs to.
pub trait HookRequest:
    Wire + Clone + Default + PartialEq + std::fmt::Debug + Send + Sync + 'static
{
    /// The hook point the request belongs to.
    type Hook: HookPoint<Request = Self>;

    /// The client the call is about (empty for the provider's own load and
    /// unload).
    fn clientid(&self) -> &str;

    /// Calls `each` with every topic that handlers' `topic = …` filters are
    /// matched against (subscriptions without their `$share/<group>/`,
    /// `$queue/` or `$exclusive/` prefix).
    fn topics<'r>(&'r self, each: &mut dyn FnMut(&'r str));

    /// The value a chain of handlers starts from: EMQX's result so far for
    /// authenticate and authorize, the message for publish.
    fn chain_start(&self) -> ChainValue<'_>;
}

/// Something to do with every hook point's type: [`visit_all`] calls
/// [`Visitor::visit`] once per hook.
///
/// ```
/// use exhook_runtime::hooks::{self, HookPoint, Visitor};
/// use exhook_runtime::Hook;
///
/// struct Collect(Vec<Hook>);
/// impl Visitor for Collect {
///     fn visit<H: HookPoint>(&mut self) {
///         self.0.push(H::HOOK);
///     }
/// }
/// let mut all = Collect(Vec::new());
/// hooks::visit_all(&mut all);
/// assert_eq!(all.0, Hook::ALL);
/// ```
pub trait Visitor {
    /// Called with hook point `H`.
    fn visit<H: HookPoint>(&mut self);
}

/// Something to do with the hook point of a [`Hook`] value: [`with_hook`]
/// calls [`HookFn::call`] with its type.
///
/// ```
/// use exhook_runtime::hooks::{self, HookFn, HookPoint};
/// use exhook_runtime::Hook;
///
/// struct RequestName;
/// impl HookFn for RequestName {
///     type Output = &'static str;
///     fn call<H: HookPoint>(self) -> &'static str {
///         std::any::type_name::<H::Request>()
///     }
/// }
/// let name = hooks::with_hook(Hook::ClientConnected, RequestName);
/// assert!(name.ends_with("ClientConnectedRequest"));
/// ```
pub trait HookFn {
    /// What the call returns.
    type Output;
    /// Called with hook point `H`.
    fn call<H: HookPoint>(self) -> Self::Output;
}

/// A part of the request that a hook hands to its handlers.
#[diagnostic::on_unimplemented(
    message = "`#[{Self}]` does not provide `{P}`",
    label = "needs a `{P}`, which this hook does not provide",
    note = "what this hook provides is listed on the page of `{Self}`, in `exhook_runtime::hooks`"
)]
pub trait Provides<P>: HookPoint {
    /// The part, or an empty value when EMQX left it out.
    fn piece(request: &Self::Request) -> &P;

    /// Moves the part out of the request, leaving an empty value.
    #[doc(hidden)]
    fn take(request: &mut Self::Request) -> P;
}

/// A request field holding a piece: an optional sub-message (proto3 may
/// leave it out: a handler then sees the empty value a missing scalar would
/// give) or a plain one.
trait Field<P> {
    fn get(&self) -> &P;
    fn take(&mut self) -> P;
}

impl<P: EmptyValue + Default> Field<P> for Option<P> {
    fn get(&self) -> &P {
        self.as_ref().unwrap_or_else(|| P::empty())
    }

    fn take(&mut self) -> P {
        Option::take(self).unwrap_or_default()
    }
}

impl Field<BrokerInfo> for BrokerInfo {
    fn get(&self) -> &BrokerInfo {
        self
    }

    fn take(&mut self) -> BrokerInfo {
        std::mem::take(self)
    }
}

impl Field<RequestMeta> for RequestMeta {
    fn get(&self) -> &RequestMeta {
        self
    }

    fn take(&mut self) -> RequestMeta {
        std::mem::take(self)
    }
}

/// The client a piece names, for spans and logs.
trait ClientOf {
    fn clientid(&self) -> &str {
        ""
    }
}

impl ClientOf for ClientInfo {
    fn clientid(&self) -> &str {
        &self.clientid
    }
}

impl ClientOf for ConnInfo {
    fn clientid(&self) -> &str {
        &self.clientid
    }
}

/// A message names its publisher.
impl ClientOf for Message {
    fn clientid(&self) -> &str {
        &self.from
    }
}

impl ClientOf for RequestMeta {}
impl ClientOf for BrokerInfo {}

/// What handlers of a hook take and return, with links: the text of the
/// hook's marker page here and of its attribute's page.
macro_rules! handler_doc {
    ($attribute:ident, $answer:ident, $request:ident, [$($piece:ident),*]) => {
        concat!(
            "Handlers take",
            $(" [`&", stringify!($piece), "`](crate::event::", stringify!($piece), "),",)*
            " [`&", stringify!($request), "`](crate::event::", stringify!($request), ")",
            " (or owned copies of each)",
            $crate::hooks::handler_doc!(@extras $attribute $answer),
            ", [`State<T>`](crate::State), [`Version`](crate::Version), and any type",
            " implementing [`FromCall`](crate::FromCall) for this hook. They return ",
            $crate::hooks::handler_doc!(@returns $answer),
            "; an `Err` fails the call, with its message."
        )
    };
    (@extras on_client_authorize $answer:ident) => {
        ", [`AuthorizeAction`](crate::event::AuthorizeAction), [`ChainResult`](crate::ChainResult)"
    };
    (@extras $attribute:ident Decide) => { ", [`ChainResult`](crate::ChainResult)" };
    (@extras $attribute:ident $answer:ident) => { "" };
    (@returns Notify) => { "`()`, or `Result<(), E>` where `E: Display`" };
    (@returns Decide) => {
        "a [`Decision`](crate::Decision), or `Result<Decision, E>` where `E: Display`"
    };
    (@returns Publish) => {
        "a [`Publish`](crate::Publish), or `Result<Publish, E>` where `E: Display`"
    };
    (@returns Load) => {
        "`()` or an [`Advertise`](crate::Advertise), or a `Result` of either with `E: Display`"
    };
}
pub(crate) use handler_doc;

/// One marker and its impls per row of the hook table.
macro_rules! bind_hooks {
    ($(
        $variant:ident {
            attribute: $attribute:ident,
            name: $name:literal, v1_name: $v1_name:literal,
            rpc: $rpc:literal, v1_rpc: $v1_rpc:literal,
            request: $request:ident, v1_request: $v1_request:ident,
            wire: $wire:ident, answer: $answer:ident, topic: $topic:ident,
            pieces: [$first:ident: $first_piece:ident $(, $field:ident: $piece:ident)*],
            doc: $doc:literal,
        }
    )*) => {
        $(
        #[doc = concat!("`#[", stringify!($attribute), "]`, EMQX's `", $name, "`: ", $doc)]
        ///
        #[doc = handler_doc!($attribute, $answer, $request, [$first_piece $(, $piece)*])]
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy)]
        pub struct $attribute(());

        impl sealed::Sealed for $attribute {}

        impl HookPoint for $attribute {
            const HOOK: Hook = Hook::$variant;
            type Request = $request;
            type Kind = kind::$answer;
        }

        impl HookRequest for $request {
            type Hook = $attribute;

            fn clientid(&self) -> &str {
                Field::<$first_piece>::get(&self.$first).clientid()
            }

            fn topics<'r>(&'r self, each: &mut dyn FnMut(&'r str)) {
                bind_hooks!(@topics $topic, self, each);
            }

            fn chain_start(&self) -> ChainValue<'_> {
                bind_hooks!(@start $answer, self)
            }
        }

        // Marked so that rustc, reporting a piece a hook lacks, does not
        // list (and quote) these impls: the attribute's page lists them.
        #[diagnostic::do_not_recommend]
        impl Provides<$first_piece> for $attribute {
            fn piece(request: &$request) -> &$first_piece {
                request.$first.get()
            }

            fn take(request: &mut $request) -> $first_piece {
                Field::<$first_piece>::take(&mut request.$first)
            }
        }

        $(#[diagnostic::do_not_recommend]
        impl Provides<$piece> for $attribute {
            fn piece(request: &$request) -> &$piece {
                request.$field.get()
            }

            fn take(request: &mut $request) -> $piece {
                Field::<$piece>::take(&mut request.$field)
            }
        })*

        bind_hooks!(@wire $wire, $request, $v1_request);

        impl<'a> FromCall<'a, $attribute> for &'a $request {
            type Rejection = Infallible;

            fn from_call(call: Call<'a, $attribute>) -> impl Future<Output = Result<Self, Infallible>> + Send {
                ready(Ok(call.request))
            }
        }

        impl FromCall<'_, $attribute> for $request {
            type Rejection = Infallible;

            fn from_call(call: Call<'_, $attribute>) -> impl Future<Output = Result<Self, Infallible>> + Send {
                ready(Ok(call.request.clone()))
            }
        }
    )*

        /// Calls `visitor` with every hook point, in [`Hook::ALL`] order.
        pub fn visit_all(visitor: &mut impl Visitor) {
            $(visitor.visit::<$attribute>();)*
        }

        /// Calls `f` with the hook point of `hook`.
        pub fn with_hook<F: HookFn>(hook: Hook, f: F) -> F::Output {
            match hook {
                $(Hook::$variant => f.call::<$attribute>(),)*
            }
        }
    };
    (@wire Plain, $request:ident, $v1_request:ident) => {
        impl Wire for $request {
            fn decode(_: Version, buf: impl bytes::Buf) -> Result<Self, prost::DecodeError> {
                compat::decode_plain(buf)
            }

            fn encode(&self, version: Version) -> Vec<u8> {
                compat::encode_plain::<Self, crate::proto::v1::$v1_request>(self, version)
            }
        }
    };
    (@wire Converted, $request:ident, $v1_request:ident) => {};
    (@topics None, $request:ident, $each:ident) => {
        let _ = $each;
    };
    (@topics Message, $request:ident, $each:ident) => {
        $each(&Field::<Message>::get(&$request.message).topic)
    };
    (@topics Field, $request:ident, $each:ident) => {
        $each(&$request.topic)
    };
    (@topics Subscription, $request:ident, $each:ident) => {
        $each(crate::topic::subscription_topic(&$request.topic))
    };
    (@topics Filters, $request:ident, $each:ident) => {
        for filter in &$request.topic_filters {
            $each(crate::topic::subscription_topic(&filter.name));
        }
    };
    (@start Decide, $request:ident) => { ChainValue::Bool($request.result) };
    (@start Publish, $request:ident) => {
        ChainValue::Message(Field::<Message>::get(&$request.message))
    };
    (@start $answer:ident, $request:ident) => { ChainValue::None };
}
exhook_hooks::hook_table!(bind_hooks);
