//! The benchmark's provider, written with exhook: the same work as the
//! hand-written baseline in `bench/src/baseline.rs`, answering publishes
//! with only what EMQX reads of them (`compact_publish_answers`), or with
//! the whole message, as the baseline does, when `EXHOOK_BENCH_FULL_ANSWERS`
//! is set.
//!
//! ```text
//! cargo run --release --example bench_provider        # 127.0.0.1:9000, or $EXHOOK_LISTEN
//! ```

use exhook_runtime::prelude::*;

#[on_client_authenticate]
async fn auth(client: &ClientInfo) -> Decision {
    if client.username == "bench" {
        Decision::Allow
    } else {
        Decision::Ignore
    }
}

#[on_message_publish(topic = "sensors/#")]
async fn sensors(msg: Message) -> Publish {
    Publish::Continue(msg)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // The benchmark runs this provider as EMQX's only ExHook server, where
    // answers may carry only what EMQX reads of them.
    let full_answers = std::env::var_os("EXHOOK_BENCH_FULL_ANSWERS").is_some();
    Server::new(provider![auth, sensors])
        .compact_publish_answers(!full_answers)
        .serve()
        .await
}
