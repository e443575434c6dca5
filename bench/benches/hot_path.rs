//! The hot path without a network: gRPC frame in, decode, dispatch to the
//! matching handler, encode, gRPC frame out; exhook against the hand-written
//! provider through the same `tower::Service` interface, and the
//! allocations each makes per call.
//!
//! `cargo bench -p exhook-bench --bench hot_path`

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use bytes::{BufMut, Bytes, BytesMut};
use criterion::{Criterion, criterion_group, criterion_main};
use exhook_bench::baseline::Baseline;
use exhook_bench::proto::hook_provider_server::HookProviderServer;
use http_body_util::BodyExt;
use prost::Message as _;
use tower_service::Service;

/// Counts allocations, to report allocations per call.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// wrapper only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

mod ours {
    use exhook_runtime::*;

    #[on_message_publish(topic = "sensors/#")]
    pub(crate) async fn sensors(msg: Message) -> Publish {
        Publish::Continue(msg)
    }

    include!(concat!(env!("OUT_DIR"), "/many_filters.rs"));

    pub(crate) fn one_handler() -> tonic::service::Routes {
        Server::new(provider![sensors])
            .into_routes()
            .expect("valid provider")
    }

    /// Answering with only what EMQX reads (`compact_publish_answers`).
    pub(crate) fn compact() -> tonic::service::Routes {
        Server::new(provider![sensors])
            .compact_publish_answers(true)
            .into_routes()
            .expect("valid provider")
    }

    pub(crate) fn ten_thousand_filters() -> tonic::service::Routes {
        Server::new(provider![many])
            .into_routes()
            .expect("valid provider")
    }
}

/// The request as a gRPC frame in an HTTP/2 request, ready to send.
fn request(frame: &Bytes) -> http::Request<tonic::body::Body> {
    http::Request::builder()
        .method("POST")
        .uri("/emqx.exhook.v3.HookProvider/OnMessagePublish")
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(tonic::body::Body::new(http_body_util::Full::new(
            frame.clone(),
        )))
        .expect("request")
}

fn frame() -> Bytes {
    let message = exhook_bench::publish_request().encode_to_vec();
    let mut frame = BytesMut::with_capacity(5 + message.len());
    frame.put_u8(0);
    frame.put_u32(message.len() as u32);
    frame.put_slice(&message);
    frame.freeze()
}

/// One call through `service`, the response body read to its end.
async fn call<S>(service: &mut S, frame: &Bytes) -> usize
where
    S: Service<http::Request<tonic::body::Body>, Response = http::Response<tonic::body::Body>>,
    S::Error: std::fmt::Debug,
{
    let response = service.call(request(frame)).await.expect("response");
    let body = response.into_body().collect().await.expect("body");
    let trailers = body
        .trailers()
        .and_then(|t| t.get("grpc-status"))
        .map(|s| s.as_bytes().to_vec());
    assert_eq!(trailers.as_deref(), Some(&b"0"[..]), "the call failed");
    body.to_bytes().len()
}

fn allocations_per_call<S>(runtime: &tokio::runtime::Runtime, service: &mut S, frame: &Bytes) -> f64
where
    S: Service<http::Request<tonic::body::Body>, Response = http::Response<tonic::body::Body>>,
    S::Error: std::fmt::Debug,
{
    const CALLS: u64 = 1000;
    runtime.block_on(call(service, frame));
    let before = ALLOCATIONS.load(Relaxed);
    for _ in 0..CALLS {
        runtime.block_on(call(service, frame));
    }
    (ALLOCATIONS.load(Relaxed) - before) as f64 / CALLS as f64
}

fn hot_path(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let frame = frame();
    // Both behind tonic's router, as `tonic::transport::Server` serves them.
    let mut baseline = tonic::service::Routes::new(HookProviderServer::new(Baseline));
    let mut one = ours::one_handler();
    let mut many = ours::ten_thousand_filters();
    let mut compact = ours::compact();

    // Each answers CONTINUE with the message, so the response sizes agree.
    let sizes = [
        runtime.block_on(call(&mut baseline, &frame)),
        runtime.block_on(call(&mut one, &frame)),
        runtime.block_on(call(&mut many, &frame)),
    ];
    assert!(sizes[0] == sizes[1] && sizes[1] == sizes[2], "{sizes:?}");
    // A compact answer is smaller: only qos, topic and payload.
    let compact_size = runtime.block_on(call(&mut compact, &frame));
    assert!(compact_size < sizes[0], "{compact_size} >= {sizes:?}");

    eprintln!(
        "allocations per call: hand-written {:.1}, exhook {:.1}, exhook with 10,000 filters {:.1}, exhook compact {:.1}",
        allocations_per_call(&runtime, &mut baseline, &frame),
        allocations_per_call(&runtime, &mut one, &frame),
        allocations_per_call(&runtime, &mut many, &frame),
        allocations_per_call(&runtime, &mut compact, &frame),
    );

    let mut group = c.benchmark_group("message.publish, decode + dispatch + encode");
    group.bench_function("hand-written tonic", |b| {
        b.iter(|| runtime.block_on(call(&mut baseline, black_box(&frame))))
    });
    group.bench_function("exhook, one handler", |b| {
        b.iter(|| runtime.block_on(call(&mut one, black_box(&frame))))
    });
    group.bench_function("exhook, 10,000 filters", |b| {
        b.iter(|| runtime.block_on(call(&mut many, black_box(&frame))))
    });
    group.bench_function("exhook, compact answers", |b| {
        b.iter(|| runtime.block_on(call(&mut compact, black_box(&frame))))
    });
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
