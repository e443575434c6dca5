//! The provider EMQX's own ExHook test suite runs against
//! (`emqx_exhook_demo_svr`), rebuilt on exhook, so EMQX's behaviour can be
//! checked end to end. Its handlers are `exhook_examples::emqx_demo`.
//!
//! ```text
//! cargo run --example emqx_demo            # listens on 127.0.0.1:9000
//! EXHOOK_LISTEN=0.0.0.0:9000 cargo run --example emqx_demo
//! RUST_LOG=debug cargo run --example emqx_demo   # one line per request
//! ```

use std::io::IsTerminal;

use exhook_runtime::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // To standard error, in colour only on a terminal.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    Server::new(exhook_examples::emqx_demo::provider())
        .serve()
        .await
}
