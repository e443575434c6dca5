//! Collects every error of one macro call, so one compile reports them all.

use proc_macro2::TokenStream;

/// Errors found so far. Converting it with [`Errors::finish`] is the only
/// way to get rid of it: dropping it with errors unreported panics, so no
/// error is forgotten.
#[derive(Default)]
pub(crate) struct Errors {
    errors: Option<syn::Error>,
}

impl Drop for Errors {
    fn drop(&mut self) {
        if self.errors.is_some() && !std::thread::panicking() {
            panic!("exhook-macros: errors were collected and never reported");
        }
    }
}

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.errors {
            Some(errors) => errors.combine(error),
            None => self.errors = Some(error),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_none()
    }

    /// `compile_error!` invocations for every error (nothing when none).
    pub(crate) fn finish(mut self) -> TokenStream {
        self.errors
            .take()
            .map(|errors| errors.to_compile_error())
            .unwrap_or_default()
    }
}
