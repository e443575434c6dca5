//! Everything generated code names, behind one path.
//!
//! **Not public API.** These items exist for the expansions of
//! `exhook-macros` and may change in any release.

pub use crate::extract::{ArgFacts, Call, FromCall, Rejection};
pub use crate::handler::{Answer, Handler, HandlerEntry, HandlerSpec};
pub use crate::handler_future::Handled;
use crate::handler_future::HandlerFuture;
pub use crate::hook::Hook;
pub use crate::hooks::HookPoint;
pub use crate::kind::HookKind;
pub use crate::outcome::{DecisionOutput, LoadedOutput, NotifyOutput, PublishOutput};
pub use crate::provider::Provider;
pub use core::marker::Send;
pub use core::{concat, module_path};
pub use std::future::Future;
pub use tonic::Status;

/// Implemented by the hook attributes, next to [`Handler`]: only they
/// implement it.
pub trait Sealed {}

/// What a hook attribute records about its handler.
pub const fn handler_spec(
    hook: Hook,
    name: &'static str,
    path: &'static str,
    topics: &'static [&'static str],
    args: &'static [fn() -> ArgFacts],
) -> HandlerSpec {
    HandlerSpec::new(hook, name, path, topics, args)
}

/// The provider `provider!` lists.
pub const fn provider(entries: &'static [HandlerEntry]) -> Provider {
    Provider::new(entries)
}

/// Whether `entries[index]` names a handler listed before it under another
/// path (`provider!` reports the same path twice itself), for a `const`
/// that fails compilation at that path.
pub const fn listed_before(entries: &[HandlerEntry], index: usize) -> bool {
    HandlerEntry::listed_before(entries, index)
}

/// What `provider!` finds from a listed function: implemented for every
/// function of up to 16 arguments whose future is a [`HandlerFuture`],
/// which the hook attributes alone make. `Args` is the arguments' tuple.
#[diagnostic::on_unimplemented(
    message = "`provider!` lists handlers, and this has no hook attribute",
    label = "not a handler: it has no hook attribute",
    note = "put a hook attribute such as `#[on_client_authenticate]` on an `async fn` and list the function here"
)]
pub trait Listed<Args> {
    /// The handle the attribute made for the function.
    type Handle: Handler;
}

macro_rules! listed {
    ($($argument:ident)*) => {
        // Not suggested for what is not a handler: rustc would list one impl
        // per arity, quoting this file.
        #[diagnostic::do_not_recommend]
        impl<Function, Returned, $($argument),*> Listed<($($argument,)*)> for Function
        where
            Function: Fn($($argument),*) -> Returned,
            Returned: HandlerFuture,
        {
            type Handle = Returned::Handle;
        }
    };
}

listed!();
listed!(A1);
listed!(A1 A2);
listed!(A1 A2 A3);
listed!(A1 A2 A3 A4);
listed!(A1 A2 A3 A4 A5);
listed!(A1 A2 A3 A4 A5 A6);
listed!(A1 A2 A3 A4 A5 A6 A7);
listed!(A1 A2 A3 A4 A5 A6 A7 A8);
listed!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
listed!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
listed!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
listed!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);
listed!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13);
listed!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14);
listed!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15);
listed!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15 A16);

/// How a generated handler makes each argument: through `FromCall`, by a
/// blanket impl. An argument that fails is then reported at its missing
/// piece (or state bound) with that trait's message, and rustc, looking
/// for impls of this trait to suggest, finds none to quote: listing
/// `FromCall`'s impls would print lines of the runtime's source.
pub trait HandlerArgument<'a, H: HookPoint>: Sized {
    type Rejection: Into<Rejection>;

    fn make(call: Call<'a, H>) -> impl Future<Output = Result<Self, Self::Rejection>> + Send + 'a;
}

impl<'a, H: HookPoint, T: FromCall<'a, H>> HandlerArgument<'a, H> for T {
    type Rejection = T::Rejection;

    #[inline]
    fn make(call: Call<'a, H>) -> impl Future<Output = Result<Self, Self::Rejection>> + Send + 'a {
        T::from_call(call)
    }
}

/// What a handler of `H` whose argument was rejected answers.
#[inline]
pub fn reject<H: HookPoint>(rejection: impl Into<Rejection>) -> Result<Answer<H>, Status> {
    <H::Kind as HookKind<H>>::rejected(rejection.into())
}

/// What the runtime needs to know about an argument `T` of a hook-`H`
/// handler, if `T` is an argument of `H` at all:
/// `(&&ArgProbe::<T, H>::new()).facts()` picks [`Argument`] when
/// `T: FromCall<H>` and falls back to [`NotAnArgument`] otherwise, so that a
/// wrong argument is reported once, where the handler calls `from_call`,
/// and not again here.
pub struct ArgProbe<T, H>(core::marker::PhantomData<fn() -> (T, H)>);

impl<T, H> ArgProbe<T, H> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        ArgProbe(core::marker::PhantomData)
    }
}

/// See [`ArgProbe`].
pub trait Argument {
    fn facts(&self) -> ArgFacts;
}

impl<'a, T: FromCall<'a, H>, H: HookPoint> Argument for &ArgProbe<T, H> {
    fn facts(&self) -> ArgFacts {
        ArgFacts::of::<H, T>()
    }
}

/// See [`ArgProbe`].
pub trait NotAnArgument {
    fn facts(&self) -> ArgFacts;
}

impl<T, H> NotAnArgument for ArgProbe<T, H> {
    fn facts(&self) -> ArgFacts {
        ArgFacts::UNKNOWN
    }
}
