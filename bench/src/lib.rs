//! What the benchmarks share: the hand-written provider, the request they
//! send, and the load generator.

pub mod baseline;
pub mod load;

/// `emqx.exhook.v3` with tonic's generated server and client, for the
/// hand-written provider and the load generator (no exhook crates here).
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod proto {
    include!("generated/emqx.exhook.v3.rs");
}

/// A `message.publish` request as EMQX sends it for a sensor reading:
/// 334 bytes encoded, a 339-byte gRPC frame.
pub fn publish_request() -> proto::MessagePublishRequest {
    proto::MessagePublishRequest {
        message: Some(proto::Message {
            node: "emqx@10.0.0.7".into(),
            id: "0006153B6E3E2E2AF4420000D5E90001".into(),
            qos: 1,
            from: "sensor-th-0042".into(),
            topic: "sensors/building-7/floor-3/room-12/temperature".into(),
            payload: br#"{"t":21.5,"h":40.2,"ts":1764093600000,"unit":"C","sensor":"th-0042"}"#
                .to_vec(),
            timestamp: 1_764_093_600_000,
            headers: [
                ("username", "sensor-th-0042"),
                ("protocol", "mqtt"),
                ("peerhost", "10.0.3.17"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        }),
        meta: Some(proto::RequestMeta {
            node: "emqx@10.0.0.7".into(),
            version: "5.9.0".into(),
            sysdescr: "EMQX".into(),
            cluster_name: "emqxcl".into(),
        }),
        props: vec![proto::Property {
            name: "Message-Expiry-Interval".into(),
            value: "300".into(),
        }],
        user_props: vec![],
    }
}

/// The benchmark's request with a payload of `len` bytes: the sensor
/// reading repeated and cut to length.
pub fn publish_request_with_payload(len: usize) -> proto::MessagePublishRequest {
    let mut request = publish_request();
    if let Some(message) = request.message.as_mut() {
        message.payload = message.payload.iter().copied().cycle().take(len).collect();
    }
    request
}

/// `message` as one uncompressed gRPC frame: a zero byte, the length as a
/// big-endian `u32`, the encoded message.
pub fn grpc_frame(message: &impl prost::Message) -> Vec<u8> {
    let length = u32::try_from(message.encoded_len()).expect("a message under 4 GiB");
    let mut frame = Vec::with_capacity(5 + length as usize);
    frame.push(0);
    frame.extend_from_slice(&length.to_be_bytes());
    message.encode(&mut frame).expect("a Vec grows as needed");
    frame
}
