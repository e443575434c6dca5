//! Lint attributes on a handler apply where the lint fires, once: on the
//! function as written (its name, arguments or body) or on the function
//! `provider!` lists (whether anything uses it). Built with clippy in CI.
#![deny(
    unfulfilled_lint_expectations,
    non_snake_case,
    unused_variables,
    dead_code
)]
#![deny(clippy::used_underscore_binding, clippy::too_many_arguments)]

use exhook_runtime::prelude::*;

/// Named as EMQX names the hook; the argument's name starts with `_`.
#[on_client_connected]
#[expect(non_snake_case)]
async fn ClientConnected(_client: &ClientInfo) {}

/// An argument the body does not read.
#[on_client_connect]
#[expect(unused_variables)]
async fn connect(conn: &ConnInfo) {}

/// Kept for later, listed nowhere.
#[on_session_created]
#[expect(dead_code)]
async fn later() {}

/// Many arguments.
#[on_client_authenticate]
#[allow(clippy::too_many_arguments)]
async fn many(
    client: &ClientInfo,
    meta: &RequestMeta,
    version: Version,
    a: State<u8>,
    b: State<u16>,
    c: State<u32>,
    d: State<u64>,
    e: State<i8>,
) -> Decision {
    let _ = (client, meta, version, a, b, c, d, e);
    Decision::Ignore
}

fn main() {
    let _server = Server::new(provider![ClientConnected, connect, many]);
}
