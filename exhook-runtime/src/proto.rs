//! The ExHook protobuf types of each EMQX generation, generated from the
//! files in the repository's `proto/` folder.
//!
//! Handlers rarely need these: the [`event`](crate::event) module re-exports
//! the version-neutral types they see. The clients are useful in tests that
//! play EMQX over real gRPC.

#![allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]

/// `emqx.exhook.v1`, spoken by EMQX 4.3 and 4.4.
pub mod v1 {
    include!("proto/generated/emqx.exhook.v1.rs");
}

/// `emqx.exhook.v2`, spoken by EMQX 5.0 to 5.8.
pub mod v2 {
    include!("proto/generated/emqx.exhook.v2.rs");
}

/// `emqx.exhook.v3`, spoken by EMQX 5.9 and later. Its messages are a
/// superset of v2's, and they are the model every handler sees.
pub mod v3 {
    include!("proto/generated/emqx.exhook.v3.rs");
}
