//! Handler arguments: [`FromCall`], and the arguments every hook offers.

use std::convert::Infallible;
use std::fmt::Display;
use std::future::{Future, ready};

use crate::event::*;
use crate::hooks::{HookPoint, HookRequest, Provides};
use crate::state::{State, StateMap, StateType, StateValue};
use crate::version::Version;
use std::sync::Mutex;

/// One handler call: the request, the server's state, the protocol version
/// and the chain's value so far. What [`FromCall`] implementations read.
pub struct Call<'a, H: HookPoint> {
    pub(crate) request: &'a H::Request,
    pub(crate) state: &'a StateMap,
    pub(crate) version: Version,
    pub(crate) value: ChainValue<'a>,
    /// On a publish call whose one handler takes the message by value and
    /// nothing else reads it: the message, to be moved rather than copied.
    pub(crate) owned: Option<&'a Mutex<Option<Message>>>,
}

impl<H: HookPoint> Clone for Call<'_, H> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<H: HookPoint> Copy for Call<'_, H> {}

impl<'a, H: HookPoint> Call<'a, H> {
    /// The request as EMQX sent it.
    pub fn request(&self) -> &'a H::Request {
        self.request
    }

    /// A part of the request, such as the `ClientInfo`.
    pub fn piece<P>(&self) -> &'a P
    where
        H: Provides<P>,
    {
        H::piece(self.request)
    }

    /// The state of type `T` given to the server with `Server::state`.
    pub fn state<T: 'static>(&self) -> Option<&'a T> {
        self.state.get::<T>()
    }

    /// The protocol generation the call arrived on.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The client the call is about.
    pub fn clientid(&self) -> &'a str {
        self.request.clientid()
    }
}

/// The value a chain of handlers passes along.
#[derive(Debug, Clone, Copy)]
pub enum ChainValue<'a> {
    /// Notification hooks have none.
    None,
    /// Authenticate and authorize: the result so far.
    Bool(bool),
    /// Publish: the message so far.
    Message(&'a Message),
}

/// What an argument that could not be made answers for the call.
///
/// On the decision hooks (authenticate and authorize), `Deny` denies and
/// `Ignore` answers as a handler returning `Decision::Ignore`; on
/// publish, `Deny` drops the message (`Publish::Drop`) and
/// `Ignore` leaves it alone; on other hooks both skip the handler. `Error`
/// fails the call with that message, and EMQX applies its
/// `failed_action`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Answer as a handler that has no opinion.
    Ignore,
    /// Answer with a refusal.
    Deny,
    /// Fail the call with this message.
    Error(String),
}

impl Rejection {
    /// A failure carrying `error`'s message.
    pub fn error(error: impl Display) -> Self {
        Rejection::Error(error.to_string())
    }
}

impl From<Infallible> for Rejection {
    fn from(never: Infallible) -> Self {
        match never {}
    }
}

