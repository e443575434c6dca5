//! Write EMQX ExHook providers in Rust: put one attribute on a plain
//! `async fn` per hook, list the functions once, and serve every EMQX
//! generation (4.x on `emqx.exhook.v1`, 5.0–5.8 on `v2`, 5.9+ on `v3`) from
//! one binary.
//!
//! ```no_run
//! use exhook_runtime::{on_client_authenticate, on_message_publish, provider};
//! use exhook_runtime::{ClientInfo, Decision, Message, Publish, Server};
//!
//! #[on_client_authenticate]
//! async fn auth(client: &ClientInfo) -> Decision {
//!     if client.username == "admin" { Decision::Allow } else { Decision::Ignore }
//! }
//!
//! #[on_message_publish(topic = "sensors/#")]
//! async fn tag(mut msg: Message) -> Publish {
//!     msg.headers.insert("seen-by".into(), "exhook".into());
//!     Publish::Continue(msg)
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), exhook_runtime::Error> {
//!     Server::new(provider![auth, tag]).serve().await
//! }
//! ```
//!
//! # Handlers
//!
//! Each hook attribute (`#[on_client_connect]`, `#[on_message_publish]`, …,
//! one per EMQX hook point) goes on an `async fn`. The function stays an
//! ordinary function that tests can call. Its arguments are the pieces of the
//! event it needs — `&ClientInfo`, `&ConnInfo`, `&Message`, `&RequestMeta`,
//! the whole request, [`ChainResult`], [`Version`] — and any [`State<T>`].
//! Its return type says what the hook can answer:
//!
//! | hooks | return |
//! |---|---|
//! | `on_client_authenticate`, `on_client_authorize` | [`Decision`] or `Result<Decision, E>` |
//! | `on_message_publish` | [`Publish`] or `Result<Publish, E>` |
//! | `on_provider_loaded` | `()`, [`Advertise`], or a `Result` of either |
//! | every other hook | `()` or `Result<(), E>` |
//!
//! An `Err(e)` becomes a gRPC error carrying `e.to_string()`, and EMQX then
//! applies the server's `failed_action`. A panic fails that call alone with
//! `INTERNAL`.
//!
//! # Registration
//!
//! [`provider!`] lists the handlers explicitly. An explicit list was chosen
//! over link-time collection because it is visible in `main`, works on every
//! platform, fixes the order in which handlers of one hook run, and lets the
//! compiler reject a handler listed twice. From the list, the hooks and topic
//! filters advertised to EMQX are a constant ([`Provider::hooks`] is a `const fn`).
//!
//! # Topics
//!
//! `topic = "a/#"` (or `topic = ["a/#", "b/+"]`) is checked at compile time
//! with the rules of [`TopicFilter`]. On the four `message.*` hooks the
//! filters are sent to EMQX, merged per hook, and matched again locally so
//! each handler sees only its own topics. On `client.authorize` (the topic),
//! `session.subscribed` / `session.unsubscribed` (the subscribed filter) and
//! `client.subscribe` / `client.unsubscribe` (each filter of the request)
//! they are matched locally only. A subscribed filter is matched as if it
//! were a topic, after `$share/<group>/`, `$queue/` or `$exclusive/` is
//! removed: `topic = "jobs/#"` sees a subscription to `$share/g/jobs/+`.

mod accept;
mod compat;
mod connection;
mod deadline;
mod dispatch;
mod error;
pub mod event;
mod extract;
mod handler;
mod hook;
mod limits;
mod log;
mod metrics;
mod outcome;
pub mod proto;
mod provider;
mod route;
mod server;
mod service;
mod shutdown;
mod span;
mod state;
mod supervise;
#[cfg(feature = "testing")]
pub mod testing;
mod tls;
mod topic;
mod version;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use deadline::OnTimeout;
pub use error::Error;
pub use event::{ClientInfo, ConnInfo, Message, RequestMeta};
pub use extract::ChainResult;
pub use handler::{Handler, HandlerEntry, HandlerSpec};
pub use hook::{Hook, HookSet};
pub use outcome::{Advertise, Decision, Publish};
pub use provider::{LoadedHooks, Provider};
pub use server::{DEFAULT_DRAIN, DEFAULT_LISTEN, Server};
pub use shutdown::ShutdownHandle;
pub use state::State;
pub use tls::TlsConfig;
pub use topic::{TopicFilter, TopicFilterError, TopicFilterErrorKind};
pub use version::Version;

#[cfg(feature = "macros")]
#[doc(inline)]
pub use exhook_macros::*;

/// The README's code blocks, compiled as doctests.
#[cfg(all(doctest, feature = "macros"))]
#[doc = include_str!("../../README.md")]
mod readme {}
