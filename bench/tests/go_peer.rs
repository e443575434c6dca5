//! The Go peer (`bench/go`) answers what the hand-written provider answers,
//! byte for byte, so the benchmarks compare the same work. Needs the peer
//! running: `bench/go/build.sh` builds it, `.ci/run` starts it and sets
//! `EXHOOK_GO_PEER` to its address.

use std::net::SocketAddr;

use bytes::{Buf, BufMut, Bytes};
use http::uri::PathAndQuery;
use prost::Message as _;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::{Channel, Endpoint};

use exhook_bench::baseline::Baseline;
use exhook_bench::proto::hook_provider_server::HookProviderServer;
use exhook_bench::proto::valued_response::{ResponsedType, Value};
use exhook_bench::proto::*;

/// Sends and receives the messages' encoded bytes untouched.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

async fn call(channel: Channel, method: &str, request: Bytes) -> Bytes {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let path =
        PathAndQuery::try_from(format!("/emqx.exhook.v3.HookProvider/{method}")).expect("a path");
    grpc.unary(tonic::Request::new(request), path, Raw)
        .await
        .unwrap_or_else(|status| panic!("{method}: {status}"))
        .into_inner()
}

/// Reads one varint at `*at`, moving past it.
fn varint(bytes: &[u8], at: &mut usize) -> u64 {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = bytes[*at];
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return value;
        }
    }
    panic!("varint too long")
}

/// The fields of an encoded message, in wire order: each field's number,
/// the range of the whole field (tag included) and of its value.
fn fields(bytes: &[u8]) -> Vec<(u64, std::ops::Range<usize>, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        let tag = varint(bytes, &mut at);
        let value_start;
        match tag & 7 {
            0 => {
                value_start = at;
                varint(bytes, &mut at);
            }
            1 => {
                value_start = at;
                at += 8;
            }
            2 => {
                let length = varint(bytes, &mut at) as usize;
                value_start = at;
                at += length;
            }
            5 => {
                value_start = at;
                at += 4;
            }
            other => panic!("wire type {other}"),
        }
        out.push((tag >> 3, start..at, value_start..at));
    }
    out
}

/// The answer with the entries of `Message.headers` (a map, whose order
/// protobuf leaves to each implementation) sorted in place; every other
/// byte stays where it is.
fn canonical(answer: &[u8]) -> Vec<u8> {
    const VALUE_MESSAGE: u64 = 4;
    const MESSAGE_HEADERS: u64 = 8;
    let mut out = answer.to_vec();
    for (number, _, message) in fields(answer) {
        if number != VALUE_MESSAGE {
            continue;
        }
        let inner = &answer[message.clone()];
        let entries: Vec<_> = fields(inner)
            .into_iter()
            .filter(|(n, _, _)| *n == MESSAGE_HEADERS)
            .map(|(_, whole, _)| whole)
            .collect();
        let mut sorted: Vec<&[u8]> = entries.iter().map(|r| &inner[r.clone()]).collect();
        sorted.sort_unstable();
        // Entries of different lengths change places: rewrite the span
        // from the first entry to the last, keeping the fields between.
        if let (Some(first), Some(last)) = (entries.first(), entries.last()) {
            let mut span = Vec::new();
            let mut sorted = sorted.into_iter();
            let mut at = first.start;
            for entry in &entries {
                span.extend_from_slice(&inner[at..entry.start]);
                span.extend_from_slice(sorted.next().expect("as many"));
                at = entry.end;
            }
            let base = message.start;
            out.splice(base + first.start..base + last.end, span);
        }
    }
    out
}

async fn start_baseline() -> SocketAddr {
    let incoming =
        tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().expect("address"))
            .expect("bind");
    let address = incoming.local_addr().expect("address");
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(HookProviderServer::new(Baseline))
            .serve_with_incoming(incoming),
    );
    address
}

async fn channel(address: &str) -> Channel {
    Endpoint::from_shared(format!("http://{address}"))
        .expect("endpoint")
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to {address}: {e}"))
}

fn client(username: &str) -> Option<ClientInfo> {
    Some(ClientInfo {
        node: "emqx@10.0.0.7".into(),
        clientid: "sensor-th-0042".into(),
        username: username.into(),
        password: "secret".into(),
        peerhost: "10.0.3.17".into(),
        sockport: 1883,
        protocol: "mqtt".into(),
        ..Default::default()
    })
}

