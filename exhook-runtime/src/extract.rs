//! Handler arguments: which pieces of an event each hook hands over.
//!
//! Every hook has its own argument trait (in `__private::args`), so a wrong
//! argument is reported against the hook by name, with the list of what the
//! hook provides.

use tonic::Status;

use crate::event::{Message, or_empty};
use crate::state::{State, StateMap, StateType};
use crate::version::Version;

/// One handler call: the request, the server's state, and the chain's
/// current value.
pub struct Call<'a, R> {
    pub(crate) request: &'a R,
    pub(crate) state: &'a StateMap,
    pub(crate) version: Version,
    pub(crate) value: ChainValue<'a>,
}

impl<R> Clone for Call<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Call<'_, R> {}

/// The value a chain of handlers passes along.
#[derive(Clone, Copy)]
pub(crate) enum ChainValue<'a> {
    /// Notification hooks have none.
    None,
    /// Authenticate and authorize: the result so far.
    Bool(bool),
    /// Publish: the message so far.
    Message(&'a Message),
    /// Publish with a single handler that takes the message by value: the
    /// message, to be moved out rather than copied.
    Take(&'a std::sync::Mutex<Option<Message>>),
}

/// The result so far of an authenticate or authorize chain: what EMQX's own
/// chain decided (the request's `result`), as changed by earlier handlers
/// that answered [`Decision::Continue`](crate::Decision::Continue).
///
/// ```
/// use exhook_runtime::{on_client_authorize, ChainResult, Decision};
///
/// #[on_client_authorize]
/// async fn keep_denials(ChainResult(allowed): ChainResult) -> Decision {
///     if allowed { Decision::Ignore } else { Decision::Deny }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainResult(pub bool);

fn state_of<T: Clone + 'static>(state: &StateMap) -> Result<State<T>, Status> {
    state.get::<T>().cloned().map(State).ok_or_else(|| {
        Status::internal(format!(
            "no state of type `{}`; give it with `Server::state`",
            std::any::type_name::<T>()
        ))
    })
}

/// Declares one hook's argument trait with the arguments every hook has:
/// `State<T>`, `Version` and the request itself.
macro_rules! arg_trait {
    ($trait:ident, $req:ty, $message:literal, $provides:literal) => {
        #[doc = concat!("Arguments of `", stringify!($trait), "` handlers.")]
        #[diagnostic::on_unimplemented(message = $message, label = "not provided by this hook", note = $provides)]
        pub trait $trait<'a>: Sized {
            /// Takes the argument out of the call.
            fn extract(call: Call<'a, $req>) -> Result<Self, Status>;
            /// The state type this argument needs, checked at start-up.
            fn state_type() -> Option<StateType> {
                None
            }
        }

        impl<'a, T: Clone + Send + Sync + 'static> $trait<'a> for State<T> {
            #[inline]
            fn extract(call: Call<'a, $req>) -> Result<Self, Status> {
                state_of(call.state)
            }
            fn state_type() -> Option<StateType> {
                Some(StateType::of::<T>())
            }
        }

        impl<'a> $trait<'a> for Version {
            #[inline]
            fn extract(call: Call<'a, $req>) -> Result<Self, Status> {
                Ok(call.version)
            }
        }

        impl<'a> $trait<'a> for &'a $req {
            #[inline]
            fn extract(call: Call<'a, $req>) -> Result<Self, Status> {
                Ok(call.request)
            }
        }

        impl<'a> $trait<'a> for $req {
            #[inline]
            fn extract(call: Call<'a, $req>) -> Result<Self, Status> {
                Ok(call.request.clone())
            }
        }
    };
}

/// A sub-message of the request, by reference or cloned.
macro_rules! piece {
    ($trait:ident, $req:ty, $field:ident: $ty:ty) => {
        impl<'a> $trait<'a> for &'a $ty {
            #[inline]
            fn extract(call: Call<'a, $req>) -> Result<Self, Status> {
                Ok(or_empty(&call.request.$field))
            }
        }

        impl<'a> $trait<'a> for $ty {
            #[inline]
            fn extract(call: Call<'a, $req>) -> Result<Self, Status> {
                Ok(or_empty(&call.request.$field).clone())
            }
        }
    };
}

/// Declares the argument trait of each hook and what it provides.
macro_rules! hook_args {
    ($(
        $trait:ident($req:ty) $message:literal $provides:literal { $($field:ident: $ty:ty),* $(; $extra:ident)? }
    )*) => {$(
        arg_trait!($trait, $req, $message, $provides);
        $(piece!($trait, $req, $field: $ty);)*
        $(hook_args!(@extra $trait, $req, $extra);)?
    )*};
    (@extra $trait:ident, $req:ty, chain_result) => {
        impl<'a> $trait<'a> for ChainResult {
            #[inline]
            fn extract(call: Call<'a, $req>) -> Result<Self, Status> {
                Ok(ChainResult(match call.value {
                    ChainValue::Bool(value) => value,
                    _ => call.request.result,
                }))
            }
        }
    };
}

