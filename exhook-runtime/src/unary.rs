//! One unary gRPC call on the wire: the request's message read from the
//! HTTP/2 body, the answer sent as one gRPC message and `grpc-status` in the
//! trailers, or an error as a trailers-only response.
//!
//! tonic's server does the same through its generic streaming codec, which
//! copies every DATA frame into a buffer of its own and encodes each answer
//! into another. Here a message that arrives in one DATA frame (EMQX's
//! requests up to 16 KiB) is decoded where it lies, a larger one is gathered
//! into one buffer of its exact size, and a large publish payload leaves as
//! the request's own bytes, not a copy: payloads are [`Bytes`] slices of
//! what was received from the socket.

use std::convert::Infallible;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt;
use prost::Message as _;
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint, key_len};
use tonic::Status;
use tonic::body::Body;
use tonic::codegen::StdError;

use crate::event::Message;
use crate::proto::v3::{EmptySuccess, LoadedResponse, ValuedResponse, valued_response};

/// tonic's default limit of a received message, kept where the server sets
/// none of its own.
pub(crate) const DEFAULT_MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// A gRPC message's prefix: the compressed flag and the length.
const PREFIX: usize = 5;

/// Payloads from this size on are sent as the request's bytes; below it,
/// one more chunk costs more than copying.
const SPLICE_FROM: usize = 4 * 1024;

/// Reads the one message of a unary call's `body`, of at most `limit` bytes.
pub(crate) async fn read_message<B>(
    headers: &HeaderMap,
    body: B,
    limit: usize,
) -> Result<Bytes, Status>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<StdError>,
{
    if let Some(encoding) = headers.get("grpc-encoding")
        && encoding.as_bytes() != b"identity"
    {
        let mut status = Status::unimplemented(format!(
            "Content is compressed with `{}` which isn't supported",
            String::from_utf8_lossy(encoding.as_bytes())
        ));
        status
            .metadata_mut()
            .insert("grpc-accept-encoding", "identity".parse().expect("ASCII"));
        return Err(status);
    }
    let mut body = std::pin::pin!(body);
    let mut received = Received::Nothing;
    let mut extra = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| Status::from_error(error.into()))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers: a unary request's carry nothing we read
        };
        if received.is_complete() {
            // A second message, which a unary call does not have: read and
            // dropped as tonic does, within the limit.
            extra += data.len();
            if extra > PREFIX + limit {
                return Err(too_large(extra, limit));
            }
            continue;
        }
        received.push(data, limit)?;
    }
    received.finish()
}

/// A message as its frames arrive.
enum Received {
    Nothing,
    /// Fewer than [`PREFIX`] bytes so far.
    Start(BytesMut),
    /// The prefix was read: `length` bytes of message, of which `buffer`
    /// holds those that arrived.
    Body {
        length: usize,
        buffer: BytesMut,
    },
    Complete(Bytes),
}

/// A message announced in its prefix gets a buffer of its size up to this;
/// beyond it, the buffer grows with what arrives, so that a peer that
/// announces a large message and sends little holds little memory.
const RESERVED_AHEAD: usize = 256 * 1024;

impl Received {
    fn is_complete(&self) -> bool {
        matches!(self, Received::Complete(_))
    }

