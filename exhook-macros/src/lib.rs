//! The hook attributes and `provider!` of exhook.
//!
//! Use them through `exhook-runtime`, which re-exports everything here; the
//! generated code names only `::exhook_runtime` (or the path given with
//! `crate = "…"`).

#![warn(missing_docs)]

mod args;
mod errors;
mod expand;
mod handler_fn;
mod provider;
mod topics;

use proc_macro::TokenStream;

/// One attribute per row of the hook table.
macro_rules! hook_attributes {
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
        /// Put it on an `async fn`; the function stays callable and awaitable
        /// as written, and returns `impl exhook_runtime::HandlerFuture`.
        /// Options: `crate = "path"` names `exhook_runtime` when the
        /// dependency was renamed. What its handlers take and return is on
        /// its page in `exhook_runtime`.
        #[proc_macro_attribute]
        pub fn $attribute(args: TokenStream, item: TokenStream) -> TokenStream {
            expand::hook_attribute(exhook_hooks::Hook::$variant, args.into(), item.into()).into()
        }
    )*};
}
exhook_hooks::hook_table!(hook_attributes);

/// The handlers one server runs: `provider![auth, acl, store]`.
///
/// Handlers of the same hook run in the order listed. Listing a handler
/// twice, or listing something that is not a handler, is a compile error.
/// When `exhook_runtime` is renamed, start with `crate = "path";`.
#[proc_macro]
pub fn provider(input: TokenStream) -> TokenStream {
    provider::provider(input.into()).into()
}

#[cfg(test)]
mod tests;
