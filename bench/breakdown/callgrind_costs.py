#!/usr/bin/env python3
"""Per-call instruction counts from a callgrind dump, grouped by crate
(self cost: the groups add up to the total) and by layer (inclusive cost of
the functions that enter each layer).

    callgrind_costs.py CALLS DUMP [DUMP ...]
    callgrind_costs.py --callers REGEX CALLS DUMP [DUMP ...]

DUMP files come from `valgrind --tool=callgrind` (see breakdown.sh); CALLS
is the number of calls made between zeroing and dumping the counters."""

import re
import sys
from collections import defaultdict

# Crate of a function's self cost: the first pattern that matches its
# demangled name. Generic impls (`<T as Trait>::f`) and drops count for the
# type's crate, the first path in the name.
GROUPS = [
    ("libc memcpy/memmove/memset", r"^__mem(cpy|move|set)|^mem(cpy|move|set)"),
    ("libc malloc/free", r"^(_int_)?(malloc|free|realloc)|^malloc_|^_int_realloc|^tcache|^unlink_chunk|^cfree|^__libc_(malloc|free|realloc)"),
    ("libc syscall wrappers", r"^(__libc_)?(send|recv|write|read|epoll|sendmsg|recvmsg|writev|readv|syscall|futex|__futex|pthread_|__pthread|clock_gettime|__clock_gettime|__GI_)"),
    ("other libc/ld.so", r"^(_dl_|__|_IO|getenv|strlen|strcmp)"),
]
# Parts of a call, as crates (labels of GROUPS above included); what no
# part names is counted as "other".
PARTS = [
    ("HTTP/2: h2, http, hyper, hyper-util", ["h2", "http", "hyper", "hyper_util", "indexmap", "hashbrown"]),
    ("gRPC framing and routing: tonic, axum, tower, bodies", ["tonic", "tonic_prost", "axum", "axum_core", "tower", "tower_layer", "tower_service", "http_body", "http_body_util", "matchit", "percent_encoding", "tokio_stream"]),
    ("protobuf decode and encode: prost", ["prost"]),
    ("tokio: scheduler, task per stream, I/O driver", ["tokio", "tokio_util", "mio", "slab", "std"]),
    ("the provider: exhook's runtime, or the hand-written service", ["exhook_runtime", "exhook_topic", "exhook_bench", "bench_provider", "tracing", "tracing_core"]),
    ("shared: malloc/free, memcpy, core, alloc, bytes, syscall wrappers", ["libc malloc/free", "libc memcpy/memmove/memset", "libc syscall wrappers", "other libc/ld.so", "core", "alloc", "bytes"]),
]
CRATE = re.compile(r"(?:^|[<&\s(,])(?:dyn\s+)?([a-z_][a-z0-9_]*)::")

# Layers: (name, regex of the functions whose inclusive cost is the layer's).
# The largest inclusive cost among matching functions is taken, so nested
# matches of one layer do not add up.
LAYERS = [
    ("whole server task(s) (tokio worker)", r"^tokio::runtime::task::raw::poll$"),
    ("h2: read + decode frames (incl. HPACK decode)", r"^h2::codec::framed_read::decode_frame|^<h2::codec::framed_read::FramedRead<T> as futures_core::stream::Stream>::poll_next$"),
    ("h2: HPACK decode", r"^h2::hpack::decoder::Decoder::decode$"),
    ("h2: HPACK encode", r"^h2::hpack::encoder::Encoder::encode$"),
    ("h2: write frames (FramedWrite::flush)", r"^h2::codec::framed_write::FramedWrite<T,B>::flush$|^h2::codec::framed_write::Encoder<B>::flush"),
    ("h2: prioritize/send (buffer + pop frames)", r"^h2::proto::streams::prioritize::Prioritize::(pop_frame|poll_complete)"),
    ("tokio: socket read (poll_read)", r"^<tokio::net::tcp::stream::TcpStream as tokio::io::async_read::AsyncRead>::poll_read$|^tokio::io::poll_evented::PollEvented<E>::poll_read"),
    ("tokio: socket write (poll_write_vectored)", r"poll_write(_vectored)?$"),
    ("syscall: read/recv", r"^(__libc_)?(recv|read|recvfrom)$"),
    ("syscall: write/send", r"^(__libc_)?(send|write|writev|sendto|sendmsg)$"),
    ("syscall: epoll_wait", r"^epoll_wait$"),
    ("hyper server connection (h2 dispatch)", r"^hyper::proto::h2::server::Serving<T,B>::poll_server$"),
    ("hyper: stream task (H2Stream::poll)", r"^<hyper::proto::h2::server::H2Stream<F,B> as core::future::future::Future>::poll$"),
    ("tonic: unary call (Grpc::unary)", r"^tonic::server::grpc::Grpc<T>::unary"),
    ("tonic: gRPC frame in (Streaming decode)", r"^tonic::codec::decode::StreamingInner::decode_chunk|^tonic::codec::decode::Streaming<T>::message"),
    ("tonic: gRPC frame out (EncodeBody)", r"^<tonic::codec::encode::EncodeBody<T,U> as http_body::Body>::poll_frame$"),
    ("prost: decode request", r"MessagePublishRequest as prost::message::Message>::merge_field$|^prost::encoding::message::merge"),
    ("prost: encode answer", r"ValuedResponse as prost::message::Message>::encode_raw$"),
    ("exhook: routes/service", r"^exhook_runtime::"),
]


