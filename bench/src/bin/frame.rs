//! Writes the benchmark's `MessagePublishRequest` as one gRPC frame to
//! stdout, as the request body for an independent HTTP/2 load generator;
//! with an argument, the message's payload is that many bytes instead of
//! the ~70-byte sensor reading:
//!
//! ```text
//! cargo run --release -p exhook-bench --bin frame > /tmp/publish.grpc        # 339 bytes
//! cargo run --release -p exhook-bench --bin frame 65536 > /tmp/publish-64k.grpc
//! h2load -n 200000 -c 4 -m 64 -d /tmp/publish.grpc \
//!   -H 'content-type: application/grpc' -H 'te: trailers' \
//!   http://127.0.0.1:9000/emqx.exhook.v3.HookProvider/OnMessagePublish
//! ```

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let request = match std::env::args().nth(1) {
        Some(len) => exhook_bench::publish_request_with_payload(
            len.parse()
                .map_err(|e| format!("payload bytes {len:?}: {e}"))?,
        ),
        None => exhook_bench::publish_request(),
    };
    std::io::stdout()
        .lock()
        .write_all(&exhook_bench::grpc_frame(&request))?;
    Ok(())
}
