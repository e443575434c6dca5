//! The hook points EMQX can call, from the table in `exhook-hooks`.

pub use exhook_hooks::{Hook, HookSet};
