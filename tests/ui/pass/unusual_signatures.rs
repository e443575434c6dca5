// The explicit lifetimes are what this program checks.
#![allow(clippy::needless_lifetimes)]

use std::fmt::Display;

use exhook_runtime::*;

// Returns through `impl Trait`, explicit lifetimes, patterns as arguments.
#[on_client_authenticate]
async fn auth<'a>(
    client: &'a ClientInfo,
    ChainResult(so_far): ChainResult,
) -> ::std::result::Result<Decision, impl Display> {
    if client.username.is_empty() {
        return Err(format!("no username (so far: {so_far})"));
    }
    Ok(Decision::Continue(so_far))
}

#[on_client_connected]
async fn connected(_: &ClientInfo) -> std::result::Result<(), impl Display + use<>> {
    std::result::Result::<(), &'static str>::Ok(())
}

#[on_message_publish]
pub async fn rewrite(mut msg: Message) -> Publish {
    msg.topic.push_str("/seen");
    Publish::Continue(msg)
}

/// As many arguments as a handler takes.
#[on_client_connect]
#[allow(clippy::too_many_arguments)]
async fn sixteen(
    a: &ConnInfo,
    b: &RequestMeta,
    c: Version,
    d: State<u8>,
    e: State<u8>,
    f: State<u8>,
    g: State<u8>,
    h: State<u8>,
    i: State<u8>,
    j: State<u8>,
    k: State<u8>,
    l: State<u8>,
    m: State<u8>,
    n: State<u8>,
    o: State<u8>,
    p: State<u8>,
) {
    let _ = (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p);
}

mod nested {
    #[exhook_runtime::on_session_created]
    pub async fn created() {}
}

// Handlers stay ordinary functions that tests can call.
async fn call_directly() {
    let msg = Message {
        topic: "t".into(),
        ..Default::default()
    };
    let Publish::Continue(out) = rewrite(msg).await else {
        panic!()
    };
    assert_eq!(out.topic, "t/seen");
    nested::created().await;
}

fn main() {
    // A handler defined in a block is listed from that block.
    #[on_client_disconnected]
    async fn disconnected(_: &ClientInfo) {}

    let provider = provider![
        auth,
        connected,
        rewrite,
        crate::nested::created,
        disconnected,
        sixteen
    ];
    assert_eq!(provider.handlers().count(), 6);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(call_directly());
}
