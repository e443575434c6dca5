//! Unit tests of parsing and checking, on `proc_macro2` tokens: which errors
//! come out, and at which column of the input.

use proc_macro2::TokenStream;
use quote::quote;

use crate::errors::Errors;
use exhook_hooks::Hook;

fn hook(attribute: &str) -> Hook {
    Hook::from_attribute(attribute).expect("a hook attribute")
}
use crate::{args, expand, handler_fn, provider, topics};

/// Every error in `errors`, as `(column, message)`.
fn reported(errors: Errors) -> Vec<(usize, String)> {
    let tokens = errors.finish();
    if tokens.is_empty() {
        return Vec::new();
    }
    // Each `::core::compile_error! { "…" }` starts at the error's start span.
    let text = tokens.to_string();
    let mut out = Vec::new();
    let mut start = None;
    for tree in tokens {
        let column = tree.span().start().column;
        match tree {
            proc_macro2::TokenTree::Group(group) => {
                let message: syn::LitStr = syn::parse2(group.stream()).expect("message literal");
                out.push((start.take().expect("invocation start"), message.value()));
            }
            _ => {
                start.get_or_insert(column);
            }
        }
    }
    assert!(!out.is_empty(), "no errors found in {text}");
    out
}

fn parse_args(attribute: &str, input: &str) -> (args::HookArgs, Vec<(usize, String)>) {
    let mut errors = Errors::default();
    let parsed = args::parse(hook(attribute), input.parse().unwrap(), &mut errors);
    (parsed, reported(errors))
}

