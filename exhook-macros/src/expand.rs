//! Expansion of a hook attribute: the function as written, plus a
//! same-named braced struct implementing the runtime's `Handler`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr, ReturnType};

use crate::args::{self, HookArgs};
use crate::errors::Errors;
use crate::handler_fn::{self, HandlerFn};
use crate::hooks::HookDef;
use crate::topics;

/// The whole attribute: parse, check, expand; on any error the function
/// is still emitted unchanged, with the errors and a stub `Handler` so that
/// `provider!` lists using it raise nothing more.
pub(crate) fn hook_attribute(hook: HookDef, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = args::parse(hook, args, &mut errors);
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            errors.push(syn::Error::new(
                first_span(&item),
                format!("`#[{}]` goes on an `async fn`", hook.attribute),
            ));
            let errors = errors.finish();
            return quote!(#item #errors);
        }
    };
    topics::check(hook, &args.topics, &mut errors);
    let handler = handler_fn::check(hook, &function, &mut errors);
    let runtime = runtime_path(&args);
    if errors.is_empty() {
        let handler_impl = handler_impl(hook, &args, &handler, &runtime);
        quote!(#function #handler_impl)
    } else {
        let is_method = function
            .sig
            .inputs
            .iter()
            .any(|input| matches!(input, syn::FnArg::Receiver(_)));
        let stub = if is_method {
            TokenStream::new()
        } else {
            stub_impl(hook, &handler, &runtime)
        };
        // `const async fn` is also rustc's own error; reported once is enough.
        let mut function = function;
        function.sig.constness = None;
        let errors = errors.finish();
        quote!(#function #stub #errors)
    }
}

fn first_span(item: &TokenStream) -> Span {
    item.clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |token| token.span())
}

fn runtime_path(args: &HookArgs) -> TokenStream {
    match &args.runtime {
        Some(path) => quote!(#path),
        None => quote!(::exhook_runtime),
    }
}

/// The handle type `provider!` lists: a braced struct, which lives in the
/// type namespace only, so the function keeps its name and stays callable.
fn handle_struct(handler: &HandlerFn) -> TokenStream {
    let HandlerFn { name, vis, .. } = handler;
    let doc = format!("The handle `provider!` uses for the handler [`{name}()`].");
    quote! {
        #[doc = #doc]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #name {}
    }
}

fn spec(
    hook: HookDef,
    handler: &HandlerFn,
    topics: &[LitStr],
    states: TokenStream,
    rt: &TokenStream,
) -> TokenStream {
    let variant = format_ident!("{}", hook.variant);
    let name = handler.name.to_string();
    quote! {
        const SPEC: #rt::__private::HandlerSpec = #rt::__private::HandlerSpec::__new(
            #rt::__private::Hook::#variant,
            #name,
            #rt::__private::concat!(#rt::__private::module_path!(), "::", #name),
            &[#(#topics),*],
            &[#states],
        );
        const ENTRY: #rt::__private::HandlerEntry = #rt::__private::HandlerEntry::__new(
            Self::SPEC,
            #rt::__private::register::#variant::<Self>,
        );
    }
}

fn handler_impl(
    hook: HookDef,
    args: &HookArgs,
    handler: &HandlerFn,
    rt: &TokenStream,
) -> TokenStream {
    let variant = format_ident!("{}", hook.variant);
    let method = format_ident!("{}", hook.attribute);
    let name = &handler.name;
    let values: Vec<_> = (0..handler.arg_types.len())
        .map(|index| format_ident!("__exhook_arg{}", index))
        .collect();
    let extracts = handler.arg_types.iter().zip(&values).map(|(ty, value)| {
        quote_spanned! {ty.span()=>
            let #value = <#ty as #rt::__private::args::#variant<'__exhook>>::extract(call);
        }
    });
    let states = handler.arg_types.iter().map(|ty| {
        quote! {
            || {
                #[allow(unused_imports)]
                use #rt::__private::{Generic as _, Specific as _};
                (&&#rt::__private::Probe::<#ty>::new()).facts()
            },
        }
    });
    let states = quote!(#(#states)*);
    let output_span = match &handler.output {
        ReturnType::Default => handler.name.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let convert = quote_spanned! {output_span=>
        #rt::__private::into::#variant(__exhook_output)
    };
    let handle = handle_struct(handler);
    let spec = spec(hook, handler, &args.topics, states, rt);
    quote! {
        #handle

        impl #rt::__private::Handler for #name {
            #spec

            #[inline]
            fn #method<'__exhook>(
                call: #rt::__private::Call<'__exhook, #rt::__private::req::#variant>,
            ) -> impl #rt::__private::Future<Output = #rt::__private::out::#variant>
                   + #rt::__private::Send + '__exhook {
                #(#extracts)*
                async move {
                    let __exhook_output = #name(#(#values?),*).await;
                    #convert
                }
            }
        }
    }
}

/// What stands in for the `Handler` impl when the attribute has errors.
fn stub_impl(hook: HookDef, handler: &HandlerFn, rt: &TokenStream) -> TokenStream {
    let handle = handle_struct(handler);
    let name = &handler.name;
    let spec = spec(hook, handler, &[], TokenStream::new(), rt);
    quote! {
        #handle
        impl #rt::__private::Handler for #name {
            #spec
        }
    }
}
