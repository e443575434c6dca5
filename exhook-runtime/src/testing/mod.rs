//! An EMQX stand-in for tests: load providers, drive clients through their
//! lifecycle, and read back what EMQX would have done. Enable the
//! `testing` feature in `[dev-dependencies]`.
//!
//! ```
//! use exhook_runtime::testing::{TestBroker, Transport};
//! use exhook_runtime::prelude::*;
//!
//! #[on_client_authenticate]
//! async fn auth(client: &ClientInfo) -> Decision {
//!     if client.password == "letmein" { Decision::Allow } else { Decision::Deny }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! for transport in [Transport::InProcess, Transport::Grpc(Version::V3), Transport::Grpc(Version::V1)] {
//!     let broker = TestBroker::builder()
//!         .transport(transport)
//!         .provider(Server::new(provider![auth]))
//!         .start()
//!         .await
//!         .unwrap();
//!     assert!(broker.client("c1").password("letmein").connect().await.is_allowed());
//!     assert!(!broker.client("c2").password("guess").connect().await.is_allowed());
//! }
//! # }
//! ```
//!
//! What the broker does, as EMQX 5.9 does:
//!
//! * it loads every provider first (`OnProviderLoaded` with broker info and
//!   a cluster name) and then calls only the hooks each one advertised;
//! * it sends `message.*` hooks only for topics matching the advertised
//!   filters, and never for `$SYS/…` topics;
//! * it reads `ValuedResponse` as EMQX does (`IGNORE`, `CONTINUE`,
//!   `STOP_AND_RETURN`; a missing or wrong value counts as `IGNORE`, with a
//!   warning in [`TestBroker::warnings`]);
//! * a call that fails or outlives `request_timeout` gets the provider's
//!   [`FailedAction`]: `Deny` (EMQX's default) refuses the login or the
//!   access and keeps a message unchanged; `Ignore` skips the provider;
//! * several providers are called in the order they were added.

mod broker;
mod client;
mod link;

pub use broker::{
    Answered, FailedAction, HookCall, ProviderAnswer, TestBroker, TestBrokerBuilder, Transport,
    Valued,
};

/// The old name of [`HookCall`], which `exhook_runtime::Call` (what handler
/// arguments are made from) now shares.
#[deprecated(since = "0.2.0", note = "renamed `HookCall`")]
pub type Call = HookCall;
pub use client::{Access, ConnectOutcome, PublishOutcome, TestClient};
