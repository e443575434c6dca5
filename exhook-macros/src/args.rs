//! The options of a hook attribute: `topic = "…"` / `topic = ["…", …]` and
//! `crate = "…"`.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Ident, LitStr, Token, bracketed};

use crate::errors::Errors;
use exhook_hooks::Hook;

/// The options given to one hook attribute, spans kept.
#[derive(Default)]
pub(crate) struct HookArgs {
    /// Every `topic` literal, in order.
    pub(crate) topics: Vec<LitStr>,
    /// `crate = "…"`: the path of `exhook_runtime` when it was renamed.
    pub(crate) runtime: Option<syn::Path>,
}

pub(crate) fn parse(hook: Hook, args: TokenStream, errors: &mut Errors) -> HookArgs {
    let mut parsed = HookArgs::default();
    let parser = |input: ParseStream<'_>| {
        parse_options(hook, input, &mut parsed, errors);
        Ok(())
    };
    if let Err(error) = parser.parse2(args) {
        errors.push(error);
    }
    parsed
}

fn parse_options(hook: Hook, input: ParseStream<'_>, parsed: &mut HookArgs, errors: &mut Errors) {
    let mut seen: Vec<String> = Vec::new();
    while !input.is_empty() {
        if let Err(error) = parse_option(hook, input, parsed, &mut seen, errors) {
            errors.push(error);
            // Skip to the next option so later mistakes are reported too.
            while !input.is_empty() && !input.peek(Token![,]) {
                let _ = input.parse::<proc_macro2::TokenTree>();
            }
        }
        if input.is_empty() {
            break;
        }
        if let Err(error) = input.parse::<Token![,]>() {
            errors.push(error);
            return;
        }
    }
}

fn parse_option(
    hook: Hook,
    input: ParseStream<'_>,
    parsed: &mut HookArgs,
    seen: &mut Vec<String>,
    errors: &mut Errors,
) -> syn::Result<()> {
    let key = Ident::parse_any(input)?;
    let name = key.to_string();
    let valid = valid_options(hook);
    if !valid.contains(&name.as_str()) {
        return Err(unknown_option(hook, &key, &name));
    }
    if seen.contains(&name) {
        return Err(syn::Error::new(
            key.span(),
            format!("`{name}` is given twice"),
        ));
    }
    seen.push(name.clone());
    input.parse::<Token![=]>()?;
    match name.as_str() {
        "topic" => {
            let topics = parse_topic_value(input)?;
            if topics.is_empty() {
                errors.push(syn::Error::new(
                    key.span(),
                    "`topic = []` lists no filter; remove `topic` to receive every topic",
                ));
            }
            parsed.topics = topics;
        }
        _ => {
            let path: LitStr = input.parse()?;
            parsed.runtime = Some(path.parse()?);
        }
    }
    Ok(())
}

fn parse_topic_value(input: ParseStream<'_>) -> syn::Result<Vec<LitStr>> {
    if input.peek(syn::token::Bracket) {
        let content;
        bracketed!(content in input);
        let list = content.parse_terminated(|item| item.parse::<LitStr>(), Token![,])?;
        Ok(list.into_iter().collect())
    } else if input.peek(LitStr) {
        Ok(vec![input.parse()?])
    } else {
        Err(input.error("expected a topic filter string, such as `topic = \"sensors/#\"`, or a list: `topic = [\"a/#\", \"b/+\"]`"))
    }
}

fn valid_options(hook: Hook) -> &'static [&'static str] {
    if hook.takes_topics() {
        &["topic", "crate"]
    } else {
        &["crate"]
    }
}

fn unknown_option(hook: Hook, key: &Ident, name: &str) -> syn::Error {
    if name == "topic" {
        return syn::Error::new(
            key.span(),
            format!(
                "`#[{}]` takes no `topic`: its event has no topic to match; `topic` works on {}",
                hook.attribute(),
                hooks_taking_topics()
            ),
        );
    }
    let listed = valid_options(hook)
        .iter()
        .map(|option| format!("`{option}`"))
        .collect::<Vec<_>>()
        .join(" and ");
    let hint = if hook.takes_topics() && matches!(name, "topics" | "filter" | "filters") {
        "; did you mean `topic`?"
    } else {
        ""
    };
    syn::Error::new(
        key.span(),
        format!(
            "unknown option `{name}`; `#[{}]` takes {listed}{hint}",
            hook.attribute()
        ),
    )
}

/// The hooks whose attributes take `topic = …`, from the hook table.
fn hooks_taking_topics() -> String {
    let (message, others): (Vec<Hook>, Vec<Hook>) = Hook::ALL
        .into_iter()
        .filter(|hook| hook.takes_topics())
        .partition(|hook| hook.is_message_hook());
    let others: Vec<String> = others
        .iter()
        .map(|hook| format!("`{}`", hook.attribute()))
        .collect();
    format!(
        "{} and the {} `on_message_*` hooks",
        others.join(", "),
        match message.len() {
            4 => "four".to_owned(),
            n => n.to_string(),
        }
    )
}
