//! What handlers return, and how it becomes EMQX's answer.

use std::fmt::Display;

use tonic::Status;

use crate::event::Message;
use crate::hook::HookSet;

/// The answer of an authenticate or authorize handler.
///
/// Handlers of one hook run in registration order, the way EMQX chains its
/// callbacks: `Ignore` passes the current result on unchanged, `Continue`
/// passes a new one on, `Allow` and `Deny` end the chain.
///
/// ```
/// use exhook_runtime::prelude::*;
///
/// #[on_client_authenticate]
/// async fn admins_only(client: &ClientInfo) -> Decision {
///     match client.username.as_str() {
///         "admin" => Decision::Allow,
///         "" => Decision::Deny,
///         _ => Decision::Ignore,
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allow, and stop the chain (`STOP_AND_RETURN` with `true`).
    Allow,
    /// Deny, and stop the chain (`STOP_AND_RETURN` with `false`).
    Deny,
    /// No opinion: the result so far goes on unchanged (`IGNORE`).
    Ignore,
    /// Set the result and let later handlers and callbacks decide (`CONTINUE`).
    Continue(bool),
}

/// The answer of an `on_message_publish` handler.
///
/// A rewritten message starts from the one the handler received, because EMQX
/// reads `qos`, `topic` and `payload` back from the answer: take the message
/// by value, change it, and return it.
///
/// ```
/// use exhook_runtime::prelude::*;
///
/// #[on_message_publish(topic = "sensors/#")]
/// async fn redact(mut msg: Message) -> Publish {
///     if msg.payload.starts_with(b"secret") {
///         return Publish::Drop;
///     }
///     msg.headers.insert("checked".into(), "yes".into());
///     Publish::Continue(msg)
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Publish {
    /// No opinion: the message goes on unchanged (`IGNORE`).
    Ignore,
    /// Go on with this message (`CONTINUE`).
    Continue(Message),
    /// Publish this message and stop the chain (`STOP_AND_RETURN`).
    Stop(Message),
    /// Do not publish the message (`STOP_AND_RETURN` with header
    /// `allow_publish = "false"`); the chain stops. The answer carries the
    /// message so far, whose topic and payload EMQX shows in its log and
    /// trace of the dropped message.
    Drop,
}

/// The answer of an `on_provider_loaded` handler: which of the registered
/// hooks to advertise to the EMQX node that is loading the provider.
///
/// ```
/// use exhook_runtime::prelude::*;
///
/// #[on_provider_loaded]
/// async fn per_cluster(meta: &RequestMeta) -> Advertise {
///     if meta.cluster_name == "edge" {
///         Advertise::Only(Hook::advertisable().filter(|h| h.is_client_hook()).collect())
///     } else {
///         Advertise::All
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Advertise {
    /// Every registered hook.
    #[default]
    All,
    /// The registered hooks that are also in this set.
    Only(HookSet),
}

/// Turns a handler's error into the gRPC status EMQX sees, which makes EMQX
/// apply the server's `failed_action`.
fn error_status(error: impl Display) -> Status {
    Status::unknown(error.to_string())
}

/// Return types of notification handlers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from `#[{H}]`, a notification hook",
    label = "return `()` or `Result<(), E>` here",
    note = "notification hooks return `()` or `Result<(), E>` with `E: Display`"
)]
pub trait NotifyOutput<H> {
    /// Converts into the call's result.
    fn into_answer(self) -> Result<(), Status>;
}

#[diagnostic::do_not_recommend]
impl<H> NotifyOutput<H> for () {
    #[inline]
    fn into_answer(self) -> Result<(), Status> {
        Ok(())
    }
}

#[diagnostic::do_not_recommend]
impl<H, E: Display> NotifyOutput<H> for Result<(), E> {
    #[inline]
    fn into_answer(self) -> Result<(), Status> {
        self.map_err(error_status)
    }
}

/// Return types of authenticate and authorize handlers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from `#[{H}]`",
    label = "return `Decision` or `Result<Decision, E>` here",
    note = "use `Decision::Allow`, `Decision::Deny`, `Decision::Ignore` or `Decision::Continue(bool)`"
)]
pub trait DecisionOutput<H> {
    /// Converts into the call's result.
    fn into_answer(self) -> Result<Decision, Status>;
}

#[diagnostic::do_not_recommend]
impl<H> DecisionOutput<H> for Decision {
    #[inline]
    fn into_answer(self) -> Result<Decision, Status> {
        Ok(self)
    }
}

#[diagnostic::do_not_recommend]
impl<H, E: Display> DecisionOutput<H> for Result<Decision, E> {
    #[inline]
    fn into_answer(self) -> Result<Decision, Status> {
        self.map_err(error_status)
    }
}

/// Return types of publish handlers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from `#[{H}]`",
    label = "return `Publish` or `Result<Publish, E>` here",
    note = "use `Publish::Continue(msg)`, `Publish::Stop(msg)`, `Publish::Drop` or `Publish::Ignore`"
)]
pub trait PublishOutput<H> {
    /// Converts into the call's result.
    fn into_answer(self) -> Result<Publish, Status>;
}

#[diagnostic::do_not_recommend]
impl<H> PublishOutput<H> for Publish {
    #[inline]
    fn into_answer(self) -> Result<Publish, Status> {
        Ok(self)
    }
}

#[diagnostic::do_not_recommend]
impl<H, E: Display> PublishOutput<H> for Result<Publish, E> {
    #[inline]
    fn into_answer(self) -> Result<Publish, Status> {
        self.map_err(error_status)
    }
}

/// Return types of provider-loaded handlers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from `#[{H}]`",
    label = "return `()`, `Advertise` or a `Result` of either here",
    note = "`()` advertises every registered hook; `Advertise::Only(set)` narrows the list"
)]
pub trait LoadedOutput<H> {
    /// Converts into the call's result.
    fn into_answer(self) -> Result<Advertise, Status>;
}

#[diagnostic::do_not_recommend]
impl<H> LoadedOutput<H> for () {
    #[inline]
    fn into_answer(self) -> Result<Advertise, Status> {
        Ok(Advertise::All)
    }
}

#[diagnostic::do_not_recommend]
impl<H> LoadedOutput<H> for Advertise {
    #[inline]
    fn into_answer(self) -> Result<Advertise, Status> {
        Ok(self)
    }
}

#[diagnostic::do_not_recommend]
impl<H, E: Display> LoadedOutput<H> for Result<(), E> {
    #[inline]
    fn into_answer(self) -> Result<Advertise, Status> {
        self.map(|()| Advertise::All).map_err(error_status)
    }
}

#[diagnostic::do_not_recommend]
impl<H, E: Display> LoadedOutput<H> for Result<Advertise, E> {
    #[inline]
    fn into_answer(self) -> Result<Advertise, Status> {
        self.map_err(error_status)
    }
}
