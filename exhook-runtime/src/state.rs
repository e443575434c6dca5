//! Application state handed to handlers as [`State<T>`].

use std::any::{Any, TypeId, type_name};
use std::ops::{Deref, DerefMut};

/// Shared application state, given to the server once with
/// [`Server::state`](crate::Server::state) and taken by any handler as an
/// argument. The value is cloned for each call, so wrap large or mutable
/// state in an `Arc`.
///
/// ```
/// use std::sync::Arc;
/// use exhook_runtime::prelude::*;
///
/// struct Users { names: Vec<String> }
///
/// #[on_client_authenticate]
/// async fn known(client: &ClientInfo, State(users): State<Arc<Users>>) -> Decision {
///     if users.names.contains(&client.username) { Decision::Allow } else { Decision::Ignore }
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct State<T>(pub T);

impl<T> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for State<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// A state type a handler needs, checked when the server starts.
#[derive(Debug, Clone, Copy)]
pub struct StateType {
    pub(crate) id: fn() -> TypeId,
    pub(crate) name: fn() -> &'static str,
}

impl StateType {
    pub(crate) fn of<T: 'static>() -> Self {
        StateType {
            id: TypeId::of::<T>,
            name: type_name::<T>,
        }
    }
}

/// The state values given to a server, by type.
#[derive(Default)]
pub(crate) struct StateMap {
    values: Vec<(TypeId, Box<dyn Any + Send + Sync>)>,
}

impl StateMap {
    /// Stores `value`, replacing an earlier value of the same type.
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        let id = TypeId::of::<T>();
        self.values.retain(|(existing, _)| *existing != id);
        self.values.push((id, Box::new(value)));
    }

    pub(crate) fn get<T: 'static>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.values
            .iter()
            .find(|(existing, _)| *existing == id)
            .and_then(|(_, value)| value.downcast_ref())
    }

    pub(crate) fn contains(&self, ty: StateType) -> bool {
        let id = (ty.id)();
        self.values.iter().any(|(existing, _)| *existing == id)
    }
}

/// A type handlers can take as [`State<T>`]: each call gets its own clone,
/// so it must be cheap to clone; share anything larger through an `Arc`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be taken as `State<{Self}>`: every call gets its own clone",
    label = "`{Self}` must be `Clone + Send + Sync + 'static`",
    note = "share it as `State<Arc<{Self}>>`, and give the server `Arc::new(value)`"
)]
pub trait StateValue: Clone + Send + Sync + 'static {}

#[diagnostic::do_not_recommend]
impl<T: Clone + Send + Sync + 'static> StateValue for T {}
