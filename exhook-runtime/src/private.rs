//! Everything generated code names, behind one path.
//!
//! **Not public API.** These items exist for the expansions of
//! `exhook-macros` and may change in any release.

pub use crate::extract::{Call, args};
pub use crate::handler::{
    ArgFacts, Handler, HandlerEntry, HandlerSpec, MessageUse, Table, register,
};
pub use crate::hook::Hook;
pub use crate::outcome::{DecisionOutput, LoadedOutput, NotifyOutput, PublishOutput};
pub use crate::provider::Provider;
pub use crate::state::StateType;
pub use core::{concat, module_path};
pub use std::future::Future;
pub use tonic::Status;

/// Fails compilation, when evaluated in a `const`, if `entries` names one
/// handler twice (under different paths; `provider!` reports the same path
/// twice itself).
pub const fn assert_unique(entries: &[HandlerEntry]) {
    HandlerEntry::assert_unique(entries);
}

pub use core::marker::Send;

use crate::hook::hook_table;
use crate::state::State;

/// Per-hook names for generated code: the request type, the handler's
/// result, and the conversion from what the handler returned.
macro_rules! per_hook {
    ($($variant:ident, $attr:ident, $req:ident, $name:literal, $v1:literal, $kind:ident, $topic:ident;)*) => {
        /// The request type of each hook.
        pub mod req {
            $(pub type $variant = crate::event::$req;)*
        }

        /// What each hook's handler method yields.
        pub mod out {
            $(pub type $variant = core::result::Result<per_hook!(@out $kind), tonic::Status>;)*
        }

        /// Converts what a handler returned, with the hook's return-type rules.
        #[allow(non_snake_case)]
        pub mod into {
            $(per_hook!(@into $kind, $variant);)*
        }
    };
    (@out Notify) => { () };
    (@out Auth) => { crate::outcome::Decision };
    (@out Publish) => { crate::outcome::Publish };
    (@out Loaded) => { crate::outcome::Advertise };
    (@into Notify, $variant:ident) => { per_hook!(@into_with NotifyOutput, $variant); };
    (@into Auth, $variant:ident) => { per_hook!(@into_with DecisionOutput, $variant); };
    (@into Publish, $variant:ident) => { per_hook!(@into_with PublishOutput, $variant); };
    (@into Loaded, $variant:ident) => { per_hook!(@into_with LoadedOutput, $variant); };
    (@into_with $trait:ident, $variant:ident) => {
        #[inline(always)]
        pub fn $variant<T: crate::outcome::$trait>(value: T) -> super::out::$variant {
            value.into_result()
        }
    };
}
hook_table!(per_hook);

/// Finds out at compile time, without failing for any type, what an
/// argument type means to the runtime: `(&&Probe::<Ty>::new()).facts()`
/// picks [`Specific`] for `State<T>`, `Message` and `&Message` (and the
/// publish request), and falls back to [`Generic`] for everything else.
pub struct Probe<T>(core::marker::PhantomData<fn() -> T>);

impl<T> Probe<T> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Probe(core::marker::PhantomData)
    }
}

/// See [`Probe`].
pub trait Specific {
    fn facts(&self) -> ArgFacts;
}

impl<T: 'static> Specific for &Probe<State<T>> {
    fn facts(&self) -> ArgFacts {
        ArgFacts::state(StateType::of::<T>())
    }
}

impl Specific for &Probe<crate::event::Message> {
    fn facts(&self) -> ArgFacts {
        ArgFacts::message(MessageUse::Owned)
    }
}

impl Specific for &Probe<&crate::event::Message> {
    fn facts(&self) -> ArgFacts {
        ArgFacts::message(MessageUse::Borrowed)
    }
}

impl Specific for &Probe<crate::event::MessagePublishRequest> {
    fn facts(&self) -> ArgFacts {
        ArgFacts::message(MessageUse::Borrowed)
    }
}

impl Specific for &Probe<&crate::event::MessagePublishRequest> {
    fn facts(&self) -> ArgFacts {
        ArgFacts::message(MessageUse::Borrowed)
    }
}

/// See [`Probe`].
pub trait Generic {
    fn facts(&self) -> ArgFacts;
}

impl<T> Generic for Probe<T> {
    fn facts(&self) -> ArgFacts {
        ArgFacts::default()
    }
}