    fn push(&mut self, data: Bytes, limit: usize) -> Result<(), Status> {
        match self {
            Received::Nothing if data.len() >= PREFIX => {
                let length = prefixed_length(&data, limit)?;
                *self = if data.len() >= PREFIX + length {
                    // The common case: the whole message in one frame,
                    // used where it lies.
                    Received::Complete(data.slice(PREFIX..PREFIX + length))
                } else {
                    Received::body(length, &data[PREFIX..])
                };
            }
            Received::Nothing => *self = Received::Start(BytesMut::from(&data[..])),
            Received::Start(start) => {
                start.extend_from_slice(&data);
                if start.len() >= PREFIX {
                    let length = prefixed_length(start, limit)?;
                    let end = start.len().min(PREFIX + length);
                    *self = Received::body(length, &start[PREFIX..end]);
                }
            }
            Received::Body { length, buffer } => {
                let part = &data[..(*length - buffer.len()).min(data.len())];
                if buffer.capacity() - buffer.len() < part.len() {
                    // Doubling, up to the message's size.
                    let grow = buffer.capacity().max(part.len());
                    buffer.reserve(grow.min(*length - buffer.len()));
                }
                buffer.extend_from_slice(part);
            }
            Received::Complete(_) => {}
        }
        if let Received::Body { length, buffer } = self
            && buffer.len() == *length
        {
            *self = Received::Complete(mem::take(buffer).freeze());
        }
        Ok(())
    }

    /// A message of `length` bytes, of which `first` arrived: copied once
    /// into a buffer of its size (up to [`RESERVED_AHEAD`] before more
    /// arrives), and h2's frames are let go at once.
    fn body(length: usize, first: &[u8]) -> Received {
        let first = &first[..first.len().min(length)];
        let mut buffer = BytesMut::with_capacity(length.min(RESERVED_AHEAD.max(first.len())));
        buffer.extend_from_slice(first);
        Received::Body { length, buffer }
    }

    fn finish(self) -> Result<Bytes, Status> {
        match self {
            Received::Complete(message) => Ok(message),
            Received::Nothing => Err(Status::internal("Missing request message.")),
            Received::Start(_) | Received::Body { .. } => Err(Status::internal(
                "the request ended inside its message (fewer bytes than its prefix gives)",
            )),
        }
    }
}

/// The length a message's prefix (the first [`PREFIX`] bytes of `data`) gives.
fn prefixed_length(data: &[u8], limit: usize) -> Result<usize, Status> {
    match data[0] {
        0 => {}
        // https://grpc.github.io/grpc/core/md_doc_compression.html: a set
        // flag without `grpc-encoding` is INTERNAL.
        1 => {
            return Err(Status::internal(
                "protocol error: received message with compressed-flag but no grpc-encoding was specified",
            ));
        }
        flag => {
            return Err(Status::internal(format!(
                "protocol error: received message with invalid compression flag: {flag} (valid flags are 0 and 1), while sending request"
            )));
        }
    }
    let length = u32::from_be_bytes([data[1], data[2], data[3], data[4]]) as usize;
    if length > limit {
        return Err(too_large(length, limit));
    }
    Ok(length)
}

fn too_large(length: usize, limit: usize) -> Status {
    Status::resource_exhausted(format!(
        "the request's message is {length} bytes, over the limit of {limit} bytes"
    ))
}

fn put_prefix(buffer: &mut BytesMut, length: usize) {
    buffer.put_u8(0);
    buffer.put_u32(u32::try_from(length).expect("answers are far below 4 GiB"));
}

/// How a hook's answer is encoded.
pub(crate) use encode::{Encode, Encoded};

mod encode {
    use super::*;

    /// An answer as the chunks of one gRPC message, prefix included.
    pub struct Encoded {
        pub(in crate::unary) chunks: [Bytes; 3],
    }

    impl Encoded {
        pub(in crate::unary) fn whole(message: &impl prost::Message) -> Self {
            let length = message.encoded_len();
            let mut buffer = BytesMut::with_capacity(PREFIX + length);
            put_prefix(&mut buffer, length);
            message
                .encode(&mut buffer)
                .expect("a BytesMut grows as needed");
            Encoded {
                chunks: [buffer.freeze(), Bytes::new(), Bytes::new()],
            }
        }

        /// The message's bytes, all chunks together.
        #[cfg(test)]
        pub(in crate::unary) fn to_vec(&self) -> Vec<u8> {
            self.chunks.concat()
        }
    }

    pub trait Encode {
        fn encode_answer(self) -> Encoded;
    }

    impl Encode for EmptySuccess {
        fn encode_answer(self) -> Encoded {
            Encoded::whole(&self)
        }
    }

