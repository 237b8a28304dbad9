#!/usr/bin/env python3
"""kiln-serve end to end, as a client sees it: `kiln compile` writes the example MLP into
a model directory, kiln-serve serves it on a free port, and plain HTTP requests check TF
Serving's REST contract (predict in both layouts, status, metadata, errors and their
codes), health and metrics, merged batches under concurrent load, a new version taking
traffic with no request failing, a damaged version leaving the previous one serving, and
SIGTERM answering the requests in flight before exiting 0."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import numpy as np

KILN = os.path.abspath("tools/kiln")
SERVE = os.path.abspath("tools/serve/kiln-serve")
WRITE_MODELS = os.path.abspath("examples/write_models")
TMP = os.environ.get("TEST_TMPDIR", tempfile.gettempdir())


def compile_version(graph, model_dir, version):
    """Compiles `graph` into MODEL_DIR/mlp/VERSION/model.kiln, the folder appearing whole."""
    staging = os.path.join(TMP, f"staging-{version}")
    os.makedirs(staging, exist_ok=True)
    subprocess.run([KILN, "compile", graph, "-o", os.path.join(staging, "model.kiln"),
                    "--batch", "1,4,16"], check=True, capture_output=True)
    os.rename(staging, os.path.join(model_dir, "mlp", str(version)))


class Server:
    def __init__(self, model_dir, *flags):
        self.process = subprocess.Popen(
            [SERVE, "--model_dir", model_dir, "--port", "0", "--threads", "2", *flags],
            stderr=subprocess.PIPE, text=True)
        self.log = []
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            self.log.append(line)
            match = re.search(r"REST on port (\d+)", line)
            if match:
                self.port = int(match.group(1))
                threading.Thread(target=self._drain, daemon=True).start()
                return
        raise RuntimeError("kiln-serve did not start: " + "".join(self.log))

    def _drain(self):
        for line in self.process.stderr:
            self.log.append(line)

    def request(self, method, path, body=None, timeout=30):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except (urllib.error.URLError, ConnectionError) as error:
            return 0, str(error)  # refused: the server is not listening

    def json(self, method, path, body=None):
        code, text = self.request(method, path, body)
        return code, json.loads(text)


class ServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(dir=TMP)
        subprocess.run([WRITE_MODELS, cls.dir, "--models", "mlp"], check=True,
                       capture_output=True)
        cls.graph = os.path.join(cls.dir, "mlp.pb")
        cls.models = os.path.join(cls.dir, "models")
        os.makedirs(os.path.join(cls.models, "mlp"))
        compile_version(cls.graph, cls.models, 1)
        config = os.path.join(cls.dir, "serve.pbtxt")
        with open(config, "w") as f:
            f.write('models { name: "mlp" batching { batch_timeout_micros: 5000 } }\n')
        cls.server = Server(cls.models, "--config", config, "--max_body_bytes", "4000000",
                            "--poll_seconds", "1")
        cls.rng = np.random.default_rng(0)

    @classmethod
    def tearDownClass(cls):
        if cls.server.process.poll() is None:
            cls.server.process.kill()
        # The server's own account (a sanitizer report, a load error) for any failure above.
        sys.stderr.write("kiln-serve's log:\n" + "".join(cls.server.log[-60:]))
        shutil.rmtree(cls.dir, ignore_errors=True)

    def reference(self, x):
        """The artifact's outputs for `x` through `kiln run MODEL.kiln` (runtime core)."""
        folder = tempfile.mkdtemp(dir=TMP)
        np.save(os.path.join(folder, "x.npy"), x)
        subprocess.run([KILN, "run", os.path.join(self.models, "mlp", "1", "model.kiln"),
                        "--input", f"x={folder}/x.npy", "--output", folder], check=True,
                       capture_output=True)
        return np.load(os.path.join(folder, "y.npy"))

    def test_predict_rows_and_columns(self):
        x = self.rng.standard_normal((4, 784)).astype(np.float32)
        want = self.reference(x)
        code, reply = self.server.json("POST", "/v1/models/mlp:predict",
                                       {"instances": x.tolist()})
        self.assertEqual(code, 200, reply)
        np.testing.assert_allclose(np.array(reply["predictions"]), want, atol=1e-6)
        code, reply = self.server.json("POST", "/v1/models/mlp/versions/1:predict",
                                       {"signature_name": "serving_default",
                                        "inputs": {"x": x.tolist()}})
        self.assertEqual(code, 200, reply)
        np.testing.assert_allclose(np.array(reply["outputs"]), want, atol=1e-6)
        # Three rows: padded to the compiled batch of 4, the padding dropped.
        code, reply = self.server.json("POST", "/v1/models/mlp:predict",
                                       {"instances": x[:3].tolist()})
        self.assertEqual(code, 200, reply)
        self.assertEqual(np.array(reply["predictions"]).shape, (3, 10))
        np.testing.assert_allclose(np.array(reply["predictions"]), want[:3], atol=1e-6)

    def test_status_and_metadata(self):
        code, reply = self.server.json("GET", "/v1/models/mlp/versions/1")
        self.assertEqual(code, 200)
        self.assertEqual(reply["model_version_status"][0],
                         {"version": "1", "state": "AVAILABLE",
                          "status": {"error_code": "OK", "error_message": ""}})
        code, reply = self.server.json("GET", "/v1/models/mlp/versions/1/metadata")
        self.assertEqual(code, 200)
        self.assertEqual(reply["model_spec"]["name"], "mlp")
        signature = reply["metadata"]["signature_def"]["signature_def"]["serving_default"]
        self.assertEqual(signature["inputs"]["x"]["dtype"], "DT_FLOAT")
        self.assertEqual([d["size"] for d in signature["inputs"]["x"]["tensor_shape"]["dim"]],
                         ["-1", "784"])
        self.assertEqual(signature["outputs"]["y"]["dtype"], "DT_FLOAT")

    def test_errors_are_json_with_tf_serving_codes(self):
        cases = [
            ("POST", "/v1/models/mlp:predict", b"{not json", 400, "malformed JSON"),
            ("POST", "/v1/models/nope:predict", {"instances": [[1.0]]}, 404,
             "Servable not found for request: Latest(nope)"),
            ("POST", "/v1/models/mlp/versions/9:predict", {"instances": [[1.0]]}, 404,
             "Specific(mlp, 9)"),
            ("POST", "/v1/models/mlp:predict", {"inputs": {"z": [[1.0]]}}, 400, "'z'"),
            ("POST", "/v1/models/mlp:predict", {"instances": [[1.0, 2.0]]}, 400, "input 'x'"),
            ("POST", "/v1/models/mlp:predict", {"instances": [[0.0] * 784] * 17}, 400,
             "takes 1 to 16 per request"),
            ("POST", "/v1/models/mlp:predict",
             {"signature_name": "other", "instances": [[0.0] * 784]}, 400, "other"),
            ("POST", "/v1/models/mlp:classify", {"examples": []}, 501, "not supported"),
            ("GET", "/v1/models/mlp:predict", None, 404, "Malformed request"),
            ("GET", "/v2/anything", None, 404, "Malformed request"),
            ("GET", "/v1/models/nope", None, 404, "nope"),
        ]
        for method, path, body, want_code, want_text in cases:
            code, text = self.server.request(method, path, body)
            self.assertEqual(code, want_code, (path, text))
            self.assertIn(want_text, json.loads(text)["error"], path)
        # A body over --max_body_bytes is refused from its Content-Length, before it is
        # read (so a raw socket: an HTTP client would still be sending it).
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=30) as s:
            s.sendall(b"POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: 5000000\r\n\r\n" + b"[" * 1000)
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 413"))
        # Malformed HTTP is refused by the transport: other methods, megabytes of headers,
        # a request line that is not HTTP; a chunked body reaches the JSON parser.
        for raw, status in [
            (b"PUT /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
             b"HTTP/1.1 501"),
            (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n",
             b"HTTP/1.1 400"),
            (b"GARBAGE\r\n\r\n", b"HTTP/1.1 400"),
            (b"POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
             b"\r\n\r\n5\r\n{\"ins\r\n0\r\n\r\n", b"HTTP/1.1 400"),
        ]:
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=30) as s:
                s.sendall(raw)
                self.assertTrue(s.recv(4096).startswith(status), raw[:40])
        # The server still answers.
        self.assertEqual(self.server.request("GET", "/healthz")[0], 200)

    def test_health_ready_metrics(self):
        self.assertEqual(self.server.request("GET", "/healthz"), (200, "ok\n"))
        self.assertEqual(self.server.request("GET", "/readyz"), (200, "ready\n"))
        self.server.request("POST", "/v1/models/mlp:predict", {"instances": [[0.0] * 784]})
        code, text = self.server.request("GET", "/monitoring/prometheus/metrics")
        self.assertEqual(code, 200)
        self.assertRegex(text, r'kiln_requests_total\{model="mlp",version="1",api="rest",'
                               r'code="200"\} \d+')
        self.assertIn("kiln_request_latency_seconds_bucket", text)
        self.assertIn("kiln_queue_rows", text)

    def test_zz_concurrent_clients_hot_reload_bad_version_and_drain(self):
        """Runs last (unittest sorts by name): it changes the model directory and stops
        the server."""
        failures, answered, stop = [], [0], threading.Event()
        lock = threading.Lock()

        def client(seed):
            rng = np.random.default_rng(seed)
            while not stop.is_set():
                rows = int(rng.integers(1, 4))
                body = {"instances": rng.standard_normal((rows, 784)).astype(np.float32).tolist()}
                code, text = self.server.request("POST", "/v1/models/mlp:predict", body)
                with lock:
                    if code != 200 or len(json.loads(text)["predictions"]) != rows:
                        failures.append((code, text[:200]))
                    answered[0] += 1

        # Daemon threads: a failure below (the server gone) must not keep the test alive.
        clients = [threading.Thread(target=client, args=(s,), daemon=True) for s in range(16)]
        for t in clients:
            t.start()
        time.sleep(1.0)
        compile_version(self.graph, self.models, 2)  # hot reload under load
        deadline = time.time() + 30
        while time.time() < deadline:
            _, status = self.server.json("GET", "/v1/models/mlp")
            if status["model_version_status"][0]["state"] == "AVAILABLE" and \
                    status["model_version_status"][0]["version"] == "2":
                break
            time.sleep(0.2)
        time.sleep(1.0)
        # A damaged version 3: reported, and version 2 keeps serving.
        os.makedirs(os.path.join(self.models, "mlp", "3"))
        with open(os.path.join(self.models, "mlp", "3", "model.kiln"), "wb") as f:
            f.write(b"\x89KILN\r\n\x1a" + b"\0" * 300)
        time.sleep(2.5)
        stop.set()
        for t in clients:
            t.join()
        self.assertEqual(failures, [])
        self.assertGreater(answered[0], 50)
        _, status = self.server.json("GET", "/v1/models/mlp")
        states = {s["version"]: s for s in status["model_version_status"]}
        self.assertEqual(states["2"]["state"], "AVAILABLE")
        self.assertEqual(states["1"]["state"], "END")
        self.assertEqual(states["3"]["state"], "END")
        self.assertIn("artifact", states["3"]["status"]["error_message"])
        self.assertEqual(states["3"]["status"]["error_code"], "FAILED_PRECONDITION")
        code, reply = self.server.json("GET", "/v1/models/mlp/metadata")
        self.assertEqual(reply["model_spec"]["version"], "2")
        # Concurrent requests were merged: fewer runs than requests.
        _, metrics = self.server.request("GET", "/metrics")
        runs = sum(int(n) for n in re.findall(r"kiln_batch_rows_count\{[^}]*\} (\d+)", metrics))
        self.assertLess(runs, answered[0])

        # SIGTERM with requests in flight: each is answered, then the server exits 0.
        results = []

        def late_client():
            results.append(self.server.request(
                "POST", "/v1/models/mlp:predict", {"instances": [[0.5] * 784] * 16})[0])

        late = [threading.Thread(target=late_client, daemon=True) for _ in range(8)]
        for t in late:
            t.start()
        time.sleep(0.05)
        self.server.process.send_signal(signal.SIGTERM)
        for t in late:
            t.join()
        self.assertEqual(self.server.process.wait(timeout=30), 0, "".join(self.server.log))
        # Requests that arrived before the signal were answered; later ones were refused
        # at connect, never dropped half-way.
        self.assertTrue(all(code == 200 for code in results if code), results)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
