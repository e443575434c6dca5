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

/// The whole attribute: parse, check, expand; on any error the function
/// is still emitted unchanged, with the errors and a stub `Handler` so that
/// `provider!` lists using it raise nothing more.
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
        let listed = listed_function(&function, &runtime);
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
        let listed = if handler.well_formed {
            listed_function(&function, &runtime)
        } else {
            stub_function(&function, &runtime)
        };
        let stub = stub_impl(hook, &handler, &runtime);
        let errors = errors.finish();
        quote!(#listed #stub #errors)
    }
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
fn listed_function(function: &ItemFn, rt: &TokenStream) -> TokenStream {
    let name = &function.sig.ident;
    let (outer_attrs, inner_attrs) = split_attributes(&function.attrs);
    let vis = &function.vis;
    let generics = &function.sig.generics;
    let output = match &function.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let (params, types): (Vec<Ident>, Vec<&syn::Type>) = function
        .sig
        .inputs
        .iter()
        .enumerate()
        .filter_map(|(index, input)| match input {
            FnArg::Typed(arg) => Some((parameter_name(&arg.pat, name, index), &*arg.ty)),
            FnArg::Receiver(_) => None,
        })
        .unzip();
    let mut inner = function.clone();
    inner.attrs = inner_attrs;
    inner.vis = syn::Visibility::Inherited;
    quote! {
        #(#outer_attrs)*
        #[inline]
        #vis fn #name #generics (#(#params: #types),*)
            -> impl #rt::HandlerFuture<Handle = #name, Output = #output>
        {
            #inner
            #rt::__private::Handled::new(#name(#(#params),*))
        }
    }
}

/// What stands in for [`listed_function`] when the function cannot be a
/// handler as written (not `async`, generic, ...): the function, unused,
/// inside one that `provider!` lists without further errors.
fn stub_function(function: &ItemFn, rt: &TokenStream) -> TokenStream {
    let name = &function.sig.ident;
    let (outer_attrs, inner_attrs) = split_attributes(&function.attrs);
    let vis = &function.vis;
    let mut inner = function.clone();
    inner.attrs = inner_attrs;
    inner.vis = syn::Visibility::Inherited;
    quote! {
        #(#outer_attrs)*
        #vis fn #name() -> impl #rt::HandlerFuture<Handle = #name, Output = ()> {
            #[allow(dead_code)]
            #inner
            #rt::__private::Handled::new(::core::future::pending())
        }
    }
}

/// The function's attributes, split between the function `provider!`
/// lists (documentation, `cfg`, deprecation) and the user's own function
/// inside it (everything else, such as `#[tracing::instrument]`, which
/// must see the `async fn`). Lint levels apply to both, but `expect`, which
/// would go unfulfilled on one of them.
fn split_attributes(attrs: &[Attribute]) -> (Vec<&Attribute>, Vec<Attribute>) {
    let mut outer = Vec::new();
    let mut inner = Vec::new();
    for attr in attrs {
        let path = attr.path();
        if path.is_ident("doc") || path.is_ident("cfg") || path.is_ident("deprecated") {
            outer.push(attr);
        } else if ["allow", "warn", "deny", "forbid"]
            .iter()
            .any(|lint| path.is_ident(lint))
        {
            outer.push(attr);
            inner.push(attr.clone());
        } else {
            inner.push(attr.clone());
        }
    }
    (outer, inner)
}

/// The outer function's name for argument `index`: the user's, when it is
/// a plain name (so that documentation shows it), else a generated one.
fn parameter_name(pat: &Pat, function: &Ident, index: usize) -> Ident {
    match pat {
        Pat::Ident(pat)
            if pat.by_ref.is_none() && pat.subpat.is_none() && pat.ident != *function =>
        {
            pat.ident.clone()
        }
        _ => format_ident!("__exhook_arg{}", index),
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
            let #value = match <#ty as #rt::__private::HandlerArgument<'__exhook, #marker>>::make(call).await {
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
        impl #rt::__private::Handler for #name {
            #spec

            #[inline]
            fn call<'__exhook>(
                call: #rt::__private::Call<'__exhook, #marker>,
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