/// The calls compared: the benchmark's publish, one outside `sensors/#`,
/// the load, both ways of authenticate, and neutral answers.
fn requests() -> Vec<(&'static str, Vec<u8>)> {
    let publish = exhook_bench::publish_request();
    let mut elsewhere = publish.clone();
    if let Some(message) = elsewhere.message.as_mut() {
        message.topic = "sensorsx/1".into();
    }
    let authenticate = |username| ClientAuthenticateRequest {
        clientinfo: client(username),
        result: false,
        meta: publish.meta.clone(),
    };
    vec![
        ("OnMessagePublish", publish.encode_to_vec()),
        ("OnMessagePublish", elsewhere.encode_to_vec()),
        (
            "OnProviderLoaded",
            ProviderLoadedRequest {
                broker: Some(BrokerInfo {
                    version: "5.9.0".into(),
                    sysdescr: "EMQX".into(),
                    uptime: 1000,
                    datetime: "2025-11-25T18:00:00Z".into(),
                }),
                meta: publish.meta.clone(),
            }
            .encode_to_vec(),
        ),
        (
            "OnClientAuthenticate",
            authenticate("bench").encode_to_vec(),
        ),
        (
            "OnClientAuthenticate",
            authenticate("other").encode_to_vec(),
        ),
        (
            "OnClientAuthorize",
            ClientAuthorizeRequest {
                clientinfo: client("bench"),
                topic: "sensors/1".into(),
                meta: publish.meta.clone(),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        (
            "OnClientConnected",
            ClientConnectedRequest {
                clientinfo: client("bench"),
                meta: publish.meta.clone(),
            }
            .encode_to_vec(),
        ),
    ]
}

#[tokio::test]
#[ignore = "needs the Go peer: set EXHOOK_GO_PEER"]
async fn go_peer_answers_the_same_bytes_as_the_hand_written_provider() {
    let go = std::env::var("EXHOOK_GO_PEER")
        .expect("EXHOOK_GO_PEER: the address of the running Go peer (bench/go/build.sh)");
    let (go, baseline) = (
        channel(&go).await,
        channel(&start_baseline().await.to_string()).await,
    );
    for (method, request) in requests() {
        let request = Bytes::from(request);
        let expected = call(baseline.clone(), method, request.clone()).await;
        let answer = call(go.clone(), method, request).await;
        assert_eq!(
            canonical(&answer),
            canonical(&expected),
            "{method}: the Go peer's answer differs from the hand-written provider's"
        );
    }
}

/// The comparison above is only as good as the reference: the benchmark's
/// publish comes back CONTINUE with the whole message.
#[tokio::test]
async fn the_hand_written_publish_answer_carries_the_whole_message() {
    let baseline = channel(&start_baseline().await.to_string()).await;
    let request = exhook_bench::publish_request();
    let answer = call(baseline, "OnMessagePublish", request.encode_to_vec().into()).await;
    let answer = ValuedResponse::decode(answer).expect("a ValuedResponse");
    assert_eq!(answer.r#type, ResponsedType::Continue as i32);
    assert_eq!(answer.value, request.message.map(Value::Message));
}

/// One `Message.headers` entry, to write entries in a chosen order.
#[derive(Clone, PartialEq, prost::Message)]
struct Entry {
    #[prost(string, tag = "1")]
    key: String,
    #[prost(string, tag = "2")]
    value: String,
}

/// A CONTINUE answer carrying the benchmark's message with `headers`
/// written in the given order.
fn answer_with_headers(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut message = exhook_bench::publish_request().message.expect("a message");
    message.headers.clear();
    let mut inner = message.encode_to_vec();
    for (key, value) in headers {
        let entry = Entry {
            key: (*key).into(),
            value: (*value).into(),
        };
        prost::encoding::message::encode(8, &entry, &mut inner);
    }
    let mut answer = Vec::new();
    prost::encoding::encode_key(4, prost::encoding::WireType::LengthDelimited, &mut answer);
    prost::encoding::encode_varint(inner.len() as u64, &mut answer);
    answer.extend_from_slice(&inner);
    answer
}

/// Sorting map entries reorders those entries and nothing else.
#[test]
fn canonical_sorts_header_entries_and_keeps_everything_else() {
    let headers = [
        ("username", "sensor-th-0042"),
        ("protocol", "mqtt"),
        ("peerhost", "10.0.3.17"),
    ];
    let mut reversed = headers;
    reversed.reverse();
    let (one, other) = (
        answer_with_headers(&headers),
        answer_with_headers(&reversed),
    );
    assert_ne!(one, other);
    assert_eq!(canonical(&one), canonical(&other));
    assert_eq!(
        ValuedResponse::decode(canonical(&one).as_slice()).expect("decodes"),
        ValuedResponse::decode(one.as_slice()).expect("decodes"),
    );
    let mut changed = headers;
    changed[2].1 = "10.0.3.18";
    assert_ne!(canonical(&answer_with_headers(&changed)), canonical(&one));
}
