//! Expansion of a hook attribute: the function as written, kept inside a
//! same-named function whose future names the handler, plus a same-named
//! braced struct implementing the runtime's `Handler`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, Ident, ItemFn, LitStr, Pat, ReturnType};

use crate::args::{self, HookArgs};
use crate::errors::Errors;
use crate::handler_fn::{self, HandlerFn};
use crate::topics;
use exhook_hooks::{Answer, Hook};

/// The whole attribute: parse, check, expand. On any error the function is
/// still emitted (the user's function as written, inside a stand-in of the
/// same name whose future never completes), with the errors and a stub
/// `Handler`, so that `provider!` lists using it, and callers, raise
/// nothing more.
pub(crate) fn hook_attribute(hook: Hook, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = args::parse(hook, args, &mut errors);
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            errors.push(syn::Error::new(
                first_span(&item),
                format!("`#[{}]` goes on an `async fn`", hook.attribute()),
            ));
            let errors = errors.finish();
            return quote!(#item #errors);
        }
    };
    topics::check(hook, &args.topics, &mut errors);
    let handler = handler_fn::check(hook, &function, &mut errors);
    let runtime = runtime_path(&args);
    let is_method = function
        .sig
        .inputs
        .iter()
        .any(|input| matches!(input, syn::FnArg::Receiver(_)));
    if errors.is_empty() {
        let listed = listed_function(&function, Body::Call, &runtime);
        let handler_impl = handler_impl(hook, &args, &handler, &runtime);
        quote!(#listed #handler_impl)
    } else if is_method {
        // In an `impl` block nothing else can be emitted beside it.
        let errors = errors.finish();
        quote!(#function #errors)
    } else {
        // `const async fn` is also rustc's own error; reported once is enough.
        let mut function = function;
        function.sig.constness = None;
        let body = if handler.well_formed {
            Body::Call
        } else if handler.copyable_signature {
            Body::Pending
        } else {
            Body::PendingWithoutArguments
        };
        let listed = listed_function(&function, body, &runtime);
        let stub = stub_impl(hook, &handler, &runtime);
        let errors = errors.finish();
        quote!(#listed #stub #errors)
    }
}

/// What the function `provider!` lists does with the user's function.
#[derive(Clone, Copy, PartialEq)]
enum Body {
    /// Calls it and returns its future: the handler.
    Call,
    /// Stands in for a function that cannot be a handler as written (not
    /// `async`, say), with its arguments and return type.
    Pending,
    /// Stands in for one whose signature cannot be copied (generic, or
    /// taking `impl Trait`): no arguments, `()`.
    PendingWithoutArguments,
}

/// The user's `async fn`, unchanged but for attributes that belong to the
/// outside, inside a function of the same name, arguments and visibility
/// whose future names the handler's handle. `provider![name]` then finds
/// the handler from the function's own type, and reports a function
/// without a hook attribute where it is listed.
///
/// The return type names `HandlerFuture` at the crate's root, not through
/// `__private`: it is part of the signature users see.
///
/// The `impl` type is written here, so rustc reads it in this crate's
/// edition, 2024, where it captures every lifetime of the arguments, as
/// the `async fn` did, in a caller's crate of any edition.
fn listed_function(function: &ItemFn, body: Body, rt: &TokenStream) -> TokenStream {
    let name = &function.sig.ident;
    let fn_token = &function.sig.fn_token;
    let (outer_attrs, inner_attrs) = split_attributes(&function.attrs);
    let vis = &function.vis;
    let (generics, output, params, types) = if body == Body::PendingWithoutArguments {
        (None, quote!(()), Vec::new(), Vec::new())
    } else {
        let output = match &function.sig.output {
            ReturnType::Default => quote!(()),
            ReturnType::Type(_, ty) => quote!(#ty),
        };
        let inputs = function.sig.inputs.iter().filter_map(|input| match input {
            FnArg::Typed(arg) => Some(arg),
            FnArg::Receiver(_) => None,
        });
        let names = parameter_names(inputs.clone().map(|arg| &*arg.pat), name);
        let types = inputs.map(|arg| &*arg.ty).collect();
        (Some(&function.sig.generics), output, names, types)
    };
    let mut inner = function.clone();
    inner.attrs = inner_attrs;
    inner.vis = syn::Visibility::Inherited;
    let returned = match body {
        Body::Call => quote!(#rt::__private::Handled::new(#name(#(#params),*))),
        Body::Pending | Body::PendingWithoutArguments => quote! {
            let _ = (#(#params,)*);
            #rt::__private::Handled::new(::core::future::pending())
        },
    };
    let inner_allow = (body != Body::Call).then(|| quote!(#[allow(dead_code)]));
    // The `fn` token, the body's braces and the signature's last token are
    // the user's: rustc then takes the function and its signature for the
    // user's code, and reports lints about them there, as it did for the
    // `async fn` (`dead_code` for a handler no `provider!` lists,
    // `missing_docs`, `unreachable_pub`). The `impl` type still starts with
    // this crate's `impl`, whose edition rustc reads.
    let mut block = proc_macro2::Group::new(
        proc_macro2::Delimiter::Brace,
        quote! {
            #inner_allow
            #inner
            #returned
        },
    );
    block.set_span(function.block.brace_token.span.join());
    let mut close = proc_macro2::Punct::new('>', proc_macro2::Spacing::Alone);
    close.set_span(name.span());
    quote! {
        #(#outer_attrs)*
        #[inline]
        #vis #fn_token #name #generics (#(#params: #types),*)
            -> impl #rt::HandlerFuture<Handle = #name, Output = #output #close
        #block
    }
}

/// The function's attributes, split between the function `provider!`
/// lists and the user's own function inside it:
/// - documentation, `cfg` and deprecation go outside;
/// - lint levels apply to both, as both have the user's signature;
/// - everything else goes inside (`#[tracing::instrument]` must see the
///   `async fn`).
fn split_attributes(attrs: &[Attribute]) -> (Vec<Attribute>, Vec<Attribute>) {
    let mut outer = Vec::new();
    let mut inner = Vec::new();
    for attr in attrs {
        let path = attr.path();
        if path.is_ident("doc") || path.is_ident("cfg") || path.is_ident("deprecated") {
            outer.push(attr.clone());
        } else if ["allow", "warn", "deny", "forbid"]
            .iter()
            .any(|both| path.is_ident(both))
        {
            outer.push(attr.clone());
            inner.push(attr.clone());
        } else if path.is_ident("expect") {
            // A lint may fire on either function or both: on the signature
            // (both), the body (inside), or the function's use (`dead_code`,
            // outside). The expectation goes on both, and the one it is not
            // met on is not reported.
            let unmet: Attribute =
                syn::parse_quote_spanned!(attr.span()=> #[allow(unfulfilled_lint_expectations)]);
            outer.extend([attr.clone(), unmet.clone()]);
            inner.extend([attr.clone(), unmet]);
        } else {
            inner.push(attr.clone());
        }
    }
    (outer, inner)
}

/// The outer function's argument names: the user's where they are plain
/// names (so that documentation shows them), without leading underscores
/// (`_client` would be a used underscore binding there); a generated name
/// for patterns, and where a name would be the function's (the call inside
/// would find the argument) or another argument's.
fn parameter_names<'p>(pats: impl Iterator<Item = &'p Pat>, function: &Ident) -> Vec<Ident> {
    let wanted: Vec<Option<Ident>> = pats
        .map(|pat| match pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                let text = pat.ident.to_string();
                if text.starts_with("r#") {
                    return Some(pat.ident.clone());
                }
                // Not a name once bare (`_`, `_type`): a generated one.
                let mut bare: Ident = syn::parse_str(text.trim_start_matches('_')).ok()?;
                bare.set_span(pat.ident.span());
                Some(bare)
            }
            _ => None,
        })
        .collect();
    wanted
        .iter()
        .enumerate()
        .map(|(index, name)| match name {
            Some(name)
                if name != function
                    && wanted
                        .iter()
                        .enumerate()
                        .all(|(other, taken)| other == index || taken.as_ref() != Some(name)) =>
            {
                name.clone()
            }
            _ => format_ident!("__exhook_arg{}", index),
        })
        .collect()
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

/// The handle type the function's future names: a braced struct, which
/// lives in the type namespace only, so the function keeps its name.
fn handle_struct(handler: &HandlerFn) -> TokenStream {
    let HandlerFn { name, vis, .. } = handler;
    let doc = format!("The handle `provider!` uses for the handler [`{name}()`].");
    quote! {
        #[doc = #doc]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #name {}
    }
}

/// The span of the name in `ty`: `ClientInfo` in `&'a ClientInfo`, `State`
/// in `State<Users>`.
fn name_span(ty: &syn::Type) -> Span {
    match ty {
        syn::Type::Reference(reference) => name_span(&reference.elem),
        syn::Type::Paren(inner) => name_span(&inner.elem),
        syn::Type::Group(inner) => name_span(&inner.elem),
        syn::Type::Path(path) => path
            .path
            .segments
            .last()
            .map_or_else(|| ty.span(), |segment| segment.ident.span()),
        _ => ty.span(),
    }
}

/// The hook's marker type, such as `::exhook_runtime::hooks::on_client_connect`.
fn marker(hook: Hook, rt: &TokenStream) -> TokenStream {
    let attribute = format_ident!("{}", hook.attribute());
    quote!(#rt::hooks::#attribute)
}

fn spec(
    hook: Hook,
    handler: &HandlerFn,
    topics: &[LitStr],
    states: TokenStream,
    rt: &TokenStream,
) -> TokenStream {
    let marker = marker(hook, rt);
    let name = handler.name.to_string();
    quote! {
        type Hook = #marker;

        const SPEC: #rt::__private::HandlerSpec = #rt::__private::handler_spec(
            <#marker as #rt::__private::HookPoint>::HOOK,
            #name,
            #rt::__private::concat!(#rt::__private::module_path!(), "::", #name),
            &[#(#topics),*],
            &[#states],
        );
    }
}

/// The trait that converts what a handler of `hook` returns.
fn output_trait(hook: Hook) -> proc_macro2::Ident {
    format_ident!(
        "{}",
        match hook.answer() {
            Answer::Notify => "NotifyOutput",
            Answer::Decide => "DecisionOutput",
            Answer::Publish => "PublishOutput",
            Answer::Load => "LoadedOutput",
        }
    )
}

fn handler_impl(hook: Hook, args: &HookArgs, handler: &HandlerFn, rt: &TokenStream) -> TokenStream {
    let marker = marker(hook, rt);
    let name = &handler.name;
    let values: Vec<_> = (0..handler.arg_types.len())
        .map(|index| format_ident!("__exhook_arg{}", index))
        .collect();
    // Each argument is made by its `FromCall` impl (through `HandlerArgument`),
    // spanned at its type so that an argument the hook cannot provide is
    // reported there.
    let extracts = handler.arg_types.iter().zip(&values).map(|(ty, value)| {
        // One span for the whole extraction, that of the type's name, so
        // that an argument the hook cannot provide is one error there.
        let span = name_span(ty);
        quote_spanned! {span=>
            let #value = match <#ty as #rt::__private::HandlerArgument<'__exhook, #marker>>::make(__exhook_call).await {
                ::core::result::Result::Ok(value) => value,
                ::core::result::Result::Err(rejection) => {
                    return #rt::__private::reject::<#marker>(rejection);
                }
            };
        }
    });
    let states = handler.arg_types.iter().map(|ty| {
        quote! {
            || {
                #[allow(unused_imports)]
                use #rt::__private::{Argument as _, NotAnArgument as _};
                (&&#rt::__private::ArgProbe::<#ty, #marker>::new()).facts()
            },
        }
    });
    let states = quote!(#(#states)*);
    let output_span = match &handler.output {
        ReturnType::Default => handler.name.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let output = output_trait(hook);
    let convert = quote_spanned! {output_span=>
        <_ as #rt::__private::#output<#marker>>::into_answer(__exhook_output)
    };
    let handle = handle_struct(handler);
    let spec = spec(hook, handler, &args.topics, states, rt);
    quote! {
        #handle

        impl #rt::__private::Sealed for #name {}

        // Not suggested when something else listed in `provider!` is not a
        // handler: rustc would list every handler, quoting each one.
        #[diagnostic::do_not_recommend]
        // A deprecated handler is reported where the user calls or lists it,
        // not here.
        #[allow(deprecated)]
        impl #rt::__private::Handler for #name {
            #spec

            #[inline]
            fn call<'__exhook>(
                __exhook_call: #rt::__private::Call<'__exhook, #marker>,
            ) -> impl #rt::__private::Future<
                Output = ::core::result::Result<#rt::__private::Answer<#marker>, #rt::__private::Status>,
            > + #rt::__private::Send + '__exhook {
                async move {
                    #(#extracts)*
                    let __exhook_output = #name(#(#values),*).await;
                    #convert
                }
            }
        }
    }
}

/// What stands in for the `Handler` impl when the attribute has errors.
fn stub_impl(hook: Hook, handler: &HandlerFn, rt: &TokenStream) -> TokenStream {
    let handle = handle_struct(handler);
    let name = &handler.name;
    let marker = marker(hook, rt);
    let spec = spec(hook, handler, &[], TokenStream::new(), rt);
    quote! {
        #handle
        impl #rt::__private::Sealed for #name {}
        #[diagnostic::do_not_recommend]
        impl #rt::__private::Handler for #name {
            #spec

            fn call<'__exhook>(
                _: #rt::__private::Call<'__exhook, #marker>,
            ) -> impl #rt::__private::Future<
                Output = ::core::result::Result<#rt::__private::Answer<#marker>, #rt::__private::Status>,
            > + #rt::__private::Send + '__exhook {
                ::core::future::pending()
            }
        }
    }
}
