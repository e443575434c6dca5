//! `provider![a, b, c]`: the handlers one server runs, in order.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{LitStr, Path, Token};

use crate::errors::Errors;

struct ProviderInput {
    runtime: Option<Path>,
    handlers: Punctuated<Path, Token![,]>,
}

impl Parse for ProviderInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut runtime = None;
        if input.peek(Token![crate]) && input.peek2(Token![=]) {
            input.parse::<Token![crate]>()?;
            input.parse::<Token![=]>()?;
            runtime = Some(input.parse::<LitStr>()?.parse()?);
            input.parse::<Token![;]>()?;
        }
        let handlers = Punctuated::parse_terminated(input)?;
        Ok(ProviderInput { runtime, handlers })
    }
}

/// `path` resolved among items only, and the span for the code around
/// it. A lone name gets the hygiene of `macro_rules!` (`Span::mixed_site`),
/// where the caller's local variables are not in scope, so that
/// `let auth = ..; provider![auth]` lists the function `auth`; items,
/// block-local ones too, resolve as at the caller. The code around it gets
/// the same hygiene, at the same place, so that rustc reports an error in
/// it at the name. A longer path starts with a module or a keyword, never a
/// local variable, and is left as written.
fn items_only(path: &Path) -> (Span, Path) {
    let Some(name) = path.get_ident() else {
        return (path.span(), path.clone());
    };
    let span = Span::mixed_site().located_at(name.span());
    let mut name = name.clone();
    name.set_span(span);
    (span, Path::from(name))
}

pub(crate) fn provider(input: TokenStream) -> TokenStream {
    let input: ProviderInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => {
            // An empty provider stands in, so that the code using it raises
            // nothing more than this error.
            let error = error.to_compile_error();
            return quote! {
                {
                    #error
                    ::exhook_runtime::__private::provider(&[])
                }
            };
        }
    };
    let rt = match &input.runtime {
        Some(path) => quote!(#path),
        None => quote!(::exhook_runtime),
    };
    let mut errors = Errors::default();
    let mut seen: Vec<String> = Vec::new();
    let mut unique = Vec::new();
    for path in &input.handlers {
        let text = quote!(#path).to_string();
        if seen.contains(&text) {
            errors.push(syn::Error::new_spanned(
                path,
                format!(
                    "`{text}` is listed twice; each handler runs once per call, so list it once"
                ),
            ));
        } else {
            seen.push(text);
            unique.push(path);
        }
    }
    // Each handler is named once, as a value: the function itself, whose
    // future names its handle (see `Listed`). A function without a hook
    // attribute is then reported where it is listed, by `Listed`'s message;
    // naming the handle type instead would make it rustc's "expected type,
    // found function". The helper's names start with `__exhook` so that no
    // handler's name is shadowed by them. Its bound names `Listed` through
    // an import spanned at the path, so that the bound rustc points to is
    // there, not in the runtime's source.
    let entries = unique.iter().map(|path| {
        let (span, path) = items_only(path);
        quote_spanned! {span=>
            {
                use #rt::__private::Listed as __ExhookListed;
                const fn __exhook_entry<Function, Args>(
                    _: &Function,
                ) -> #rt::__private::HandlerEntry
                where
                    Function: __ExhookListed<Args>,
                {
                    <Function::Handle as #rt::__private::Handler>::ENTRY
                }
                __exhook_entry(&#path)
            }
        }
    });
    // The same handler under two paths (`auth`, `crate::auth`) is found
    // only once the paths are resolved: by a `const` per later handler,
    // failing at its path.
    let unique_checks = unique.iter().enumerate().skip(1).map(|(index, path)| {
        let text = quote!(#path).to_string().replace(' ', "");
        let message = format!(
            "`{text}` is a handler listed before under another path; each handler runs once per call, so list it once"
        );
        quote_spanned! {path.span()=>
            const _: () = if #rt::__private::listed_before(HANDLERS, #index) {
                ::core::panic!(#message)
            };
        }
    });
    let errors = errors.finish();
    quote! {
        {
            #errors
            const HANDLERS: &[#rt::__private::HandlerEntry] = &[#(#entries),*];
            #(#unique_checks)*
            #rt::__private::provider(HANDLERS)
        }
    }
}
