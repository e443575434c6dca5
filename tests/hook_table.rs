//! The hook table agrees with every other view of the hooks: our `.proto`
//! files (rpc names, request and answer types, the fields each hook hands
//! to handlers), the marker types of `exhook_runtime::hooks`, and the wire
//! conversions of each protocol generation.

use std::path::Path;

use exhook_runtime::hooks::{self, HookPoint, Visitor, Wire};
use exhook_runtime::{Hook, Version};
use protox::prost_reflect::{
    Cardinality, DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor,
    Value,
};

fn pool() -> DescriptorPool {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto");
    let files = Version::ALL.map(|version| format!("emqx/exhook/{version}/exhook.proto"));
    let set = protox::compile(files, [root]).expect("our .proto files compile");
    DescriptorPool::from_file_descriptor_set(set).expect("a descriptor pool")
}

fn package(version: Version) -> String {
    format!("emqx.exhook.{version}")
}

fn message(pool: &DescriptorPool, version: Version, name: &str) -> MessageDescriptor {
    let full = format!("{}.{name}", package(version));
    pool.get_message_by_name(&full)
        .unwrap_or_else(|| panic!("{full} is not in our .proto files"))
}

#[test]
fn every_rpc_of_every_version_is_one_row_of_the_table() {
    let pool = pool();
    for version in Version::ALL {
        let service = pool
            .get_service_by_name(version.service_name())
            .expect("the service");
        let rpcs: Vec<String> = service.methods().map(|m| m.name().to_owned()).collect();
        let table: Vec<&str> = Hook::ALL.iter().map(|hook| hook.rpc(version)).collect();
        assert_eq!(rpcs, table, "{version}: rpcs in EMQX's order");
        for method in service.methods() {
            let hook = Hook::from_rpc(version, method.name()).expect("a hook");
            let row = hook.row();
            let request = match version {
                Version::V1 => row.v1_request,
                _ => row.request,
            };
            assert_eq!(
                method.input().name(),
                request,
                "{version} {}",
                method.name()
            );
            let answer = match hook.answer() {
                hooks::Answer::Notify => "EmptySuccess",
                hooks::Answer::Decide | hooks::Answer::Publish => "ValuedResponse",
                hooks::Answer::Load => "LoadedResponse",
            };
            assert_eq!(
                method.output().name(),
                answer,
                "{version} {}",
                method.name()
            );
        }
    }
}

#[test]
fn every_piece_a_hook_provides_is_a_field_of_its_request() {
    let pool = pool();
    for hook in Hook::ALL {
        let row = hook.row();
        let request = message(&pool, Version::V3, row.request);
        for piece in row.pieces {
            let carried = request.fields().any(|field| match field.kind() {
                Kind::Message(ty) => ty.name() == *piece,
                _ => false,
            });
            assert!(
                carried,
                "{hook}: `{piece}` is not a field of {}",
                row.request
            );
        }
    }
}

/// The marker types are named after the attributes and point at their row.
#[test]
fn marker_types_are_the_attributes() {
    struct Check(Vec<Hook>);
    impl Visitor for Check {
        fn visit<H: HookPoint>(&mut self) {
            let name = std::any::type_name::<H>();
            assert!(
                name.ends_with(&format!("::{}", H::HOOK.attribute())),
                "{name}"
            );
            let request = std::any::type_name::<H::Request>();
            assert!(
                request.ends_with(&format!("::{}", H::HOOK.row().request)),
                "{request}"
            );
            self.0.push(H::HOOK);
        }
    }
    let mut check = Check(Vec::new());
    hooks::visit_all(&mut check);
    assert_eq!(check.0, Hook::ALL);
}

/// A field of the same number, type and cardinality.
fn same_field(ours: &FieldDescriptor, theirs: &FieldDescriptor) -> bool {
    ours.number() == theirs.number()
        && ours.cardinality() == theirs.cardinality()
        && match (ours.kind(), theirs.kind()) {
            (Kind::Message(a), Kind::Message(b)) => a.name() == b.name(),
            // Enums may be named apart (v1's `AclReqType` is v3's
            // `AuthorizeReqType`); their values must be the same.
            (Kind::Enum(a), Kind::Enum(b)) => {
                let values = |e: &protox::prost_reflect::EnumDescriptor| {
                    e.values()
                        .map(|v| (v.name().to_owned(), v.number()))
                        .collect::<Vec<_>>()
                };
                values(&a) == values(&b)
            }
            (a, b) => a == b,
        }
}

/// Every field of `v1` (and of its sub-messages) is in `v3` as well.
fn v1_fields_missing_in_v3(
    v1: &MessageDescriptor,
    v3: &MessageDescriptor,
    path: &str,
) -> Vec<String> {
    let mut missing = Vec::new();
    for field in v1.fields() {
        let here = format!("{path}.{}", field.name());
        match v3.get_field(field.number()) {
            Some(theirs) if same_field(&theirs, &field) => {
                if let (Kind::Message(a), Kind::Message(b)) = (field.kind(), theirs.kind())
                    && !a.is_map_entry()
                {
                    missing.extend(v1_fields_missing_in_v3(&a, &b, &here));
                }
            }
            _ => missing.push(here),
        }
    }
    missing
}

