#!/usr/bin/env python3
"""`exhook bench` against h2load on the same provider, in alternating rounds.

    cargo build --release -p exhook-cli -p exhook-bench --bin exhook --bin frame \
        -p exhook-examples --example bench_provider
    python3 exhook-cli/bench/against_h2load.py [rounds] [--binaries DIR]

The provider (`examples/bench_provider.rs`) runs pinned to CPU 0, each load
generator in turn on CPU 1. Both send `OnMessagePublish` requests of the same
size on the same connections and streams: h2load the frame of
`bench/src/bin/frame.rs`, `exhook bench` its own request with the payload
size that makes it as long. Each round runs every load with h2load, then with
`exhook bench`, so that noise from other work on the machine falls on both;
the medians, their ratio and the median of each round's ratio (steadier
when the machine's load drifts) are printed at the end. `--also PATH` runs
another `exhook` binary (an earlier build) in the same rounds.

With `--busy N`, N busy loops run on each of the two CPUs the whole time, as
other programs' builds would: each side then shares its CPU, and a load
generator that needs more CPU per call falls behind.
"""

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time

PATH = "/emqx.exhook.v3.HookProvider/OnMessagePublish"

def free_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()


ADDRESS = free_address()
# (name, connections, streams per connection, calls)
LOADS = [
    ("serial (1 x 1)", 1, 1, 30_000),
    ("4 connections x 64 streams", 4, 64, 200_000),
    ("exhook bench's defaults (8 x 16)", 8, 16, 200_000),
]


def wait_for_port():
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(ADDRESS, timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("the provider did not start")


def busy_loops(per_cpu):
    """`per_cpu` busy loops pinned to each CPU the benchmark uses."""
    return [subprocess.Popen(["taskset", "-c", cpu, "sh", "-c", "while :; do :; done"])
            for cpu in ("0", "1") * per_cpu]


def h2load(frame, connections, streams, calls):
    out = subprocess.run(
        ["taskset", "-c", "1", "h2load", "-n", str(calls), "-c", str(connections),
         "-m", str(streams), "-t", "1", "-d", frame,
         "-H", "content-type: application/grpc", "-H", "te: trailers",
         "http://%s:%d%s" % (ADDRESS + (PATH,))],
        check=True, capture_output=True, text=True).stdout
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded", out)
    if done.group(1) != done.group(2) or int(done.group(1)) != calls:
        sys.exit("h2load: calls failed\n" + out)
    return float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))


def exhook(binary, payload_size, connections, streams, calls):
    out = subprocess.run(
        ["taskset", "-c", "1", binary, "bench", "http://%s:%d" % ADDRESS,
         "--connections", str(connections), "--concurrency", str(connections * streams),
         "--calls", str(calls), "--payload-size", str(payload_size), "--json"],
        check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    if report["errors"]:
        sys.exit("exhook bench: calls failed: %s" % report["errors"])
    return report["calls_per_second"], report["request_bytes"]["message.publish"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rounds", type=int, nargs="?", default=3)
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="N busy loops on each CPU, as other work on the machine")
    parser.add_argument("--binaries", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "release"))
    parser.add_argument("--also", action="append", default=[], metavar="EXHOOK",
                        help="another exhook binary (an earlier build) run in the same rounds")
    args = parser.parse_args()
    exhook_bin = os.path.join(args.binaries, "exhook")
    exhooks = [exhook_bin] + args.also
    frame = "/tmp/exhook-publish.grpc"
    with open(frame, "wb") as f:
        subprocess.run([os.path.join(args.binaries, "frame")], stdout=f, check=True)
    # The gRPC frame is 5 bytes of header and the request.
    want = os.path.getsize(frame) - 5
    provider = subprocess.Popen(
        ["taskset", "-c", "0", os.path.join(args.binaries, "examples", "bench_provider")],
        env=dict(os.environ, EXHOOK_LISTEN="%s:%d" % ADDRESS), stderr=subprocess.DEVNULL)
    busy = busy_loops(args.busy)
    try:
        wait_for_port()
        # The payload size that makes exhook bench's request as long (the
        # lengths' varints may grow by a byte, hence a few tries).
        payload_size, got = 16, None
        for _ in range(4):
            _, got = exhook(exhook_bin, payload_size, 1, 1, 1)
            if got == want:
                break
            payload_size = max(1, payload_size + want - got)
        if got != want:
            sys.exit("cannot match the request size: %d against %d" % (got, want))
        print("requests of %d bytes; load average %s" % (
            want, " ".join(open("/proc/loadavg").read().split()[:3])))
        # One column of calls/s per load generator, one list per load.
        columns = ["h2load"] + ["exhook bench" if path == exhook_bin else path
                                for path in exhooks]
        results = {name: [[] for _ in columns] for name, *_ in LOADS}
        for round_ in range(args.rounds):
            for name, connections, streams, calls in LOADS:
                rates = [h2load(frame, connections, streams, calls)]
                rates += [exhook(path, payload_size, connections, streams, calls)[0]
                          for path in exhooks]
                for column, rate in zip(results[name], rates):
                    column.append(rate)
                print("round %d  %-34s " % (round_ + 1, name) + "  ".join(
                    "%s %.0f (%.3f)" % (label, rate, rate / rates[0])
                    for label, rate in zip(columns, rates)), flush=True)
        print("median of %d rounds; load average %s" % (
            args.rounds, " ".join(open("/proc/loadavg").read().split()[:3])))
        print("| calls/s (ratio of the medians to h2load; median of each round's ratio) | "
              + " | ".join(columns) + " |")
        print("|---" * (len(columns) + 1) + "|")
        for name, rates in results.items():
            h2m = statistics.median(rates[0])
            cells = ["%s" % f"{h2m:,.0f}"]
            for rate in rates[1:]:
                paired = statistics.median(e / h for h, e in zip(rates[0], rate))
                cells.append("%s (%.2f; %.2f)" % (
                    f"{statistics.median(rate):,.0f}", statistics.median(rate) / h2m, paired))
            print("| %s | %s |" % (name, " | ".join(cells)))
    finally:
        for process in busy + [provider]:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