/// A type handlers can take as an argument, made from the call.
///
/// Implement it once for your own type, and every hook whose event
/// provides what it needs can take it. The built-in arguments (`&ClientInfo`,
/// `&Message`, `State<T>`, `Version`, …) are implemented the same way.
///
/// ```
/// use exhook_runtime::hooks::{HookPoint, Provides};
/// use exhook_runtime::prelude::*;
///
/// /// The tenant of a `tenant:user` user name.
/// struct Tenant(String);
///
/// impl<'a, H: Provides<ClientInfo>> FromCall<'a, H> for Tenant {
///     type Rejection = Rejection;
///
///     async fn from_call(call: Call<'a, H>) -> Result<Self, Rejection> {
///         let client: &ClientInfo = call.piece();
///         match client.username.split_once(':') {
///             Some((tenant, _)) => Ok(Tenant(tenant.to_owned())),
///             None => Err(Rejection::Deny),
///         }
///     }
/// }
/// ```
///
/// A look-up, asynchronous, with a rejection type of its own: a device from
/// a cache in the server's state, by the call's client id.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Arc;
///
/// use exhook_runtime::hooks::HookPoint;
/// use exhook_runtime::prelude::*;
/// use tokio::sync::RwLock;
///
/// #[derive(Clone)]
/// struct Device { model: String }
///
/// type DeviceCache = Arc<RwLock<HashMap<String, Device>>>;
///
/// /// Why a call has no device.
/// enum NoDevice { Unregistered, NoCache }
///
/// impl From<NoDevice> for Rejection {
///     fn from(reason: NoDevice) -> Rejection {
///         match reason {
///             // An unregistered device is refused: its login, its
///             // authorization, its messages.
///             NoDevice::Unregistered => Rejection::Deny,
///             NoDevice::NoCache => Rejection::error("the server has no device cache"),
///         }
///     }
/// }
///
/// // Any hook: every call has a client id.
/// impl<'a, H: HookPoint> FromCall<'a, H> for Device {
///     type Rejection = NoDevice;
///
///     async fn from_call(call: Call<'a, H>) -> Result<Self, NoDevice> {
///         let cache: &DeviceCache = call.state().ok_or(NoDevice::NoCache)?;
///         let devices = cache.read().await;
///         devices.get(call.clientid()).cloned().ok_or(NoDevice::Unregistered)
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an argument `#[{H}]` can provide",
    label = "not provided by this hook",
    note = "what each hook provides is listed in `exhook_runtime::hooks::{H}`"
)]
pub trait FromCall<'a, H: HookPoint>: Sized {
    /// What a failed extraction answers.
    type Rejection: Into<Rejection>;

    /// Makes the argument. A synchronous implementation returns a ready
    /// future, which costs nothing to await.
    fn from_call(
        call: Call<'a, H>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send + 'a;

    /// The state type this argument needs, checked when the server starts.
    fn state_type() -> Option<StateType> {
        None
    }

    /// How the argument uses a publish call's message. Arguments that never
    /// look at it let a handler that takes the message by value have it
    /// moved rather than copied.
    #[doc(hidden)]
    const MESSAGE: MessageUse = MessageUse::Reads;
}

/// What the runtime knows about an argument type: the state it needs, and
/// how it uses a publish call's message.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct ArgFacts {
    pub(crate) state: Option<StateType>,
    pub(crate) message: MessageUse,
}

impl ArgFacts {
    /// The facts of an argument type that is no argument of the hook (the
    /// handler does not compile then; this only keeps the error single).
    pub const UNKNOWN: ArgFacts = ArgFacts {
        state: None,
        message: MessageUse::Reads,
    };

    /// The facts of `T` as an argument of `H`.
    pub fn of<'a, H: HookPoint, T: FromCall<'a, H>>() -> ArgFacts {
        ArgFacts {
            state: T::state_type(),
            message: T::MESSAGE,
        }
    }
}

/// How an argument uses a publish call's message.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageUse {
    /// It never looks at the message.
    Ignores,
    /// It may read the message (the default for types it does not know).
    Reads,
    /// It takes the message by value.
    Takes,
}

/// The parts of a request that arguments take by reference or as a copy.
trait Piece: Clone + Sync + 'static {}

impl Piece for ClientInfo {}
impl Piece for ConnInfo {}
impl Piece for SubOpts {}
impl Piece for RequestMeta {}
impl Piece for BrokerInfo {}

impl<'a, H, P> FromCall<'a, H> for &'a P
where
    H: HookPoint + Provides<P>,
    P: Piece,
{
    type Rejection = Infallible;
    const MESSAGE: MessageUse = MessageUse::Ignores;

    fn from_call(call: Call<'a, H>) -> impl Future<Output = Result<Self, Infallible>> + Send {
        ready(Ok(call.piece()))
    }
}

/// An owned copy of a part of the request, for each part.
fn copy<H: Provides<P>, P: Piece>(call: Call<'_, H>) -> std::future::Ready<Result<P, Infallible>> {
    ready(Ok(call.piece::<P>().clone()))
}

impl<H: Provides<ClientInfo>> FromCall<'_, H> for ClientInfo {
    type Rejection = Infallible;
    const MESSAGE: MessageUse = MessageUse::Ignores;

    fn from_call(call: Call<'_, H>) -> impl Future<Output = Result<Self, Infallible>> + Send {
        copy(call)
    }
}

impl<H: Provides<ConnInfo>> FromCall<'_, H> for ConnInfo {
    type Rejection = Infallible;
    const MESSAGE: MessageUse = MessageUse::Ignores;

    fn from_call(call: Call<'_, H>) -> impl Future<Output = Result<Self, Infallible>> + Send {
        copy(call)
    }
}

