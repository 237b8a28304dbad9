#!/usr/bin/env python3
"""Load test of kiln-serve against ONNX Runtime behind FastAPI + uvicorn (ort_server.py),
on loopback, with wrk: throughput and p50/p99 latency at 1, 8 and 64 concurrent clients,
each request one instance in TF Serving's row format, the same body for both servers.
Optionally a soak (RSS sampled every 10 s), a hot reload under load, and the same load
over TF Serving's gRPC Predict with h2load (--grpc; kiln-serve only: the peer has no gRPC).

    bazel build -c opt //tools:kiln //tools/serve:kiln-serve
    pip install onnxruntime fastapi uvicorn      # apt install wrk nghttp2-client
    python3 bench/serve/load_test.py --models /tmp/kiln-models --only mlp resnet50
    python3 bench/serve/load_test.py --models /tmp/kiln-models --only mlp --soak 300 --reload
    python3 bench/serve/load_test.py --models /tmp/kiln-models --grpc --skip-ort

--models holds the suite's ONNX files (../shared/bench/make_models.py: mlp_b64.onnx,
resnet50_b1.onnx, and their .in.npy inputs). Their batch dimension is made dynamic for
both servers. Prints one line per run and a JSON line per run ("json: {...}").
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import numpy as np
import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KILN = os.path.join(ROOT, "bazel-bin/tools/kiln")
SERVE = os.path.join(ROOT, "bazel-bin/tools/serve/kiln-serve")
MODELS = {
    # name: (suite file, kiln batch sizes)
    "mlp": ("mlp_b64", "1,2,4,8,16,32,64"),
    "resnet50": ("resnet50_b1", "1,2,4,8"),
}


def dynamic_batch(src, dst):
    """A copy of the ONNX model whose first input and output dimension is symbolic."""
    model = onnx.load(src)
    for value in list(model.graph.input) + list(model.graph.output):
        dim = value.type.tensor_type.shape.dim[0]
        dim.ClearField("dim_value")
        dim.dim_param = "N"
    onnx.save(model, dst)


def wait_http(url, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def wrk(port, name, body_file, clients, seconds):
    script = os.path.join(os.path.dirname(body_file), "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\n'
                f'local f = io.open("{body_file}", "rb")\n'
                'wrk.body = f:read("*a")\nf:close()\n'
                'wrk.headers["Content-Type"] = "application/json"\n')
    out = subprocess.run(
        ["wrk", "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{seconds}s",
         "--latency", "--timeout", "30s", "-s", script,
         f"http://127.0.0.1:{port}/v1/models/{name}:predict"],
        capture_output=True, text=True, check=True).stdout

    def ms(label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
        return float(m.group(1)) * scale

    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + \
        (sum(int(g) for g in sock.groups()) if sock else 0)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": ms("50"), "p99_ms": ms("99"), "requests": requests, "errors": errors}


def grpc_body(work, name, input_name, x):
    """A gRPC message (flag byte, 4-byte big-endian length, PredictRequest) for one
    instance, encoded by protoc from Kiln's copies of TF Serving's protos."""
    text = (f'model_spec {{ name: "{name}" }}\n'
            f'inputs {{ key: "{input_name}" value {{ dtype: DT_FLOAT tensor_shape {{ ' +
            " ".join(f"dim {{ size: {d} }}" for d in x.shape) + " }\n" +
            "float_val: [" + ", ".join(repr(float(v)) for v in x.ravel()) + "] } }\n")
    message = subprocess.run(
        ["protoc", "--proto_path", os.path.join(ROOT, "proto"),
         "--encode=tensorflow.serving.PredictRequest", "tensorflow_serving/apis/predict.proto"],
        input=text.encode(), capture_output=True, check=True).stdout
    path = os.path.join(work, f"{name}.grpc")
    with open(path, "wb") as f:
        f.write(b"\0" + len(message).to_bytes(4, "big") + message)
    return path


def grpc_failures(port):
    """Predict calls over gRPC that kiln-serve answered with a status other than OK: gRPC
    reports errors in trailers of an HTTP 200, which h2load does not read."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/monitoring/prometheus/metrics") as r:
        text = r.read().decode()
    return sum(int(m.group(2)) for m in re.finditer(
        r'^kiln_requests_total\{[^}]*api="grpc",code="([^"]*)"\} (\d+)$', text, re.M)
        if m.group(1) != "200")


def h2load(port, rest_port, body_file, clients, seconds):
    """TF Serving's Predict over gRPC from h2load: one stream at a time per connection."""
    log = body_file + ".log"
    failed_before = grpc_failures(rest_port)
    out = subprocess.run(
        ["h2load", "-c", str(clients), "-t", str(min(clients, 2)), "-m", "1",
         "-D", str(seconds), "--warm-up-time", "1", "-d", body_file,
         "-H", "content-type: application/grpc", "-H", "te: trailers", "--log-file", log,
         f"http://127.0.0.1:{port}/tensorflow.serving.PredictionService/Predict"],
        capture_output=True, text=True, check=True).stdout
    rows = [line.split("\t") for line in open(log) if line.strip()]
    os.remove(log)
    latencies = sorted(int(r[2]) / 1e3 for r in rows if r[1] == "200")
    http_errors = sum(1 for r in rows if r[1] != "200")
    grpc_errors = grpc_failures(rest_port) - failed_before
    if not latencies:
        raise RuntimeError(f"h2load completed no request:\n{out}")
    return {"rps": len(latencies) / seconds,
            "p50_ms": latencies[len(latencies) // 2],
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "requests": len(rows), "errors": http_errors + grpc_errors}


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) / 1024