    impl Encode for LoadedResponse {
        fn encode_answer(self) -> Encoded {
            Encoded::whole(&self)
        }
    }

    impl Encode for ValuedResponse {
        fn encode_answer(self) -> Encoded {
            match self.value {
                Some(valued_response::Value::Message(message))
                    if message.payload.len() >= SPLICE_FROM =>
                {
                    spliced(self.r#type, message)
                }
                _ => Encoded::whole(&self),
            }
        }
    }
}

/// A `ValuedResponse` carrying `message`, with the message's payload as its
/// own chunk: byte for byte what encoding it whole gives. prost writes a
/// message's fields in the order of their numbers and leaves out empty
/// ones, so the fields before `payload` (6), then `payload`, then those
/// after it (`timestamp`, 7, and `headers`, 8) are the whole encoding.
fn spliced(kind: i32, mut before: Message) -> Encoded {
    let payload = mem::take(&mut before.payload);
    let after = Message {
        timestamp: mem::take(&mut before.timestamp),
        headers: mem::take(&mut before.headers),
        ..Message::default()
    };
    const TYPE: u32 = 1;
    const MESSAGE: u32 = 4;
    const PAYLOAD: u32 = 6;
    let payload_field = key_len(PAYLOAD) + encoded_len_varint(payload.len() as u64);
    let after_len = after.encoded_len();
    let message_len = before.encoded_len() + payload_field + payload.len() + after_len;
    let type_len = if kind == 0 {
        0
    } else {
        prost::encoding::int32::encoded_len(TYPE, &kind)
    };
    let answer_len =
        type_len + key_len(MESSAGE) + encoded_len_varint(message_len as u64) + message_len;

    let mut head = BytesMut::with_capacity(PREFIX + answer_len - payload.len() - after_len);
    put_prefix(&mut head, answer_len);
    if kind != 0 {
        prost::encoding::int32::encode(TYPE, &kind, &mut head);
    }
    encode_key(MESSAGE, WireType::LengthDelimited, &mut head);
    encode_varint(message_len as u64, &mut head);
    before
        .encode(&mut head)
        .expect("a BytesMut grows as needed");
    encode_key(PAYLOAD, WireType::LengthDelimited, &mut head);
    encode_varint(payload.len() as u64, &mut head);
    Encoded {
        chunks: [head.freeze(), payload, Bytes::from(after.encode_to_vec())],
    }
}

/// A successful call's HTTP response: the answer, then `grpc-status: 0`.
pub(crate) fn answer(encoded: Encoded) -> http::Response<Body> {
    let mut response = http::Response::new(Body::new(AnswerBody {
        chunks: encoded.chunks,
        next: 0,
        trailers_sent: false,
    }));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    response
}

/// A failed call's HTTP response: trailers only.
pub(crate) fn failure(status: Status) -> http::Response<Body> {
    status.into_http()
}

/// The answer's chunks as DATA frames, then the trailers.
struct AnswerBody {
    chunks: [Bytes; 3],
    next: usize,
    trailers_sent: bool,
}

impl HttpBody for AnswerBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        while let Some(chunk) = this.chunks.get_mut(this.next) {
            this.next += 1;
            if !chunk.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(mem::take(chunk)))));
            }
        }
        if this.trailers_sent {
            return Poll::Ready(None);
        }
        this.trailers_sent = true;
        let mut trailers = HeaderMap::with_capacity(1);
        trailers.insert("grpc-status", HeaderValue::from_static("0"));
        Poll::Ready(Some(Ok(Frame::trailers(trailers))))
    }

    fn is_end_stream(&self) -> bool {
        self.trailers_sent
    }

    fn size_hint(&self) -> SizeHint {
        // Chunks already sent were taken, and are empty.
        let rest: usize = self.chunks.iter().map(Bytes::len).sum();
        SizeHint::with_exact(rest as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A small deterministic generator (xorshift), so failures repeat.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn text(&mut self) -> String {
            let len = [0, 1, 5, 40, 200][self.below(5) as usize];
            (0..len)
                .map(|_| char::from(b'a' + self.below(26) as u8))
                .collect()
        }
    }

    fn random_answer(rng: &mut Rng) -> ValuedResponse {
        let payload_len =
            [0, 1, SPLICE_FROM - 1, SPLICE_FROM, 20_000, 65_536, 300_000][rng.below(7) as usize];
        let headers: BTreeMap<String, String> = (0..rng.below(4))
            .map(|_| (rng.text(), rng.text()))
            .collect();
        let message = Message {
            node: rng.text(),
            id: rng.text(),
            qos: rng.below(3) as u32,
            from: rng.text(),
            topic: rng.text(),
            payload: (0..payload_len)
                .map(|i| (i * 7) as u8)
                .collect::<Vec<u8>>()
                .into(),
            timestamp: [0, 1, u64::MAX][rng.below(3) as usize],
            headers,
        };
        ValuedResponse {
            r#type: rng.below(3) as i32,
            value: Some(valued_response::Value::Message(message)),
        }
    }

    /// What tonic's encoder sends: the prefix, then the whole message.
    fn tonic_frame(message: &impl prost::Message) -> Vec<u8> {
        let body = message.encode_to_vec();
        let mut frame = vec![0];
        frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
        frame.extend_from_slice(&body);
        frame
    }

    #[test]
    fn a_spliced_answer_is_byte_for_byte_the_whole_encoding() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut spliced = 0;
        for _ in 0..2_000 {
            let answer = random_answer(&mut rng);
            let expected = tonic_frame(&answer);
            let encoded = answer.encode_answer();
            spliced += usize::from(!encoded.chunks[1].is_empty());
            assert_eq!(encoded.to_vec(), expected);
        }
        assert!(
            spliced > 500,
            "only {spliced} of 2,000 answers were spliced"
        );
    }

    #[test]
    fn a_large_payload_is_sent_from_the_received_bytes() {
        let received = Bytes::from(vec![7u8; 64 * 1024]);
        let answer = ValuedResponse {
            r#type: 1,
            value: Some(valued_response::Value::Message(Message {
                topic: "t".into(),
                payload: received.clone(),
                ..Message::default()
            })),
        };
        let encoded = answer.encode_answer();
        // The same memory, not a copy of it.
        assert_eq!(encoded.chunks[1].as_ptr(), received.as_ptr());
        assert_eq!(encoded.chunks[1].len(), received.len());
    }

    #[test]
    fn other_answers_are_one_chunk() {
        for encoded in [
            EmptySuccess::default().encode_answer(),
            ValuedResponse {
                r#type: 2,
                value: Some(valued_response::Value::BoolResult(true)),
            }
            .encode_answer(),
        ] {
            assert!(encoded.chunks[1].is_empty() && encoded.chunks[2].is_empty());
        }
    }

    fn frame_of(message: &[u8]) -> Vec<u8> {
        let mut frame = vec![0];
        frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
        frame.extend_from_slice(message);
        frame
    }

    /// A body of these DATA frames.
    fn body(frames: Vec<Vec<u8>>) -> impl HttpBody<Data = Bytes, Error = Infallible> {
        let frames: Vec<Result<Frame<Bytes>, Infallible>> = frames
            .into_iter()
            .map(|frame| Ok(Frame::data(Bytes::from(frame))))
            .collect();
        http_body_util::StreamBody::new(tokio_stream::iter(frames))
    }

    async fn read(frames: Vec<Vec<u8>>, limit: usize) -> Result<Bytes, Status> {
        read_message(&HeaderMap::new(), body(frames), limit).await
    }

    #[tokio::test]
    async fn a_message_in_one_frame_is_used_where_it_lies() {
        let frame = Bytes::from(frame_of(b"hello"));
        let start = frame.as_ptr();
        let body = http_body_util::Full::new(frame);
        let message = read_message(&HeaderMap::new(), body, 100).await.unwrap();
        assert_eq!(&message[..], b"hello");
        assert_eq!(message.as_ptr(), start.wrapping_add(PREFIX));
    }

    #[tokio::test]
    async fn a_message_split_anywhere_reads_the_same() {
        let message: Vec<u8> = (0..1_000u32).map(|i| i as u8).collect();
        let frame = frame_of(&message);
        for cut in [1, 3, 5, 6, 500, 1_004] {
            for second_cut in [cut + 1, 1_004] {
                if second_cut <= cut || second_cut >= frame.len() {
                    continue;
                }
                let frames = vec![
                    frame[..cut].to_vec(),
                    frame[cut..second_cut].to_vec(),
                    frame[second_cut..].to_vec(),
                ];
                assert_eq!(
                    read(frames, 2_000).await.unwrap(),
                    message,
                    "cut at {cut}, {second_cut}"
                );
            }
        }
    }

    #[test]
    fn an_announced_message_reserves_little_before_its_bytes_arrive() {
        // A prefix announcing 4 MiB, then 10 bytes: 256 KiB is set aside,
        // not 4 MiB.
        let mut received = Received::Nothing;
        let mut frame = vec![0];
        frame.extend_from_slice(&(4u32 << 20).to_be_bytes());
        received.push(Bytes::from(frame), 8 << 20).unwrap();
        received.push(Bytes::from(vec![1; 10]), 8 << 20).unwrap();
        let Received::Body { buffer, .. } = &received else {
            panic!("the message is not whole yet");
        };
        assert_eq!(buffer.len(), 10);
        assert!(buffer.capacity() <= RESERVED_AHEAD, "{}", buffer.capacity());
        // The rest arrives; the message is whole and exact.
        for _ in 0..64 {
            received
                .push(Bytes::from(vec![2; 65_536]), 8 << 20)
                .unwrap();
        }
        let Received::Complete(message) = received else {
            panic!("the message is whole");
        };
        assert_eq!(message.len(), 4 << 20);
        assert_eq!(message[..10], [1; 10]);
        assert!(message[10..].iter().all(|&b| b == 2));
    }

    #[tokio::test]
    async fn what_a_unary_request_must_not_be() {
        let code = |result: Result<Bytes, Status>| result.unwrap_err().code();
        assert_eq!(code(read(vec![], 100).await), tonic::Code::Internal);
        // Over the limit: refused at the prefix, before the bytes arrive.
        assert_eq!(
            code(read(vec![frame_of(&[0; 101])[..5].to_vec()], 100).await),
            tonic::Code::ResourceExhausted
        );
        // Cut short.
        assert_eq!(
            code(read(vec![frame_of(b"hello")[..7].to_vec()], 100).await),
            tonic::Code::Internal
        );
        // Compressed without `grpc-encoding`, and an unknown flag.
        assert_eq!(
            code(read(vec![vec![1, 0, 0, 0, 0]], 100).await),
            tonic::Code::Internal
        );
        assert_eq!(
            code(read(vec![vec![2, 0, 0, 0, 0]], 100).await),
            tonic::Code::Internal
        );
        // Compressed with an encoding this server does not speak.
        let mut headers = HeaderMap::new();
        headers.insert("grpc-encoding", HeaderValue::from_static("gzip"));
        let status = read_message(&headers, body(vec![frame_of(b"x")]), 100)
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unimplemented);
        // An empty message is a message (every field at its default).
        assert_eq!(read(vec![frame_of(b"")], 100).await.unwrap().len(), 0);
        // A second message is read past and dropped, within the limit.
        let two = [frame_of(b"one"), frame_of(b"two")].concat();
        assert_eq!(&read(vec![two], 100).await.unwrap()[..], b"one");
        assert_eq!(
            code(read(vec![frame_of(b"one"), vec![0; 200]], 100).await),
            tonic::Code::ResourceExhausted
        );
    }
}