#[test]
fn topic_and_crate_options() {
    let (parsed, errors) = parse_args(
        "on_message_publish",
        r#"topic = ["a/#", "b/+"], crate = "my::rt""#,
    );
    assert!(errors.is_empty(), "{errors:?}");
    let topics: Vec<_> = parsed.topics.iter().map(|t| t.value()).collect();
    assert_eq!(topics, ["a/#", "b/+"]);
    let runtime = parsed.runtime.unwrap();
    assert_eq!(quote!(#runtime).to_string(), "my :: rt");

    let (parsed, errors) = parse_args("on_session_unsubscribed", r#"topic = "x/+""#);
    assert!(errors.is_empty());
    assert_eq!(parsed.topics[0].value(), "x/+");
}

#[test]
fn unknown_option_points_at_the_key_and_lists_valid_ones() {
    let (_, errors) = parse_args("on_message_publish", r#"topic = "a", topics = "b""#);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, 13);
    assert_eq!(
        errors[0].1,
        "unknown option `topics`; `#[on_message_publish]` takes `topic` and `crate`; did you mean `topic`?"
    );
    let (_, errors) = parse_args("on_client_connect", r#"retries = 3"#);
    assert_eq!(
        errors,
        [(
            0,
            "unknown option `retries`; `#[on_client_connect]` takes `crate`".to_owned()
        )]
    );
}

#[test]
fn option_given_twice_points_at_the_second() {
    let (_, errors) = parse_args("on_message_acked", r#"topic = "a", topic = "b""#);
    assert_eq!(errors, [(13, "`topic` is given twice".to_owned())]);
}

#[test]
fn topic_on_a_hook_without_topics() {
    let (_, errors) = parse_args("on_session_created", r#"topic = "a""#);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, 0);
    assert!(
        errors[0]
            .1
            .starts_with("`#[on_session_created]` takes no `topic`"),
        "{}",
        errors[0].1
    );
}

#[test]
fn independent_option_mistakes_are_all_reported() {
    let (_, errors) = parse_args(
        "on_message_publish",
        r#"topik = "a", crate = 5, topic = []"#,
    );
    let columns: Vec<_> = errors.iter().map(|(column, _)| *column).collect();
    assert_eq!(columns, [0, 21, 24], "{errors:?}");
}

#[test]
fn bad_topic_values() {
    let (_, errors) = parse_args("on_message_publish", "topic = 42");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].1.starts_with("expected a topic filter string"),
        "{}",
        errors[0].1
    );
    let (_, errors) = parse_args("on_message_publish", "topic = []");
    assert_eq!(
        errors,
        [(
            0,
            "`topic = []` lists no filter; remove `topic` to receive every topic".to_owned()
        )]
    );
}

fn check_topics(attribute: &str, input: &str) -> Vec<(usize, String)> {
    let (parsed, errors) = parse_args(attribute, input);
    assert!(errors.is_empty(), "{errors:?}");
    let mut errors = Errors::default();
    topics::check(hook(attribute), &parsed.topics, &mut errors);
    reported(errors)
}

#[test]
fn invalid_filters_show_the_offending_character() {
    let errors = check_topics(
        "on_message_publish",
        r#"topic = ["ok/#", "sensors/#/temp"]"#,
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, 17);
    assert_eq!(
        errors[0].1,
        "invalid topic filter: `#` must be the last level\n  sensors/#/temp\n          ^\nnote: `#` stands alone as the last level, as in `sport/#` (MQTT 5.0 §4.7.1.2)"
    );
    let errors = check_topics("on_message_publish", r#"topic = "a/b+""#);
    assert!(
        errors[0].1.contains("\n  a/b+\n     ^\n"),
        "{}",
        errors[0].1
    );
}

#[test]
fn hook_policies_and_repeats() {
    let errors = check_topics(
        "on_message_publish",
        r#"topic = ["$share/g/a", "$SYS/#", "a", "a"]"#,
    );
    let messages: Vec<_> = errors
        .iter()
        .map(|(column, message)| (*column, message.split(':').next().unwrap().to_owned()))
        .collect();
    assert_eq!(
        messages,
        [
            (
                9,
                "topic filter `$share/g/a` cannot be used on a hook".to_owned()
            ),
            (
                23,
                "topic filter `$SYS/#` cannot be used on a hook".to_owned()
            ),
            (38, "topic filter `a` is listed twice".to_owned()),
        ]
    );
    // `$SYS/…` is fine where EMQX does not filter: authorize sees such topics.
    assert!(check_topics("on_session_unsubscribed", r#"topic = "$SYS/#""#).is_empty());
}

fn check_fn(attribute: &str, item: TokenStream) -> (handler_fn::HandlerFn, Vec<(usize, String)>) {
    let item: syn::ItemFn = syn::parse2(item).unwrap();
    let mut errors = Errors::default();
    let handler = handler_fn::check(hook(attribute), &item, &mut errors);
    (handler, reported(errors))
}

#[test]
fn a_handler_takes_at_most_sixteen_arguments() {
    let sixteen: Vec<_> = (0..16_u8).map(|i| quote::format_ident!("a{}", i)).collect();
    let (handler, errors) = check_fn(
        "on_client_connected",
        quote!(async fn ok(#(#sixteen: u8),*) {}),
    );
    assert!(errors.is_empty() && handler.well_formed, "{errors:?}");
    let (handler, errors) = check_fn(
        "on_client_connected",
        quote!(async fn many(#(#sixteen: u8),*, seventeenth: u8) {}),
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].1,
        "`#[on_client_connected]` handlers take at most 16 arguments"
    );
    assert!(!handler.well_formed && handler.copyable_signature);
}

#[test]
fn handler_signatures() {
    let (handler, errors) = check_fn(
        "on_client_connected",
        quote!(
            pub async fn ok<'a>(c: &'a ClientInfo, s: State<u8>) {}
        ),
    );
    assert!(errors.is_empty());
    assert_eq!(handler.name.to_string(), "ok");
    let types: Vec<_> = handler
        .arg_types
        .iter()
        .map(|t| quote!(#t).to_string())
        .collect();
    assert_eq!(types, ["& '_ ClientInfo", "State < u8 >"]);

    let (_, errors) = check_fn("on_client_connected", "fn f() {}".parse().unwrap());
    assert_eq!(
        errors,
        [(
            0,
            "`#[on_client_connected]` handlers must be `async fn`; write `async fn f`".to_owned()
        )]
    );

    let (_, errors) = check_fn(
        "on_client_connected",
        "async fn f(&self) {}".parse().unwrap(),
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, 12);

    let (_, errors) = check_fn(
        "on_client_connected",
        "const unsafe extern \"C\" fn f<T, const N: usize>(x: impl Send) where T: Copy {}"
            .parse()
            .unwrap(),
    );
    let columns: Vec<_> = errors.iter().map(|(column, _)| *column).collect();
    // const, async missing, unsafe, ABI, T, N, where, impl
    assert_eq!(columns, [0, 24, 6, 13, 29, 38, 62, 51], "{errors:#?}");
}

#[test]
fn failed_attribute_still_emits_the_function_and_a_stub() {
    let out = expand::hook_attribute(
        hook("on_client_connected"),
        quote!(topic = "a"),
        quote!(
            async fn connected() {
                body();
            }
        ),
    );
    let text = out.to_string();
    assert!(
        text.contains("async fn connected () { body () ; }"),
        "{text}"
    );
    assert!(text.contains("struct connected { }"), "{text}");
    assert!(
        text.contains("impl :: exhook_runtime :: __private :: Handler for connected"),
        "{text}"
    );
    assert_eq!(text.matches("compile_error").count(), 1, "{text}");
    // No stub inside an impl block: a method keeps only its error.
    let out = expand::hook_attribute(
        hook("on_client_connected"),
        TokenStream::new(),
        quote!(
            async fn m(&self) {}
        ),
    );
    assert!(!out.to_string().contains("struct"));
}

#[test]
fn a_handler_keeps_its_function_inside_one_that_names_it() {
    let out = expand::hook_attribute(
        hook("on_client_authorize"),
        TokenStream::new(),
        quote!(
            /// Docs.
            #[tracing::instrument]
            #[allow(unused)]
            pub async fn acl(client: &ClientInfo, (a, b): (u8, u8)) -> Decision {
                body()
            }
        ),
    );
    let text = out.to_string();
    // Outside: the documentation, the lint levels, the user's argument
    // names where they are names, and a future that names the handle.
    let outer = "# [doc = r\" Docs.\"] # [allow (unused)] # [inline] \
                 pub fn acl (client : & ClientInfo , __exhook_arg1 : (u8 , u8)) \
                 -> impl :: exhook_runtime :: HandlerFuture < Handle = acl , Output = Decision > {";
    assert!(text.contains(outer), "{text}");
    // Inside: the function as written, with every other attribute.
    let inner = "# [tracing :: instrument] # [allow (unused)] \
                 async fn acl (client : & ClientInfo , (a , b) : (u8 , u8)) -> Decision { body () }";
    assert!(text.contains(inner), "{text}");
    assert!(
        text.contains(
            ":: exhook_runtime :: __private :: Handled :: new (acl (client , __exhook_arg1))"
        ),
        "{text}"
    );
    assert_eq!(text.matches("Docs.").count(), 1, "{text}");

    // An argument named like the function cannot name the outer one's
    // argument: the call inside would find the argument, not the function.
    let out = expand::hook_attribute(
        hook("on_client_connected"),
        TokenStream::new(),
        quote!(
            async fn seen(seen: &ClientInfo) {}
        ),
    );
    assert!(
        out.to_string()
            .contains("Handled :: new (seen (__exhook_arg0))"),
        "{out}"
    );
}

#[test]
fn a_function_that_cannot_be_a_handler_is_kept_inside_a_stub() {
    // Not `async`: the stand-in keeps its arguments and return type, so
    // that callers raise nothing more.
    let out = expand::hook_attribute(
        hook("on_client_authenticate"),
        TokenStream::new(),
        quote!(
            fn auth(_client: &ClientInfo) -> Decision {
                Decision::Allow
            }
        ),
    );
    let text = out.to_string();
    assert!(
        text.contains("fn auth (client : & ClientInfo) -> impl :: exhook_runtime :: HandlerFuture < Handle = auth , Output = Decision > { # [allow (dead_code)] fn auth (_client : & ClientInfo) -> Decision { Decision :: Allow } let _ = (client ,) ;"),
        "{text}"
    );
    assert!(text.contains(":: core :: future :: pending ()"), "{text}");
    assert_eq!(text.matches("compile_error").count(), 1, "{text}");

    // Generic: its signature cannot be copied, so the stand-in has none.
    let out = expand::hook_attribute(
        hook("on_client_authenticate"),
        TokenStream::new(),
        quote!(
            async fn auth<T>(value: T) -> Decision {
                Decision::Allow
            }
        ),
    );
    let text = out.to_string();
    assert!(
        text.contains("fn auth () -> impl :: exhook_runtime :: HandlerFuture < Handle = auth , Output = () > { # [allow (dead_code)] async fn auth < T > (value : T)"),
        "{text}"
    );
}

#[test]
fn lint_attributes_apply_where_the_lint_fires_once() {
    let out = expand::hook_attribute(
        hook("on_client_connected"),
        TokenStream::new(),
        quote!(
            #[expect(non_snake_case)]
            #[deny(unused)]
            #[must_use]
            async fn Connected(_client: &ClientInfo, _: u8, __r: u8) {}
        ),
    );
    let text = out.to_string();
    // An `expect` goes on both functions, either of which the lint may fire
    // on, and is not reported unmet on the other; lint levels go on both;
    // `must_use` stays on the `async fn`. Argument names lose their leading
    // underscores outside.
    let expect =
        "# [expect (non_snake_case)] # [allow (unfulfilled_lint_expectations)] # [deny (unused)]";
    assert!(
        text.contains(&format!(
            "{expect} # [inline] fn Connected (client : & ClientInfo , __exhook_arg1 : u8 , r : u8)"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{{ {expect} # [must_use] async fn Connected (_client : & ClientInfo , _ : u8 , __r : u8)"
        )),
        "{text}"
    );
}

#[test]
fn expansion_names_the_runtime_through_one_path() {
    let out = expand::hook_attribute(
        hook("on_message_publish"),
        quote!(topic = "a/#"),
        quote!(
            async fn tag(m: &Message) -> Publish {
                todo!()
            }
        ),
    );
    let text = out.to_string();
    assert!(
        text.contains("type Hook = :: exhook_runtime :: hooks :: on_message_publish ;"),
        "{text}"
    );
    assert!(
        text.contains("handler_spec (< :: exhook_runtime :: hooks :: on_message_publish as :: exhook_runtime :: __private :: HookPoint > :: HOOK , \"tag\""),
        "{text}"
    );
    assert!(text.contains("& [\"a/#\"]"), "{text}");
    assert!(
        !text
            .replace(":: core :: result :: Result <", "")
            .contains("Result <"),
        "generated code must not name the prelude's Result: {text}"
    );
    let out = expand::hook_attribute(
        hook("on_message_publish"),
        quote!(crate = "hooks"),
        quote!(
            async fn tag() -> Publish {
                todo!()
            }
        ),
    );
    assert!(
        out.to_string()
            .contains("impl hooks :: __private :: Handler for tag")
    );
}

#[test]
fn provider_lists() {
    let text = provider::provider(quote!(a, b::c)).to_string();
    // Each entry names the function itself, as a value, in list order.
    let first = text.find("__exhook_entry (& a)").expect(&text);
    let second = text.find("__exhook_entry (& b :: c)").expect(&text);
    assert!(first < second, "{text}");
    assert!(
        text.contains("Listed as __ExhookListed")
            && text.contains("where Function : __ExhookListed < Args >"),
        "{text}"
    );
    let text = provider::provider(quote!(crate = "hooks"; a,)).to_string();
    assert!(
        text.contains("hooks :: __private :: provider (HANDLERS)"),
        "{text}"
    );
    let out = provider::provider("a, b, a".parse().unwrap());
    let text = out.to_string();
    assert!(
        text.contains("compile_error") && text.contains("`a` is listed twice"),
        "{text}"
    );
    assert_eq!(
        text.matches(":: ENTRY").count(),
        2,
        "the list keeps the first of each: {text}"
    );
    let out = provider::provider("a b".parse().unwrap()).to_string();
    assert!(out.contains("compile_error"), "{out}");
}