impl<H: Provides<SubOpts>> FromCall<'_, H> for SubOpts {
    type Rejection = Infallible;
    const MESSAGE: MessageUse = MessageUse::Ignores;

    fn from_call(call: Call<'_, H>) -> impl Future<Output = Result<Self, Infallible>> + Send {
        copy(call)
    }
}

impl<H: Provides<RequestMeta>> FromCall<'_, H> for RequestMeta {
    type Rejection = Infallible;
    const MESSAGE: MessageUse = MessageUse::Ignores;

    fn from_call(call: Call<'_, H>) -> impl Future<Output = Result<Self, Infallible>> + Send {
        copy(call)
    }
}

impl<H: Provides<BrokerInfo>> FromCall<'_, H> for BrokerInfo {
    type Rejection = Infallible;
    const MESSAGE: MessageUse = MessageUse::Ignores;

    fn from_call(call: Call<'_, H>) -> impl Future<Output = Result<Self, Infallible>> + Send {
        copy(call)
    }
}

/// The message so far: on publish, what the previous handler
/// continued with, or the message as EMQX sent it.
impl<'a, H> FromCall<'a, H> for &'a Message
where
    H: HookPoint + Provides<Message>,
{
    type Rejection = Infallible;

    fn from_call(call: Call<'a, H>) -> impl Future<Output = Result<Self, Infallible>> + Send {
        ready(Ok(match call.value {
            ChainValue::Message(message) => message,
            _ => call.piece(),
        }))
    }
}

/// The message so far, by value: moved to the handler when nothing else
/// needs it, else a copy (its payload is shared, not copied).
impl<'a, H> FromCall<'a, H> for Message
where
    H: HookPoint + Provides<Message>,
{
    type Rejection = Infallible;
    const MESSAGE: MessageUse = MessageUse::Takes;

    fn from_call(call: Call<'a, H>) -> impl Future<Output = Result<Self, Infallible>> + Send {
        let owned = call
            .owned
            .and_then(|slot| slot.lock().ok().and_then(|mut slot| slot.take()));
        ready(Ok(owned.unwrap_or_else(|| {
            match call.value {
                ChainValue::Message(message) => message,
                _ => call.piece(),
            }
            .clone()
        })))
    }
}

/// The result so far of an authenticate or authorize chain: what EMQX's own
/// chain decided (the request's `result`), as changed by earlier handlers
/// that answered [`Decision::Continue`](crate::Decision::Continue).
///
/// ```
/// use exhook_runtime::prelude::*;
///
/// #[on_client_authenticate]
/// async fn keep_denials(ChainResult(allowed): ChainResult) -> Decision {
///     if allowed { Decision::Ignore } else { Decision::Deny }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainResult(pub bool);

impl<H: HookPoint<Kind = crate::kind::Decide>> FromCall<'_, H> for ChainResult {
    type Rejection = Infallible;
    const MESSAGE: MessageUse = MessageUse::Ignores;

    fn from_call(call: Call<'_, H>) -> impl Future<Output = Result<Self, Infallible>> + Send {
        ready(Ok(ChainResult(match call.value {
            ChainValue::Bool(value) => value,
            _ => matches!(call.request.chain_start(), ChainValue::Bool(true)),
        })))
    }
}

impl<H: HookPoint> FromCall<'_, H> for Version {
    type Rejection = Infallible;
    const MESSAGE: MessageUse = MessageUse::Ignores;

    fn from_call(call: Call<'_, H>) -> impl Future<Output = Result<Self, Infallible>> + Send {
        ready(Ok(call.version))
    }
}

impl<H: HookPoint, T: StateValue> FromCall<'_, H> for State<T> {
    type Rejection = Rejection;
    const MESSAGE: MessageUse = MessageUse::Ignores;

    fn from_call(call: Call<'_, H>) -> impl Future<Output = Result<Self, Rejection>> + Send {
        // The server checks at start that every state a handler takes was
        // given, so this fails only for a server built around that check.
        ready(call.state::<T>().cloned().map(State).ok_or_else(|| {
            Rejection::Error(format!(
                "no state of type `{}`; give it with `Server::state`",
                std::any::type_name::<T>()
            ))
        }))
    }

    fn state_type() -> Option<StateType> {
        Some(StateType::of::<T>())
    }
}
