#!/usr/bin/env python3
"""Per-call overhead of kiln.Session.run on a tiny graph, against ONNX Runtime.

The graph is y = x + 1 on f32[1,4]: the kernel's work is a few nanoseconds, so a call's
time is the binding's cost (feeds checked, the GIL released and taken back, the output
array allocated) plus the runtime's. Each call is timed alone; the median of --calls
calls is reported, and the ratio of each runner to Kiln.

    bazel build //python:_kiln.so
    mkdir -p /tmp/kiln-site/kiln && cp python/kiln/*.py bazel-bin/python/_kiln.so /tmp/kiln-site/kiln/
    PYTHONPATH=/tmp/kiln-site python3 bench/python/run_overhead.py [--calls 20000]

Needs numpy and onnx, and onnxruntime for the comparison (skipped when missing); kiln may
also be an installed package (docs/python.md).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import kiln


def tiny_model(path):
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "one"], ["y"])], "add_one",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [numpy_helper.from_array(np.ones((), np.float32), "one")])
    # IR version 8 / opset 13: loadable by every ONNX Runtime since 1.10.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.save(model, path)


def median_ns(call, calls, warmup):
    for _ in range(warmup):
        call()
    times = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        start = clock()
        call()
        times.append(clock() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20000, help="timed calls per runner")
    parser.add_argument("--warmup", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = os.path.join(tmp, "add_one.onnx")
        artifact_path = os.path.join(tmp, "add_one.kiln")
        tiny_model(onnx_path)
        kiln.compile(onnx_path, artifact_path)
        x = np.arange(4, dtype=np.float32).reshape(1, 4)
        expected = x + 1

        runners = {}
        graph_session = kiln.Session(onnx_path, threads=1)
        runners["kiln Session(onnx)"] = lambda: graph_session.run({"x": x})
        artifact_session = kiln.Session(artifact_path, threads=1)
        runners["kiln Session(artifact)"] = lambda: artifact_session.run({"x": x})
        try:
            import onnxruntime as ort
        except ImportError:
            print("onnxruntime is not installed: Kiln only", file=sys.stderr)
            ort = None
        if ort is not None:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            ort_session = ort.InferenceSession(onnx_path, options,
                                               providers=["CPUExecutionProvider"])
            runners["onnxruntime run"] = lambda: ort_session.run(None, {"x": x})
        runners["numpy x + 1 (floor)"] = lambda: x + 1

        for name, call in runners.items():
            result = call()
            y = result["y"] if isinstance(result, dict) else (
                result[0] if isinstance(result, list) else result)
            np.testing.assert_allclose(y, expected)

        results = {name: median_ns(call, args.calls, args.warmup) for name, call in runners.items()}

    print(f"kiln {kiln.__version__}, numpy {np.__version__}"
          + (f", onnxruntime {ort.__version__}" if ort is not None else "")
          + f", python {sys.version.split()[0]}; median of {args.calls} calls, f32[1,4] y = x + 1")
    base = results["kiln Session(onnx)"]
    for name, ns in results.items():
        print(f"  {name:26s} {ns / 1000:8.2f} us   x{ns / base:5.2f} of kiln Session(onnx)")


if __name__ == "__main__":
    main()
