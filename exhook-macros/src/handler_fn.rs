//! Checks that a hook attribute sits on a function it can call, and takes
//! what expansion needs from it.

use syn::visit_mut::VisitMut;
use syn::{FnArg, GenericParam, Ident, ItemFn, Lifetime, ReturnType, Type};

use crate::errors::Errors;
use exhook_hooks::Hook;

/// What expansion needs from a handler function.
pub(crate) struct HandlerFn {
    pub(crate) name: Ident,
    pub(crate) vis: syn::Visibility,
    /// Argument types, with the function's own lifetimes replaced by `'_`.
    pub(crate) arg_types: Vec<Type>,
    pub(crate) output: ReturnType,
    /// Whether `check` reported nothing about the function, so that it can
    /// be a handler as written (the attribute's options may still be wrong).
    pub(crate) well_formed: bool,
    /// Whether its arguments and return type can be copied onto another
    /// function: no type or const parameters, no `where` clause and no
    /// `impl Trait` argument (while it may still be, say, not `async`).
    pub(crate) copyable_signature: bool,
}

/// The most arguments a handler takes; `provider!` recognises handlers of
/// up to this many (`exhook_runtime::__private::Listed`).
const MAX_ARGUMENTS: usize = 16;

/// Reports every reason `item` cannot be a handler of `hook`.
pub(crate) fn check(hook: Hook, item: &ItemFn, errors: &mut Errors) -> HandlerFn {
    let mut errors = ShapeErrors {
        errors,
        found: false,
        uncopyable: false,
    };
    let errors = &mut errors;
    let sig = &item.sig;
    let attr = hook.attribute();
    if let Some(token) = &sig.constness {
        errors.push(syn::Error::new(
            token.span,
            format!("`#[{attr}]` handlers cannot be `const fn`"),
        ));
    }
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            sig.fn_token.span,
            format!(
                "`#[{attr}]` handlers must be `async fn`; write `async fn {}`",
                sig.ident
            ),
        ));
    }
    if let Some(token) = &sig.unsafety {
        errors.push(syn::Error::new(
            token.span,
            format!("`#[{attr}]` handlers cannot be `unsafe fn`"),
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            format!("`#[{attr}]` handlers cannot have an ABI"),
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            "handlers cannot be variadic",
        ));
    }
    let mut own_lifetimes = Vec::new();
    for param in &sig.generics.params {
        match param {
            GenericParam::Lifetime(lifetime) => own_lifetimes.push(lifetime.lifetime.clone()),
            GenericParam::Type(param) => errors.push_uncopyable(syn::Error::new(
                param.ident.span(),
                format!("`#[{attr}]` handlers cannot be generic: the hook calls them with concrete types; name the argument types instead of `{}`", param.ident),
            )),
            GenericParam::Const(param) => errors.push_uncopyable(syn::Error::new(
                param.ident.span(),
                format!("`#[{attr}]` handlers cannot take const parameters"),
            )),
        }
    }
    if let Some(clause) = &sig.generics.where_clause {
        errors.push_uncopyable(syn::Error::new(
            clause.where_token.span,
            format!("`#[{attr}]` handlers cannot have a `where` clause"),
        ));
    }
    let mut arg_types = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.push(syn::Error::new(
                receiver.self_token.span,
                format!("`#[{attr}]` handlers are free functions, not methods: move it out of the `impl` block and take what it needs as arguments or `State<T>`"),
            )),
            FnArg::Typed(arg) => {
                if let Type::ImplTrait(impl_trait) = &*arg.ty {
                    errors.push_uncopyable(syn::Error::new(
                        impl_trait.impl_token.span,
                        format!("`#[{attr}]` handler arguments cannot be `impl Trait`: name the type"),
                    ));
                }
                let mut ty = (*arg.ty).clone();
                ElideLifetimes(&own_lifetimes).visit_type_mut(&mut ty);
                arg_types.push(ty);
            }
        }
    }
    if sig.inputs.len() > MAX_ARGUMENTS {
        errors.push(syn::Error::new_spanned(
            &sig.inputs[MAX_ARGUMENTS],
            format!("`#[{attr}]` handlers take at most {MAX_ARGUMENTS} arguments"),
        ));
    }
    HandlerFn {
        name: sig.ident.clone(),
        vis: item.vis.clone(),
        arg_types,
        output: sig.output.clone(),
        well_formed: !errors.found,
        copyable_signature: !errors.uncopyable,
    }
}

/// The errors of `check`, noting whether there were any, and whether one
/// makes the signature impossible to copy.
struct ShapeErrors<'e> {
    errors: &'e mut Errors,
    found: bool,
    uncopyable: bool,
}

impl ShapeErrors<'_> {
    fn push(&mut self, error: syn::Error) {
        self.found = true;
        self.errors.push(error);
    }

    fn push_uncopyable(&mut self, error: syn::Error) {
        self.uncopyable = true;
        self.push(error);
    }
}

/// Replaces the handler's own lifetime parameters with `'_`, which the
/// generated call infers.
struct ElideLifetimes<'l>(&'l [Lifetime]);

impl VisitMut for ElideLifetimes<'_> {
    fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
        if self.0.contains(lifetime) {
            *lifetime = Lifetime::new("'_", lifetime.span());
        }
    }
}
