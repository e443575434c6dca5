//! Writes the benchmark's `MessagePublishRequest` as one gRPC frame to
//! stdout, as the request body for an independent HTTP/2 load generator:
//!
//! ```text
//! cargo run --release -p exhook-bench --bin frame > /tmp/publish.grpc
//! h2load -n 200000 -c 4 -m 64 -d /tmp/publish.grpc \
//!   -H 'content-type: application/grpc' -H 'te: trailers' \
//!   http://127.0.0.1:9000/emqx.exhook.v3.HookProvider/OnMessagePublish
//! ```

use std::io::Write;

use prost::Message;

fn main() -> std::io::Result<()> {
    let message = exhook_bench::publish_request().encode_to_vec();
    let length = u32::try_from(message.len()).expect("a small message");
    let mut frame = Vec::with_capacity(5 + message.len());
    frame.push(0); // not compressed
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(&message);
    std::io::stdout().lock().write_all(&frame)
}