/// The v1 requests that the runtime decodes with v3's types really are a
/// subset of v3's layout; the others are the ones the table converts.
#[test]
fn v1_requests_decoded_as_v3_are_a_subset_of_v3() {
    let pool = pool();
    for hook in Hook::ALL {
        let row = hook.row();
        let v1 = message(&pool, Version::V1, row.v1_request);
        let v3 = message(&pool, Version::V3, row.request);
        let missing = v1_fields_missing_in_v3(&v1, &v3, row.v1_request);
        match row.wire {
            hooks::WireLayout::Plain => {
                assert!(
                    missing.is_empty(),
                    "{hook}: v1 fields not in v3: {missing:?}"
                )
            }
            hooks::WireLayout::Converted => {}
        }
    }
}

/// A value for every field of `descriptor`, each different from the
/// default, sub-messages filled the same way.
fn filled(descriptor: &MessageDescriptor, seed: &mut u32) -> DynamicMessage {
    let mut message = DynamicMessage::new(descriptor.clone());
    for field in descriptor.fields() {
        *seed += 1;
        let value = |kind: &Kind, seed: &mut u32| -> Value {
            *seed += 1;
            let n = *seed;
            match kind {
                Kind::String => Value::String(format!("s{n}")),
                Kind::Bytes => Value::Bytes(format!("b{n}").into_bytes().into()),
                Kind::Bool => Value::Bool(true),
                Kind::Uint32 => Value::U32(n % 3 + 1),
                Kind::Int32 => Value::I32(n as i32),
                Kind::Uint64 => Value::U64(u64::from(n)),
                Kind::Int64 => Value::I64(i64::from(n)),
                Kind::Enum(e) => Value::EnumNumber(e.values().last().unwrap().number()),
                Kind::Message(m) => Value::Message(filled(m, seed)),
                other => panic!("no sample for {other:?}"),
            }
        };
        let sample = if field.is_map() {
            let Kind::Message(entry) = field.kind() else {
                unreachable!()
            };
            let key = MapKey::String(format!("k{seed}"));
            let v = value(&entry.map_entry_value_field().kind(), seed);
            Value::Map([(key, v)].into())
        } else if field.cardinality() == Cardinality::Repeated {
            let kind = field.kind();
            Value::List(vec![value(&kind, seed), value(&kind, seed)])
        } else {
            value(&field.kind(), seed)
        };
        message.set_field(&field, sample);
    }
    message
}

/// `from_v1(to_v1(x)) == x` for every hook, with `x` made from a v1 request
/// whose every field is set: the conversions lose nothing EMQX 4 sends, and
/// the test kit's v1 transport sends what EMQX 4 sends.
#[test]
fn every_v1_request_survives_the_round_trip() {
    struct RoundTrip(DescriptorPool);
    impl Visitor for RoundTrip {
        fn visit<H: HookPoint>(&mut self) {
            use prost::Message as _;
            let descriptor = message(&self.0, Version::V1, H::HOOK.row().v1_request);
            let sent = filled(&descriptor, &mut 0);
            let bytes = sent.encode_to_vec();
            let neutral = H::Request::decode(Version::V1, bytes.as_slice()).expect("decodes");
            assert_ne!(neutral, H::Request::default(), "{}", H::HOOK);
            let again = neutral.encode(Version::V1);
            let back = DynamicMessage::decode(descriptor, again.as_slice()).expect("v1 bytes");
            assert_eq!(back, sent, "{}: v1 -> neutral -> v1", H::HOOK);
            let neutral_again = H::Request::decode(Version::V1, again.as_slice()).unwrap();
            assert_eq!(
                neutral_again,
                neutral,
                "{}: neutral -> v1 -> neutral",
                H::HOOK
            );
        }
    }
    hooks::visit_all(&mut RoundTrip(pool()));
}

/// v2 and v3 requests decode and encode unchanged.
#[test]
fn every_v3_request_survives_the_round_trip_on_v2_and_v3() {
    struct RoundTrip(DescriptorPool);
    impl Visitor for RoundTrip {
        fn visit<H: HookPoint>(&mut self) {
            use prost::Message as _;
            for version in [Version::V2, Version::V3] {
                let descriptor = message(&self.0, version, H::HOOK.row().request);
                let sent = filled(&descriptor, &mut 0);
                let neutral =
                    H::Request::decode(version, sent.encode_to_vec().as_slice()).expect("decodes");
                let again = neutral.encode(version);
                let back = DynamicMessage::decode(descriptor, again.as_slice()).unwrap();
                assert_eq!(back, sent, "{} on {version}", H::HOOK);
            }
        }
    }
    hooks::visit_all(&mut RoundTrip(pool()));
}