/// The arguments of each hook, by the `Hook` variant's name.
pub mod args {
    use super::*;
    use crate::event::*;

    hook_args! {
        ProviderUnloaded(ProviderUnloadedRequest)
            "`{Self}` is not an argument `#[on_provider_unloaded]` can provide"
            "`#[on_provider_unloaded]` provides `&RequestMeta`, `&ProviderUnloadedRequest` (or owned copies), `State<T>` and `Version`"
            { meta: RequestMeta }
        ClientConnect(ClientConnectRequest)
            "`{Self}` is not an argument `#[on_client_connect]` can provide"
            "`#[on_client_connect]` provides `&ConnInfo`, `&RequestMeta`, `&ClientConnectRequest` (or owned copies), `State<T>` and `Version`"
            { conninfo: ConnInfo, meta: RequestMeta }
        ClientConnack(ClientConnackRequest)
            "`{Self}` is not an argument `#[on_client_connack]` can provide"
            "`#[on_client_connack]` provides `&ConnInfo`, `&RequestMeta`, `&ClientConnackRequest` (or owned copies), `State<T>` and `Version`"
            { conninfo: ConnInfo, meta: RequestMeta }
        ClientConnected(ClientConnectedRequest)
            "`{Self}` is not an argument `#[on_client_connected]` can provide"
            "`#[on_client_connected]` provides `&ClientInfo`, `&RequestMeta`, `&ClientConnectedRequest` (or owned copies), `State<T>` and `Version`"
            { clientinfo: ClientInfo, meta: RequestMeta }
        ClientDisconnected(ClientDisconnectedRequest)
            "`{Self}` is not an argument `#[on_client_disconnected]` can provide"
            "`#[on_client_disconnected]` provides `&ClientInfo`, `&RequestMeta`, `&ClientDisconnectedRequest` (or owned copies), `State<T>` and `Version`"
            { clientinfo: ClientInfo, meta: RequestMeta }
        ClientAuthenticate(ClientAuthenticateRequest)
            "`{Self}` is not an argument `#[on_client_authenticate]` can provide"
            "`#[on_client_authenticate]` provides `&ClientInfo`, `&RequestMeta`, `&ClientAuthenticateRequest` (or owned copies), `ChainResult`, `State<T>` and `Version`"
            { clientinfo: ClientInfo, meta: RequestMeta; chain_result }
        ClientAuthorize(ClientAuthorizeRequest)
            "`{Self}` is not an argument `#[on_client_authorize]` can provide"
            "`#[on_client_authorize]` provides `&ClientInfo`, `&RequestMeta`, `&ClientAuthorizeRequest` (or owned copies), `AuthorizeAction`, `ChainResult`, `State<T>` and `Version`"
            { clientinfo: ClientInfo, meta: RequestMeta; chain_result }
        ClientSubscribe(ClientSubscribeRequest)
            "`{Self}` is not an argument `#[on_client_subscribe]` can provide"
            "`#[on_client_subscribe]` provides `&ClientInfo`, `&RequestMeta`, `&ClientSubscribeRequest` (or owned copies), `State<T>` and `Version`"
            { clientinfo: ClientInfo, meta: RequestMeta }
        ClientUnsubscribe(ClientUnsubscribeRequest)
            "`{Self}` is not an argument `#[on_client_unsubscribe]` can provide"
            "`#[on_client_unsubscribe]` provides `&ClientInfo`, `&RequestMeta`, `&ClientUnsubscribeRequest` (or owned copies), `State<T>` and `Version`"
            { clientinfo: ClientInfo, meta: RequestMeta }
        SessionCreated(SessionCreatedRequest)
            "`{Self}` is not an argument `#[on_session_created]` can provide"
            "`#[on_session_created]` provides `&ClientInfo`, `&RequestMeta`, `&SessionCreatedRequest` (or owned copies), `State<T>` and `Version`"
            { clientinfo: ClientInfo, meta: RequestMeta }
        SessionSubscribed(SessionSubscribedRequest)
            "`{Self}` is not an argument `#[on_session_subscribed]` can provide"
            "`#[on_session_subscribed]` provides `&ClientInfo`, `&SubOpts`, `&RequestMeta`, `&SessionSubscribedRequest` (or owned copies), `State<T>` and `Version`"
            { clientinfo: ClientInfo, subopts: SubOpts, meta: RequestMeta }
        SessionUnsubscribed(SessionUnsubscribedRequest)
            "`{Self}` is not an argument `#[on_session_unsubscribed]` can provide"
            "`#[on_session_unsubscribed]` provides `&ClientInfo`, `&RequestMeta`, `&SessionUnsubscribedRequest` (or owned copies), `State<T>` and `Version`"
            { clientinfo: ClientInfo, meta: RequestMeta }
        SessionResumed(SessionResumedRequest)
            "`{Self}` is not an argument `#[on_session_resumed]` can provide"
            "`#[on_session_resumed]` provides `&ClientInfo`, `&RequestMeta`, `&SessionResumedRequest` (or owned copies), `State<T>` and `Version`"
            { clientinfo: ClientInfo, meta: RequestMeta }
        SessionDiscarded(SessionDiscardedRequest)
            "`{Self}` is not an argument `#[on_session_discarded]` can provide"
            "`#[on_session_discarded]` provides `&ClientInfo`, `&RequestMeta`, `&SessionDiscardedRequest` (or owned copies), `State<T>` and `Version`"
            { clientinfo: ClientInfo, meta: RequestMeta }
        SessionTakenover(SessionTakenoverRequest)
            "`{Self}` is not an argument `#[on_session_takenover]` can provide"
            "`#[on_session_takenover]` provides `&ClientInfo`, `&RequestMeta`, `&SessionTakenoverRequest` (or owned copies), `State<T>` and `Version`"
            { clientinfo: ClientInfo, meta: RequestMeta }
        SessionTerminated(SessionTerminatedRequest)
            "`{Self}` is not an argument `#[on_session_terminated]` can provide"
            "`#[on_session_terminated]` provides `&ClientInfo`, `&RequestMeta`, `&SessionTerminatedRequest` (or owned copies), `State<T>` and `Version`"
            { clientinfo: ClientInfo, meta: RequestMeta }
        MessagePublish(MessagePublishRequest)
            "`{Self}` is not an argument `#[on_message_publish]` can provide"
            "`#[on_message_publish]` provides `&Message` (the message so far), `Message` (a copy of it), `&RequestMeta`, `&MessagePublishRequest` (or owned copies), `State<T>` and `Version`"
            { meta: RequestMeta }
        MessageDelivered(MessageDeliveredRequest)
            "`{Self}` is not an argument `#[on_message_delivered]` can provide"
            "`#[on_message_delivered]` provides `&ClientInfo` (the subscriber), `&Message`, `&RequestMeta`, `&MessageDeliveredRequest` (or owned copies), `State<T>` and `Version`"
            { clientinfo: ClientInfo, message: Message, meta: RequestMeta }
        MessageDropped(MessageDroppedRequest)
            "`{Self}` is not an argument `#[on_message_dropped]` can provide"
            "`#[on_message_dropped]` provides `&Message`, `&RequestMeta`, `&MessageDroppedRequest` (or owned copies), `State<T>` and `Version`"
            { message: Message, meta: RequestMeta }
        MessageAcked(MessageAckedRequest)
            "`{Self}` is not an argument `#[on_message_acked]` can provide"
            "`#[on_message_acked]` provides `&ClientInfo`, `&Message`, `&RequestMeta`, `&MessageAckedRequest` (or owned copies), `State<T>` and `Version`"
            { clientinfo: ClientInfo, message: Message, meta: RequestMeta }
    }

