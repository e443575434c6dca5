//! The `Handler` trait the hook attributes implement, and each hook's
//! handlers in registration order.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;

use tonic::Status;

use crate::extract::Call;
use crate::extract::{ArgFacts, MessageUse};
use crate::hook::Hook;
use crate::hooks::HookPoint;
use crate::kind::HookKind;
use crate::state::StateType;

/// What a handler of hook `H` answers.
pub type Answer<H> = <<H as HookPoint>::Kind as HookKind<H>>::Answer;

/// What a hook attribute records about its handler, known at compile time.
#[derive(Debug, Clone, Copy)]
pub struct HandlerSpec {
    hook: Hook,
    name: &'static str,
    path: &'static str,
    topics: &'static [&'static str],
    args: &'static [fn() -> ArgFacts],
}

impl HandlerSpec {
    pub(crate) const fn new(
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

    /// The state types the handler's arguments take.
    pub(crate) fn state_types(&self) -> impl Iterator<Item = StateType> + '_ {
        self.args.iter().filter_map(|facts| facts().state)
    }

    /// Whether a publish call reaching only this handler can move the
    /// message to it: one argument takes it by value, and no other reads it.
    pub(crate) fn moves_message(&self) -> bool {
        let uses: Vec<MessageUse> = self.args.iter().map(|facts| facts().message).collect();
        uses.iter()
            .filter(|use_| **use_ == MessageUse::Takes)
            .count()
            == 1
            && !uses.contains(&MessageUse::Reads)
    }
}

/// A hook handler. Implemented by the hook attributes (such as
/// `#[on_client_connect]`) on a type named after the function; you do not
/// implement it yourself.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an exhook handler",
    label = "not a handler",
    note = "put a hook attribute such as `#[on_client_authenticate]` on an `async fn` and list the function here"
)]
pub trait Handler: crate::__private::Sealed + Send + Sync + Sized + 'static {
    /// The hook the handler is attached to.
    type Hook: HookPoint;

    /// What the attribute recorded.
    const SPEC: HandlerSpec;

    /// The handler as `provider!` lists it.
    const ENTRY: HandlerEntry = HandlerEntry {
        spec: Self::SPEC,
        register: register::<Self>,
    };

    /// Calls the handler: makes its arguments from the call, runs it, and
    /// converts what it returned.
    fn call<'a>(
        call: Call<'a, Self::Hook>,
    ) -> impl Future<Output = Result<Answer<Self::Hook>, Status>> + Send + 'a;
}

/// One entry of a provider's handler list: what the attribute recorded,
/// and how to put the handler into its hook's list.
#[derive(Debug, Clone, Copy)]
pub struct HandlerEntry {
    pub(crate) spec: HandlerSpec,
    pub(crate) register: fn(&mut HandlerTable, usize),
}

impl HandlerEntry {
    /// What the attribute recorded.
    pub const fn spec(&self) -> &HandlerSpec {
        &self.spec
    }

    /// Whether `entries[index]` is a handler listed before it, under another
    /// path (its full path, from `module_path!`, is the same).
    pub(crate) const fn listed_before(entries: &[HandlerEntry], index: usize) -> bool {
        let mut i = 0;
        while i < index {
            if same_str(entries[i].spec.path, entries[index].spec.path) {
                return true;
            }
            i += 1;
        }
        false
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

/// A handler's call in progress, boxed.
type Boxed<'a, H> = Pin<Box<dyn Future<Output = Result<Answer<H>, Status>> + Send + 'a>>;

/// A handler's call, type-erased so that one hook's handlers sit in one list.
pub(crate) type Erased<H> = for<'a> fn(Call<'a, H>) -> Boxed<'a, H>;

fn erase<F: Handler>(call: Call<'_, F::Hook>) -> Boxed<'_, F::Hook> {
    Box::pin(F::call(call))
}

/// Puts handler `F` at `index` of its hook's list.
fn register<F: Handler>(table: &mut HandlerTable, index: usize) {
    table.list_mut::<F::Hook>().push((index, erase::<F>));
}

/// Each hook's handlers, with their positions in the provider's list.
pub(crate) struct HandlerTable {
    /// By hook: a `Vec<(usize, Erased<H>)>` for the hook's marker `H`.
    lists: Vec<Option<Box<dyn Any + Send + Sync>>>,
}

impl HandlerTable {
    /// The lists of every handler of `entries`.
    pub(crate) fn of(entries: &[HandlerEntry]) -> Self {
        let mut table = HandlerTable {
            lists: (0..Hook::COUNT).map(|_| None).collect(),
        };
        for (index, entry) in entries.iter().enumerate() {
            (entry.register)(&mut table, index);
        }
        table
    }

    fn list_mut<H: HookPoint>(&mut self) -> &mut Vec<(usize, Erased<H>)> {
        self.lists[H::HOOK.index()]
            .get_or_insert_with(|| Box::new(Vec::<(usize, Erased<H>)>::new()))
            .downcast_mut()
            .expect("each hook's list holds that hook's handlers")
    }

    /// `H`'s handlers.
    pub(crate) fn of_hook<H: HookPoint>(&self) -> &[(usize, Erased<H>)] {
        self.lists[H::HOOK.index()]
            .as_deref()
            .and_then(|list| list.downcast_ref::<Vec<(usize, Erased<H>)>>())
            .map_or(&[], Vec::as_slice)
    }
}
