//! Write EMQX ExHook providers in Rust: put one attribute on a plain
//! `async fn` per hook, list the functions once, and serve every EMQX
//! generation (4.x on `emqx.exhook.v1`, 5.0–5.8 on `v2`, 5.9+ on `v3`) from
//! one binary.
//!
//! ```no_run
//! use exhook_runtime::prelude::*;
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
//! ordinary function that tests can call and await; its signature becomes
//! `fn(..) -> impl` [`HandlerFuture`]`<Handle = _, Output = T>`, which is how
//! [`provider!`] knows it for a handler. Its arguments are the pieces of the
//! event it needs — `&ClientInfo`, `&ConnInfo`, `&Message`, `&RequestMeta`,
//! the whole request, [`ChainResult`], [`Version`] — and any [`State<T>`].
//! Its return type says what the hook can answer:
//!
//! | hooks | return |
//! |---|---|
//! | authenticate and authorize | [`Decision`] or `Result<Decision, E>` |
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
//! compiler reject a handler listed twice, or a function without a hook
//! attribute. From the list, the hooks and topic
//! filters advertised to EMQX are a constant ([`Provider::hooks`] is a `const fn`).
//!
//! # Topics
//!
//! `topic = "a/#"` (or `topic = ["a/#", "b/+"]`) is checked at compile time
//! with the rules of [`TopicFilter`]. On the four `message.*` hooks the
//! filters are sent to EMQX, merged per hook, and matched again locally so
//! each handler sees only its own topics. On authorization (the topic),
//! the session's subscription hooks (the subscribed filter) and the client's
//! subscribe and unsubscribe (each filter of the request) they are matched
//! locally only; [`Hook::topic_source`] says where each hook's topic comes
//! from. A subscribed filter is matched as if it were a topic, after
//! `$share/<group>/`, `$queue/` or `$exclusive/` is removed:
//! `topic = "jobs/#"` sees a subscription to `$share/g/jobs/+`.
//!
//! # One table of hooks
//!
//! Every fact about a hook point (its attribute, EMQX's names and rpcs in
//! each protocol generation, its request, the kind of answer, where its
//! topic comes from, what handlers can take) is one row of the table in the
//! `exhook-hooks` crate. The attributes, the gRPC routing, span fields, topic
//! extraction, handler arguments and the test kit's calls are derived from
//! it: [`hooks`] has one marker type per hook, named after its attribute,
//! and each hook's documentation there lists what its handlers take.
//!
//! # How a call flows
//!
//! A call travels from the socket to a handler through plain functions and
//! traits, each one step:
//!
//! 1. tonic's router hands the HTTP/2 request to the `HookService` of its
//!    protocol version (`service.rs`).
//! 2. [`Hook::from_rpc`] finds the hook from the rpc name in the table
//!    (v1 names two rpcs differently).
//! 3. [`hooks::with_hook`] runs the generic `Rpc` call for the hook's
//!    marker type `H`.
//! 4. tonic decodes the body with [`hooks::Wire::decode`], as that
//!    generation lays the request out (`compat.rs` converts v1's and
//!    EMQX 5.0–5.3's layouts where they differ).
//! 5. The call gets its deadline, metrics and panic guard (`supervise.rs`)
//!    and its tracing span (`span.rs`).
//! 6. The hook's kind runs it, `HookKind::run` (`kind.rs`): notification,
//!    decision, publish or load, each running the matching handlers in order
//!    with EMQX's chain rules (`chain.rs`, `route.rs`) and the server's
//!    shared state (`Dispatcher`, `dispatch.rs`).
//! 7. Each handler is called through its `Handler::call`, written by its
//!    attribute: every argument is made by [`FromCall::from_call`], then the
//!    function runs and its return value is converted to the hook's answer.
//! 8. The kind builds EMQX's answer, which tonic encodes.

#![warn(missing_docs)]

mod accept;
mod chain;
mod compat;
mod connection;
mod deadline;
mod dispatch;
mod error;
pub mod event;
mod extract;
mod handler;
mod handler_future;
mod hook;
pub mod hooks;
mod kind;
mod limits;
mod log;
mod metrics;
pub mod middleware;
mod outcome;
pub mod prelude;
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
mod unary;
mod version;
mod write_batch;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use deadline::OnTimeout;
pub use error::Error;
pub use event::{ClientInfo, ConnInfo, Message, RequestMeta};
pub use extract::{Call, ChainResult, ChainValue, FromCall, Rejection};
// Implemented by the hook attributes only; named by generated code through
// `__private`. Kept at the root, hidden, for code that named them there.
pub use handler::HandlerSpec;
#[doc(hidden)]
pub use handler::{Handler, HandlerEntry};
pub use handler_future::HandlerFuture;
pub use hook::{Hook, HookSet};
pub use outcome::{Advertise, Decision, Publish};
pub use provider::{LoadedHooks, Provider};
#[allow(deprecated)]
pub use server::{DEFAULT_DRAIN, DEFAULT_LISTEN, Server};
pub use shutdown::ShutdownHandle;
pub use state::State;
pub use tls::TlsConfig;
/// The gRPC crate the server is built on, as it appears in signatures
/// ([`Server::into_routes`], [`Error`]).
pub use tonic;
pub use topic::{TopicFilter, TopicFilterError, TopicFilterErrorKind, subscription_topic};
/// The service and layer traits middleware implements
/// ([`Server::layer`], [`middleware`]).
pub use tower;
pub use version::Version;

/// The hook attributes, each with a page that links what its handlers
/// take and return (the macros crate cannot link this crate's types).
#[cfg(feature = "macros")]
macro_rules! reexport_attributes {
    ($(
        $variant:ident {
            attribute: $attribute:ident,
            name: $name:literal, v1_name: $v1_name:literal,
            rpc: $rpc:literal, v1_rpc: $v1_rpc:literal,
            request: $request:ident, v1_request: $v1_request:ident,
            wire: $wire:ident, answer: $answer:ident, topic: $topic:ident,
            pieces: [$($field:ident: $piece:ident),*],
            doc: $doc:literal,
        }
    )*) => {$(
        #[doc = concat!("EMQX's `", $name, "`: ", $doc)]
        ///
        #[doc = hooks::handler_doc!($attribute, $answer, $request, [$($piece),*])]
        #[doc = concat!("Its marker type is [`hooks::", stringify!($attribute), "`].")]
        ///
        #[doc(inline)]
        pub use exhook_macros::$attribute;
    )*};
}
#[cfg(feature = "macros")]
exhook_hooks::hook_table!(reexport_attributes);
#[cfg(feature = "macros")]
#[doc(inline)]
pub use exhook_macros::provider;

/// The README's code blocks, compiled as doctests.
#[cfg(all(doctest, feature = "macros"))]
#[doc = include_str!("../../README.md")]
mod readme {}