    arg_trait!(
        ProviderLoaded,
        ProviderLoadedRequest,
        "`{Self}` is not an argument `#[on_provider_loaded]` can provide",
        "`#[on_provider_loaded]` provides `&BrokerInfo`, `&RequestMeta`, `&ProviderLoadedRequest` (or owned copies), `State<T>` and `Version`"
    );

    impl<'a> ProviderLoaded<'a> for &'a BrokerInfo {
        fn extract(call: Call<'a, ProviderLoadedRequest>) -> Result<Self, Status> {
            Ok(&call.request.broker)
        }
    }

    impl<'a> ProviderLoaded<'a> for BrokerInfo {
        fn extract(call: Call<'a, ProviderLoadedRequest>) -> Result<Self, Status> {
            Ok(call.request.broker.clone())
        }
    }

    impl<'a> ProviderLoaded<'a> for &'a RequestMeta {
        fn extract(call: Call<'a, ProviderLoadedRequest>) -> Result<Self, Status> {
            Ok(&call.request.meta)
        }
    }

    impl<'a> ProviderLoaded<'a> for RequestMeta {
        fn extract(call: Call<'a, ProviderLoadedRequest>) -> Result<Self, Status> {
            Ok(call.request.meta.clone())
        }
    }

    impl<'a> ClientAuthorize<'a> for AuthorizeAction {
        #[inline]
        fn extract(call: Call<'a, ClientAuthorizeRequest>) -> Result<Self, Status> {
            Ok(call.request.r#type())
        }
    }

    /// The message so far: what the previous handler continued with, or the
    /// message as EMQX sent it.
    impl<'a> MessagePublish<'a> for &'a Message {
        #[inline]
        fn extract(call: Call<'a, MessagePublishRequest>) -> Result<Self, Status> {
            Ok(match call.value {
                ChainValue::Message(message) => message,
                _ => or_empty(&call.request.message),
            })
        }
    }

    /// A copy of the message so far, or the message itself when nothing
    /// else needs it (one handler, taking it only by value).
    impl<'a> MessagePublish<'a> for Message {
        #[inline]
        fn extract(call: Call<'a, MessagePublishRequest>) -> Result<Self, Status> {
            if let ChainValue::Take(slot) = call.value {
                let taken = slot.lock().map(|mut slot| slot.take()).unwrap_or_default();
                return Ok(taken.unwrap_or_default());
            }
            <&Message as MessagePublish<'a>>::extract(call).cloned()
        }
    }
}
