#!/usr/bin/env python3
"""Kiln against ONNX Runtime and OpenVINO on the same ONNX files, alternating.

Each round runs, per model, `kiln bench` and then each peer in its own process (same
threads, same iteration count), so the machine's drift hits all systems alike; the table
gives each system's median over the rounds of its in-process medians, and the ratios
ORT ms / Kiln ms and OpenVINO ms / Kiln ms (above 1: Kiln is faster).

    bazel build //tools:kiln
    pip install onnxruntime openvino numpy
    /usr/bin/python3 ../shared/bench/make_models.py --out /tmp/kiln-models
    python3 bench/peers/compare.py --rounds 3 mlp_b64 resnet50_b1 bert_b1

A TAG is a file stem of --dir (TAG.onnx, TAG.in.npy; make_models.py's TAG.json and
TAG.out.npy when present). Peers: ort (bench_ort.py's settings: intra-op threads, one
inter-op thread, sequential, all graph optimizations, bound inputs/outputs) and openvino
(CPU plugin, THREADS inference threads in one stream, latency hint, precision pinned to f32:
its default on CPUs with AVX-512 BF16/AMX is bf16, outside fp32 tolerance). Prints one line
per run, then the table, then one "json:" line per model.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KILN = os.path.join(ROOT, "bazel-bin/tools/kiln")
PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_latency.py")


def kiln_ms(path, args):
    out = subprocess.run(
        [KILN, "bench", path, "--threads", str(args.threads), "--iterations",
         str(args.iterations)] + args.kiln_flags, capture_output=True, text=True, check=True)
    line = re.search(r"^json: (.*)$", out.stdout, re.M).group(1)
    result = json.loads(line)
    return result["median_ms"], result.get("peak_fraction")


def peer_ms(system, path, args):
    out = subprocess.run(
        [sys.executable, PEER, system, path, "--threads", str(args.threads), "--runs",
         str(args.iterations)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{system} on {path} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["median_ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", default="/tmp/kiln-models")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--peers", nargs="*", default=["ort", "openvino"])
    parser.add_argument("--kiln-flag", dest="kiln_flags", action="append", default=[],
                        help="extra flag for kiln bench (repeatable)")
    parser.add_argument("tags", nargs="+")
    args = parser.parse_args()

    times = {tag: {s: [] for s in ["kiln"] + args.peers} for tag in args.tags}
    peak = {}
    for r in range(args.rounds):
        for tag in args.tags:
            path = os.path.join(args.dir, tag + ".onnx")
            ms, fraction = kiln_ms(path, args)
            times[tag]["kiln"].append(ms)
            peak.setdefault(tag, []).append(fraction)
            line = f"round {r + 1} {tag:22s} kiln {ms:9.2f}"
            for system in args.peers:
                ms = peer_ms(system, path, args)
                times[tag][system].append(ms)
                line += f"  {system} {ms:9.2f}"
            print(line, flush=True)

    records = list(records_of(times, args, peak))
    print(f"\n{'model':22s} {'kiln ms':>9s}" + "".join(
        f" {s + ' ms':>12s} {s + '/kiln':>13s}" for s in args.peers))
    for record in records:
        print(f"{record['model']:22s} {record['kiln_ms']:9.2f}" + "".join(
            f" {record[s + '_ms']:12.2f} {record[s + '_over_kiln']:13.2f}" for s in args.peers))
    for record in records:
        print("json: " + json.dumps(record))


def records_of(times, args, peak):
    for tag in args.tags:
        kiln = statistics.median(times[tag]["kiln"])
        record = {"model": tag, "threads": args.threads, "rounds": args.rounds,
                  "kiln_ms": round(kiln, 3)}
        fractions = [f for f in peak[tag] if f is not None]
        if fractions:
            record["kiln_peak_fraction"] = round(statistics.median(fractions), 3)
        for system in args.peers:
            ms = statistics.median(times[tag][system])
            # Beside the ratio of medians, the median of the per-round ratios, which
            # cancels drift between rounds.
            per_round = [p / k for p, k in zip(times[tag][system], times[tag]["kiln"])]
            record[f"{system}_ms"] = round(ms, 3)
            record[f"{system}_over_kiln"] = round(ms / kiln, 3)
            record[f"{system}_over_kiln_round_median"] = round(statistics.median(per_round), 3)
        yield record


if __name__ == "__main__":
    main()
