#!/usr/bin/env python3
"""Checks kiln-serve with TF Serving's own Python client (tensorflow-serving-api), end to
end over gRPC and REST: GetModelStatus, GetModelMetadata, Predict with a tensor from
tf.make_tensor_proto, and the REST predict of the same rows, which must agree.

Outside `make test`, since the client pulls TensorFlow:
    python3 -m venv /tmp/tfs && /tmp/tfs/bin/pip install tensorflow-serving-api
    bazel build //tools:kiln //tools/serve:kiln-serve //examples:write_models
    /tmp/tfs/bin/python bench/serve/tf_serving_client_check.py
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                     model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "bazel-bin")


def main():
    work = tempfile.mkdtemp(prefix="kiln-tfs-")
    subprocess.run([f"{BIN}/examples/write_models", work, "--models", "mlp"], check=True,
                   capture_output=True)
    os.makedirs(f"{work}/models/mlp/1")
    subprocess.run([f"{BIN}/tools/kiln", "compile", f"{work}/mlp.pb", "-o",
                    f"{work}/models/mlp/1/model.kiln", "--batch", "1,4,8"], check=True,
                   capture_output=True)
    server = subprocess.Popen([f"{BIN}/tools/serve/kiln-serve", "--model_dir", f"{work}/models",
                               "--port", "0", "--grpc_port", "0"],
                              stderr=subprocess.PIPE, text=True)
    try:
        for line in server.stderr:
            match = re.search(r"REST on port (\d+), gRPC on port (\d+)", line)
            if match:
                rest, port = int(match.group(1)), int(match.group(2))
                break
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")

        status = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(
            get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "mlp"}), timeout=10)
        print("GetModelStatus:", status.model_version_status[0].version,
              get_model_status_pb2.ModelVersionStatus.State.Name(
                  status.model_version_status[0].state))

        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        metadata = stub.GetModelMetadata(get_model_metadata_pb2.GetModelMetadataRequest(
            model_spec={"name": "mlp"}, metadata_field=["signature_def"]), timeout=10)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        metadata.metadata["signature_def"].Unpack(signatures)
        x_info = signatures.signature_def["serving_default"].inputs["x"]
        print("GetModelMetadata: x", tf.dtypes.as_dtype(x_info.dtype).name,
              [d.size for d in x_info.tensor_shape.dim])

        x = np.random.default_rng(0).standard_normal((3, 784)).astype(np.float32)
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "mlp"
        request.model_spec.signature_name = "serving_default"
        request.inputs["x"].CopyFrom(tf.make_tensor_proto(x))
        reply = stub.Predict(request, timeout=10)
        y = tf.make_ndarray(reply.outputs["y"])
        print("Predict:", reply.model_spec.name, reply.model_spec.version.value, y.shape,
              "rows sum to", np.round(y.sum(axis=1), 6).tolist())

        body = json.dumps({"instances": x.tolist()}).encode()
        with urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{rest}/v1/models/mlp:predict", data=body)) as r:
            y_rest = np.array(json.load(r)["predictions"], dtype=np.float32)
        print("REST predict agrees with gRPC: max |difference|",
              float(np.abs(y_rest - y).max()))
        assert y.shape == (3, 10) and np.abs(y_rest - y).max() <= 1e-6

        try:
            request.model_spec.name = "absent"
            stub.Predict(request, timeout=10)
            raise AssertionError("an unknown model was served")
        except grpc.RpcError as error:
            print("Predict of an unknown model:", error.code().name, "-", error.details())
        print("OK")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
