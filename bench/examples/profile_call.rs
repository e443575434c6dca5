//! Exactly N in-process `message.publish` calls through one provider, for
//! instruction counts under `valgrind --tool=callgrind`:
//! `profile_call hand-written|exhook|exhook-compact N`.

use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::BodyExt;
use prost::Message as _;
use tower_service::Service;

mod ours {
    use exhook_runtime::*;

    #[on_message_publish(topic = "sensors/#")]
    pub(crate) async fn sensors(msg: Message) -> Publish {
        Publish::Continue(msg)
    }
}

fn frame() -> Bytes {
    let message = exhook_bench::publish_request().encode_to_vec();
    let mut frame = BytesMut::new();
    frame.put_u8(0);
    frame.put_u32(message.len() as u32);
    frame.put_slice(&message);
    frame.freeze()
}

async fn calls<S>(mut service: S, n: usize)
where
    S: Service<http::Request<tonic::body::Body>, Response = http::Response<tonic::body::Body>>,
    S::Error: std::fmt::Debug,
{
    let frame = frame();
    for _ in 0..n {
        let request = http::Request::builder()
            .method("POST")
            .uri("/emqx.exhook.v3.HookProvider/OnMessagePublish")
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(tonic::body::Body::new(http_body_util::Full::new(
                frame.clone(),
            )))
            .expect("request");
        let response = service.call(request).await.expect("response");
        let _ = response.into_body().collect().await.expect("body");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match args.get(1).map(String::as_str) {
        Some(ours @ ("exhook" | "exhook-compact")) => {
            let routes = exhook_runtime::Server::new(exhook_runtime::provider![ours::sensors])
                .compact_publish_answers(ours == "exhook-compact")
                .into_routes()
                .expect("routes");
            runtime.block_on(calls(routes, n));
        }
        _ => {
            let server = exhook_bench::proto::hook_provider_server::HookProviderServer::new(
                exhook_bench::baseline::Baseline,
            );
            runtime.block_on(calls(tonic::service::Routes::new(server), n));
        }
    }
}
