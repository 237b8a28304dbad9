#!/usr/bin/env python3
"""A torchvision model through Kiln and ONNX Runtime: exports it to ONNX with PyTorch,
runs the same input through both, prints the largest absolute difference of the outputs
and the median time of --runs runs of each.

Needs torch, torchvision, onnx and onnxruntime in the interpreter that runs it, and the
kiln package: installed (pip install, docs/python.md), or the Bazel-built extension on
PYTHONPATH (any CPython 3.11 loads it):

    bazel build //python:_kiln.so
    mkdir -p /tmp/kiln-site/kiln && cp python/kiln/*.py bazel-bin/python/_kiln.so /tmp/kiln-site/kiln/
    PYTHONPATH=/tmp/kiln-site python3 python/examples/torchvision_compare.py --model resnet18

The weights are random (weights=None): nothing is downloaded, and the comparison of two
runtimes on one model does not depend on them.
"""
import argparse
import os
import statistics
import tempfile
import time
import warnings

import numpy as np


def export(model_name, path, batch, size):
    import torch
    import torchvision

    torch.manual_seed(0)
    model = getattr(torchvision.models, model_name)(weights=None).eval()
    example = torch.randn(batch, 3, size, size)
    export_args = dict(input_names=["input"], output_names=["logits"], opset_version=17)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        try:
            # The TorchScript exporter writes one opset-17 file (Kiln imports opsets 1
            # to 17); PyTorch 2.9 and later default to the torch.export-based one.
            torch.onnx.export(model, example, path, dynamo=False, **export_args)
        except TypeError:  # PyTorch before 2.5: no `dynamo` argument, TorchScript only
            torch.onnx.export(model, example, path, **export_args)


def median_ms(run, runs, warmup=3):
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="resnet18", help="a torchvision.models constructor")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--size", type=int, default=224, help="input height and width")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0, help="0: one per core (both)")
    parser.add_argument("--onnx", help="keep the exported model here (default: a temp dir)")
    args = parser.parse_args()

    import kiln
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        path = args.onnx or os.path.join(tmp, f"{args.model}.onnx")
        start = time.perf_counter()
        export(args.model, path, args.batch, args.size)
        print(f"exported {args.model} to {path} in {time.perf_counter() - start:.1f} s")

        x = np.random.default_rng(0).standard_normal(
            (args.batch, 3, args.size, args.size)).astype(np.float32)

        start = time.perf_counter()
        session = kiln.Session(path, threads=args.threads)
        kiln_y = session.run({"input": x})["logits"]  # the first run compiles the plan
        print(f"kiln: opened and first run in {time.perf_counter() - start:.1f} s; {session}")

        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        ort_session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        ort_y = ort_session.run(["logits"], {"input": x})[0]

        diff = np.abs(kiln_y.astype(np.float64) - ort_y).max()
        scale = np.abs(ort_y).max()
        print(f"outputs {kiln_y.shape}: max abs diff {diff:.3g} (largest |output| {scale:.3g}); "
              f"same top-1: {np.array_equal(kiln_y.argmax(-1), ort_y.argmax(-1))}")

        kiln_ms = median_ms(lambda: session.run({"input": x}), args.runs)
        ort_ms = median_ms(lambda: ort_session.run(["logits"], {"input": x}), args.runs)
        print(f"median of {args.runs} runs: kiln {kiln_ms:.2f} ms, onnxruntime {ort_ms:.2f} ms "
              f"(kiln / onnxruntime = {kiln_ms / ort_ms:.2f})")


if __name__ == "__main__":
    main()