def parse(path):
    """Self and inclusive cost per function name."""
    names = {}
    self_cost = defaultdict(int)
    incl_extra = defaultdict(int)
    edges = defaultdict(int)
    counts = defaultdict(int)
    fn = None
    pending_call = None
    prev_was_calls = False
    name_re = re.compile(r"^\((\d+)\)(?: (.*))?$")

    def name(value):
        m = name_re.match(value)
        if not m:
            return value
        ident, text = m.groups()
        if text is not None:
            names[ident] = text
        return names[ident]

    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("fn="):
                fn = name(line[3:])
                pending_call = None
            elif line.startswith(("cfn=", "cfi=", "cfl=")):
                if line.startswith("cfn="):
                    pending_call = name(line[4:])
            elif line.startswith("calls="):
                pending_call = pending_call or "?"
                counts[(fn, pending_call)] += int(line[6:].split()[0])
            elif line and (line[0].isdigit() or line[0] in "+-*"):
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 else 0
                if pending_call is not None and prev_was_calls:
                    if pending_call != fn:
                        incl_extra[fn] += cost
                    edges[(fn, pending_call)] += cost
                    pending_call = None
                else:
                    self_cost[fn] += cost
            prev_was_calls = line.startswith("calls=")
    inclusive = {f: self_cost[f] + incl_extra[f] for f in set(self_cost) | set(incl_extra)}
    return self_cost, inclusive, edges, counts


def group(function):
    for label, pattern in GROUPS:
        if re.search(pattern, function):
            return label
    m = CRATE.search(function)
    return m.group(1) if m else "other (" + function[:40] + ")"


def main():
    args = sys.argv[1:]
    callers_of = None
    if args[0] == "--callers":
        callers_of, args = re.compile(args[1]), args[2:]
    calls = int(args[0])
    self_cost = defaultdict(int)
    inclusive = defaultdict(int)
    edges = defaultdict(int)
    counts = defaultdict(int)
    for path in args[1:]:
        s, i, e, n = parse(path)
        for k, v in n.items():
            counts[k] += v
        for k, v in s.items():
            self_cost[k] += v
        for k, v in i.items():
            inclusive[k] += v
        for k, v in e.items():
            edges[k] += v
    if callers_of:
        # Who calls the matching functions, and what those calls cost.
        rows = [(c, a, b) for (a, b), c in edges.items() if callers_of.search(b)]
        print("instructions per call, calls per call, caller -> callee")
        for cost, caller, callee in sorted(rows, reverse=True)[:25]:
            n = counts[(caller, callee)] / calls
            print(f"{cost / calls:10,.0f} {n:6.2f}  {caller[:100]}  ->  {callee[:50]}")
        return
    total = sum(self_cost.values())
    print(f"total: {total / calls:,.0f} instructions per call ({calls} calls)\n")
    by_group = defaultdict(int)
    for function, cost in self_cost.items():
        by_group[group(function)] += cost
    print("| self cost by crate | instructions per call | share |")
    print("|---|---:|---:|")
    for label, cost in sorted(by_group.items(), key=lambda kv: -kv[1]):
        if cost / calls >= 50:
            print(f"| {label} | {cost / calls:,.0f} | {100 * cost / total:.1f}% |")
    print()
    print("| part (self cost) | instructions per call | share |")
    print("|---|---:|---:|")
    named = 0
    for label, crates in PARTS:
        cost = sum(by_group.get(c, 0) for c in crates)
        named += cost
        print(f"| {label} | {cost / calls:,.0f} | {100 * cost / total:.1f}% |")
    print(f"| other | {(total - named) / calls:,.0f} | {100 * (total - named) / total:.1f}% |")
    print()
    print("| layer (inclusive) | instructions per call | share |")
    print("|---|---:|---:|")
    for label, pattern in LAYERS:
        matching = [(c, f) for f, c in inclusive.items() if re.search(pattern, f)]
        if matching:
            cost, _ = max(matching)
            print(f"| {label} | {cost / calls:,.0f} | {100 * cost / total:.1f}% |")


if __name__ == "__main__":
    main()