def start_kiln(model_dir, port, threads, grpc_port=None):
    grpc = ["--grpc_port", str(grpc_port)] if grpc_port else []
    process = subprocess.Popen([SERVE, "--model_dir", model_dir, "--port", str(port),
                                "--threads", str(threads), "--rest_workers", "2"] + grpc,
                               stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/readyz")
    return process


def start_ort(onnx_path, port, workers):
    env = dict(os.environ, ORT_MODEL=onnx_path, ORT_THREADS="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", os.path.dirname(__file__),
         "ort_server:app", "--workers", str(workers), "--port", str(port),
         "--log-level", "warning"], env=env, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return process


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def report(server, name, clients, r):
    print(f"{server:5s} {name:9s} c={clients:<3d} {r['rps']:9.1f} req/s  p50 {r['p50_ms']:8.2f} ms"
          f"  p99 {r['p99_ms']:8.2f} ms  {r['requests']} requests, {r['errors']} errors",
          flush=True)
    print("json: " + json.dumps({"server": server, "model": name, "clients": clients, **r}),
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", required=True)
    parser.add_argument("--only", nargs="*", default=list(MODELS))
    parser.add_argument("--clients", nargs="*", type=int, default=[1, 8, 64])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--soak", type=int, default=0, help="seconds of kiln-serve soak")
    parser.add_argument("--reload", action="store_true",
                        help="drop a new version in during a kiln-serve run")
    parser.add_argument("--grpc", action="store_true",
                        help="also load kiln-serve's gRPC Predict with h2load")
    parser.add_argument("--skip-ort", action="store_true")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="kiln-load-")
    try:
        for name in args.only:
            suite, batches = MODELS[name]
            onnx_path = os.path.join(work, f"{name}.onnx")
            dynamic_batch(os.path.join(args.models, f"{suite}.onnx"), onnx_path)
            model_dir = os.path.join(work, "models")
            os.makedirs(os.path.join(model_dir, name, "1"), exist_ok=True)
            artifact = os.path.join(model_dir, name, "1", "model.kiln")
            subprocess.run([KILN, "compile", onnx_path, "-o", artifact, "--batch", batches],
                           check=True, capture_output=True)
            x = np.load(os.path.join(args.models, f"{suite}.in.npy"))[:1]
            body_file = os.path.join(work, f"{name}.json")
            with open(body_file, "w") as f:
                json.dump({"instances": x.astype(np.float64).tolist()}, f)
            print(f"# {name}: body {os.path.getsize(body_file)} bytes, kiln batches {batches}",
                  flush=True)

            kiln = start_kiln(model_dir, 8611, args.threads, 8610 if args.grpc else None)
            for clients in args.clients:
                report("kiln", name, clients, wrk(8611, name, body_file, clients, args.seconds))
            if args.grpc:
                input_name = onnx.load(onnx_path).graph.input[0].name
                grpc_file = grpc_body(work, name, input_name, x)
                print(f"# {name}: gRPC message {os.path.getsize(grpc_file)} bytes", flush=True)
                for clients in args.clients:
                    report("kiln-grpc", name, clients,
                           h2load(8610, 8611, grpc_file, clients, args.seconds))
            if args.reload:
                # A new version lands mid-run: wrk counts any failed request.
                def publish():
                    time.sleep(args.seconds / 3)
                    staging = os.path.join(work, "staging")
                    os.makedirs(staging, exist_ok=True)
                    shutil.copy(artifact, os.path.join(staging, "model.kiln"))
                    os.rename(staging, os.path.join(model_dir, name, "2"))
                thread = threading.Thread(target=publish)
                thread.start()
                r = wrk(8611, name, body_file, 64, args.seconds)
                thread.join()
                with urllib.request.urlopen(f"http://127.0.0.1:8611/v1/models/{name}") as s:
                    status = json.load(s)["model_version_status"]
                print(f"# reload under load: {r['requests']} requests, {r['errors']} errors; "
                      f"status {[(v['version'], v['state']) for v in status]}", flush=True)
                report("kiln-reload", name, 64, r)
            if args.soak:
                samples = []
                done = threading.Event()

                def sample():
                    while not done.wait(10):
                        samples.append(rss_mb(kiln.pid))
                thread = threading.Thread(target=sample)
                thread.start()
                r = wrk(8611, name, body_file, 8, args.soak)
                done.set()
                thread.join()
                steady = samples[3:] if len(samples) > 4 else samples
                spread = (max(steady) - min(steady)) / min(steady) if steady else 0
                print(f"# soak {args.soak} s at 8 clients: {r['requests']} requests, "
                      f"{r['errors']} errors; RSS MB every 10 s: "
                      f"{' '.join(f'{s:.0f}' for s in samples)}; after 30 s within "
                      f"{100 * spread:.1f}%", flush=True)
                print("json: " + json.dumps({"server": "kiln-soak", "model": name, **r,
                                             "rss_mb": samples, "rss_spread": spread}))
            code = stop(kiln)
            print(f"# kiln-serve exit status after SIGTERM: {code}", flush=True)

            if not args.skip_ort:
                ort = start_ort(onnx_path, 8612, workers=2)
                for clients in args.clients:
                    report("ort", name, clients, wrk(8612, name, body_file, clients, args.seconds))
                stop(ort)
            shutil.rmtree(model_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
