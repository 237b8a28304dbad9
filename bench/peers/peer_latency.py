#!/usr/bin/env python3
"""Median latency of one inference call of an ONNX file in ONNX Runtime or OpenVINO (CPU).

    python3 peer_latency.py ort|openvino MODEL.onnx [--threads 2] [--runs 20] [--warmup 5]

The input is MODEL.in.npy beside the file when there is one, else random values of the
model's input shapes (symbolic dimensions as 1). When MODEL.out.npy is there (the suite's
PyTorch output), the relative L2 error of the first output against it is reported too, so
a peer that computes something else (OpenVINO's default bf16) is caught.
Prints one JSON line: system, version, median/min/max ms, session creation ms, rel_l2.

ort: intra-op THREADS, one inter-op thread, sequential, all graph optimizations, inputs and
outputs bound once (IOBinding), so a timed call is Run alone.
openvino: CPU plugin, INFERENCE_NUM_THREADS=THREADS, one stream, the latency hint,
INFERENCE_PRECISION_HINT=f32; one infer request reused, inputs set once.
"""
import argparse
import json
import os
import statistics
import time

import numpy as np


def inputs_of(path, specs):
    """specs: [(name, shape with None for symbolic dims, numpy dtype)]."""
    stem = path[:-len(".onnx")]
    if len(specs) == 1 and os.path.exists(stem + ".in.npy"):
        return {specs[0][0]: np.load(stem + ".in.npy")}
    rng = np.random.default_rng(0)
    feeds = {}
    for name, shape, dtype in specs:
        shape = [d if isinstance(d, int) and d >= 0 else 1 for d in shape]
        if np.issubdtype(dtype, np.floating):
            feeds[name] = rng.standard_normal(shape).astype(dtype)
        else:
            feeds[name] = rng.integers(0, 2, shape).astype(dtype)
    return feeds


def time_calls(call, warmup, runs):
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        call()
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1e3)
    return times


def run_ort(path, args):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = args.threads, 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    start = time.perf_counter()
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    create_ms = (time.perf_counter() - start) * 1e3
    types = {"tensor(float)": np.float32, "tensor(int64)": np.int64,
             "tensor(int32)": np.int32, "tensor(bool)": np.bool_}
    feeds = inputs_of(path, [(i.name, i.shape, types[i.type]) for i in session.get_inputs()])
    first = session.run(None, feeds)
    binding = session.io_binding()
    for name, value in feeds.items():
        binding.bind_cpu_input(name, value)
    outputs = [np.empty_like(v) for v in first]
    for info, y in zip(session.get_outputs(), outputs):
        binding.bind_output(info.name, "cpu", 0, y.dtype, list(y.shape), y.ctypes.data)
    times = time_calls(lambda: session.run_with_iobinding(binding), args.warmup, args.runs)
    return ort.__version__, create_ms, times, first[0]


def run_openvino(path, args):
    import openvino as ov
    core = ov.Core()
    config = {"INFERENCE_NUM_THREADS": args.threads, "NUM_STREAMS": 1,
              "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
    start = time.perf_counter()
    model = core.read_model(path)
    specs = [(p.get_any_name(), [d.get_length() if d.is_static else None
                                 for d in p.get_partial_shape()], p.get_element_type().to_dtype())
             for p in model.inputs]
    feeds = inputs_of(path, specs)
    if any(not p.get_partial_shape().is_static for p in model.inputs):
        model.reshape({name: list(value.shape) for name, value in feeds.items()})
    compiled = core.compile_model(model, "CPU", config)
    create_ms = (time.perf_counter() - start) * 1e3
    request = compiled.create_infer_request()
    for name, value in feeds.items():
        request.set_tensor(name, ov.Tensor(value))
    request.infer()
    first = request.get_output_tensor(0).data.copy()
    times = time_calls(request.infer, args.warmup, args.runs)
    return ov.get_version(), create_ms, times, first


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("system", choices=["ort", "openvino"])
    parser.add_argument("model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    run = run_ort if args.system == "ort" else run_openvino
    version, create_ms, times, first = run(args.model, args)
    result = {"system": args.system, "version": version, "model": args.model,
              "threads": args.threads, "runs": args.runs,
              "median_ms": round(statistics.median(times), 3), "min_ms": round(min(times), 3),
              "max_ms": round(max(times), 3), "session_create_ms": round(create_ms, 1)}
    reference = args.model[:-len(".onnx")] + ".out.npy"
    if os.path.exists(reference):
        ref = np.load(reference).astype(np.float64)
        result["rel_l2_vs_torch"] = float(np.linalg.norm(first.astype(np.float64) - ref) /
                                          max(np.linalg.norm(ref), 1e-30))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
