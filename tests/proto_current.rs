//! The generated code in `exhook-runtime/src/proto/generated` is what our
//! `.proto` files produce, and our `.proto` files describe EMQX's wire
//! contract exactly.
//!
//! After editing a `.proto` file, regenerate with
//! `EXHOOK_BLESS=1 cargo test -p exhook-tests --test proto_current`.

use std::path::{Path, PathBuf};

use prost::Message as _;
use protox::prost_reflect::prost_types::{
    DescriptorProto, EnumDescriptorProto, FileDescriptorProto, FileDescriptorSet,
};

const VERSIONS: [&str; 3] = ["v1", "v2", "v3"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn compile(includes: &Path, file: &str) -> FileDescriptorSet {
    protox::compile([file], [includes]).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Generates `files` with `configure` into a fresh folder and compares with
/// (or, with `EXHOOK_BLESS`, writes) the committed copies in `committed`.
fn check_generated(
    committed: &Path,
    versions: &[&str],
    configure: impl Fn() -> tonic_prost_build::Builder,
) -> Vec<String> {
    let out = std::env::temp_dir().join(format!(
        "exhook-proto-{}-{}",
        std::process::id(),
        committed.display().to_string().len()
    ));
    std::fs::create_dir_all(&out).unwrap();
    for version in versions {
        let fds = compile(
            &root().join("proto"),
            &format!("emqx/exhook/{version}/exhook.proto"),
        );
        configure().out_dir(&out).compile_fds(fds).unwrap();
    }
    let bless = std::env::var_os("EXHOOK_BLESS").is_some();
    let mut stale = Vec::new();
    for version in versions {
        let name = format!("emqx.exhook.{version}.rs");
        let fresh = std::fs::read_to_string(out.join(&name)).unwrap();
        let current = std::fs::read_to_string(committed.join(&name)).unwrap_or_default();
        if fresh != current {
            if bless {
                std::fs::write(committed.join(&name), fresh).unwrap();
            } else {
                stale.push(committed.join(&name).display().to_string());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    stale
}

#[test]
fn generated_code_is_current() {
    // The runtime: messages with `Bytes` payloads and `BTreeMap` maps
    // (a handful of short keys: comparing beats hashing), and clients.
    let mut stale = check_generated(
        &root().join("exhook-runtime/src/proto/generated"),
        &VERSIONS,
        || {
            tonic_prost_build::configure()
                .build_server(false)
                .build_client(true)
                .bytes(".")
                .btree_map(".")
        },
    );
    // The benchmark's hand-written provider: tonic's defaults, with server.
    stale.extend(check_generated(
        &root().join("bench/src/generated"),
        &["v3"],
        || {
            tonic_prost_build::configure()
                .build_server(true)
                .build_client(true)
        },
    ));
    assert!(
        stale.is_empty(),
        "generated code is stale: {stale:?}; run `EXHOOK_BLESS=1 cargo test -p exhook-tests --test proto_current`"
    );
}

/// The parts of a file that are the wire contract: package, services and
/// rpcs, messages with their fields (name, number, type, label, oneof) and
/// enums, with comments, options and declaration order left out.
fn contract(file: &FileDescriptorProto) -> String {
    let mut out = format!("package {}\n", file.package());
    for service in &file.service {
        out += &format!("service {}\n", service.name());
        for method in &service.method {
            out += &format!(
                "  rpc {}({}) -> {}\n",
                method.name(),
                method.input_type(),
                method.output_type()
            );
        }
    }
    // Declaration order is not part of the wire format.
    let mut messages: Vec<_> = file.message_type.iter().collect();
    messages.sort_by_key(|message| message.name());
    for message in messages {
        describe_message(message, "", &mut out);
    }
    for enumeration in &file.enum_type {
        describe_enum(enumeration, "", &mut out);
    }
    out
}

fn describe_message(message: &DescriptorProto, indent: &str, out: &mut String) {
    *out += &format!("{indent}message {}\n", message.name());
    for field in &message.field {
        *out += &format!(
            "{indent}  {} = {} {:?} {:?} {} oneof={:?}\n",
            field.name(),
            field.number(),
            field.label(),
            field.r#type(),
            field.type_name(),
            field.oneof_index
        );
    }
    for oneof in &message.oneof_decl {
        *out += &format!("{indent}  oneof {}\n", oneof.name());
    }
    for range in &message.reserved_range {
        *out += &format!("{indent}  reserved {}..{}\n", range.start(), range.end());
    }
    for name in &message.reserved_name {
        *out += &format!("{indent}  reserved {name}\n");
    }
    let nested = format!("{indent}  ");
    for inner in &message.nested_type {
        describe_message(inner, &nested, out);
    }
    for enumeration in &message.enum_type {
        describe_enum(enumeration, &nested, out);
    }
}

fn describe_enum(enumeration: &EnumDescriptorProto, indent: &str, out: &mut String) {
    *out += &format!("{indent}enum {}\n", enumeration.name());
    for value in &enumeration.value {
        *out += &format!("{indent}  {} = {}\n", value.name(), value.number());
    }
}

fn only_file(set: FileDescriptorSet) -> FileDescriptorProto {
    let bytes = set.encode_to_vec();
    let set = FileDescriptorSet::decode(&bytes[..]).unwrap();
    set.file.into_iter().next_back().expect("one file")
}

/// Needs EMQX's own `.proto` files, which this repository does not ship:
/// set `EXHOOK_EMQX_PROTOS` to a folder with `exhook-v1.proto`,
/// `exhook-v2.proto` and `exhook-v3.proto` (`.ci/run` passes the team's
/// reference copies and runs it with `--include-ignored`).
#[test]
#[ignore = "needs EMQX's .proto files: set EXHOOK_EMQX_PROTOS"]
fn our_protos_match_emqx_wire_contract() {
    let reference = std::env::var_os("EXHOOK_EMQX_PROTOS")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .expect("EXHOOK_EMQX_PROTOS names the folder of EMQX's exhook-v*.proto files");
    for version in VERSIONS {
        let theirs = only_file(compile(&reference, &format!("exhook-{version}.proto")));
        let ours = only_file(compile(
            &root().join("proto"),
            &format!("emqx/exhook/{version}/exhook.proto"),
        ));
        assert_eq!(
            contract(&ours),
            contract(&theirs),
            "{version} differs from EMQX's"
        );
    }
}
