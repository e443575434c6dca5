//! The hook attributes and `provider!` of exhook.
//!
//! Use them through `exhook-runtime`, which re-exports everything here; the
//! generated code names only `::exhook_runtime` (or the path given with
//! `crate = "…"`).

mod args;
mod errors;
mod expand;
mod handler_fn;
mod hooks;
mod provider;
mod topics;

use proc_macro::TokenStream;

macro_rules! hook_attributes {
    ($($attr:ident => $variant:ident, $topics:literal, $message:literal, $doc:literal;)*) => {$(
        #[doc = $doc]
        ///
        /// Put it on an `async fn`; the function stays callable as written.
        /// Options: `crate = "path"` names `exhook_runtime` when the
        /// dependency was renamed.
        #[doc = concat!("See the `exhook_runtime` documentation for `", stringify!($attr), "` handlers' arguments and results.")]
        #[proc_macro_attribute]
        pub fn $attr(args: TokenStream, item: TokenStream) -> TokenStream {
            expand::hook_attribute(hooks::hook(stringify!($attr)), args.into(), item.into()).into()
        }
    )*};
}
hooks::hook_defs!(hook_attributes);

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
