//! The protocol generations, from `exhook-hooks`.

pub use exhook_hooks::Version;
