//! Expansion of a hook attribute: the function as written, plus a
//! same-named braced struct implementing the runtime's `Handler`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr, ReturnType};

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
