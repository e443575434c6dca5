//! Compile-time checks of `topic = …` filters, with the rules of `exhook-topic`.

use exhook_topic::{hook_policy, validate};
use syn::LitStr;

use crate::errors::Errors;
use exhook_hooks::Hook;

/// Checks every filter of one attribute, reporting each problem at its literal.
pub(crate) fn check(hook: Hook, topics: &[LitStr], errors: &mut Errors) {
    let mut seen: Vec<String> = Vec::new();
    for literal in topics {
        let filter = literal.value();
        if filter.is_empty() {
            errors.push(syn::Error::new(
                literal.span(),
                format!(
                    "a topic filter cannot be empty\nnote: {}",
                    exhook_topic::FilterErrorKind::Empty.rule()
                ),
            ));
        } else if let Err(error) = validate(&filter) {
            let range = error.span();
            errors.push(syn::Error::new(
                literal.span(),
                format!(
                    "invalid topic filter: {}\n{}\nnote: {}",
                    error.kind(),
                    caret(&filter, range.start, range.end),
                    error.kind().rule()
                ),
            ));
        } else if let Some(policy) = hook_policy(&filter, hook.is_message_hook()) {
            errors.push(syn::Error::new(
                literal.span(),
                format!(
                    "topic filter `{filter}` cannot be used on a hook: {}",
                    policy.message()
                ),
            ));
        } else if seen.contains(&filter) {
            errors.push(syn::Error::new(
                literal.span(),
                format!("topic filter `{filter}` is listed twice"),
            ));
        }
        seen.push(filter);
    }
}

/// The filter on one line and a caret line under `start..end`, so the
/// offending part shows even where the compiler can only underline the whole
/// literal. Long filters are cut around the offending part.
fn caret(filter: &str, start: usize, end: usize) -> String {
    const WIDTH: usize = 60;
    let from = floor_char(filter, start.saturating_sub(WIDTH / 2));
    let to = floor_char(
        filter,
        (from + WIDTH).min(filter.len()).max(end.min(filter.len())),
    );
    let shown = &filter[from..to];
    let lead = if from > 0 { "…" } else { "" };
    let tail = if to < filter.len() { "…" } else { "" };
    let pad = lead.chars().count() + filter[from..start.min(to)].chars().count();
    let marks = filter[start.min(to)..end.min(to)].chars().count().max(1);
    format!(
        "  {lead}{}{tail}\n  {}{}",
        shown.escape_debug(),
        " ".repeat(pad),
        "^".repeat(marks)
    )
}

fn floor_char(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}
