//! Everything a handler file needs, in one import:
//! `use exhook_runtime::prelude::*;`.
//!
//! It holds the hook attributes and [`provider!`](crate::provider), the
//! [`Server`], what handlers return ([`Decision`], [`Publish`],
//! [`Advertise`]), the arguments every hook offers ([`State`],
//! [`ChainResult`], [`Version`]), every event and request type a hook hands
//! over, [`TopicFilter`], [`Error`], and [`FromCall`] for arguments of your
//! own.
//!
//! ```
//! use exhook_runtime::prelude::*;
//!
//! #[on_client_authorize(topic = "devices/#")]
//! async fn acl(client: &ClientInfo, action: AuthorizeAction, request: &ClientAuthorizeRequest) -> Decision {
//!     let own = format!("devices/{}/", client.clientid);
//!     match action {
//!         AuthorizeAction::Publish if request.topic.starts_with(&own) => Decision::Allow,
//!         _ => Decision::Deny,
//!     }
//! }
//!
//! let _server = Server::new(provider![acl]);
//! ```

pub use crate::event::*;
pub use crate::{
    Advertise, Call, ChainResult, Decision, Error, FromCall, Hook, HookSet, Provider, Publish,
    Rejection, Server, State, TopicFilter, Version,
};

#[cfg(feature = "macros")]
pub use exhook_macros::*;
