#!/usr/bin/env python3
"""The baseline a user would otherwise deploy: ONNX Runtime behind FastAPI + uvicorn,
answering TF Serving's row-format predict request ({"instances": [...]} ->
{"predictions": [...]}) on the same URL as kiln-serve, so one load generator drives both.

    pip install onnxruntime fastapi uvicorn
    ORT_MODEL=model.onnx python3 -m uvicorn --app-dir bench/serve ort_server:app \\
        --workers 2 --port 8601 --log-level warning

One worker per core, each with one intra-op thread (ORT_THREADS), so the workers do not
oversubscribe the cores; the model's first dimension must be dynamic or match the rows.
"""
import json
import os

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, Request, Response

options = ort.SessionOptions()
options.intra_op_num_threads = int(os.environ.get("ORT_THREADS", "1"))
options.inter_op_num_threads = 1
session = ort.InferenceSession(os.environ["ORT_MODEL"], options,
                               providers=["CPUExecutionProvider"])
input_name = session.get_inputs()[0].name
app = FastAPI()


@app.post("/v1/models/{name}:predict")
async def predict(name: str, request: Request):
    try:
        body = json.loads(await request.body())
        x = np.asarray(body["instances"], dtype=np.float32)
    except (ValueError, KeyError, TypeError) as error:
        return Response(json.dumps({"error": str(error)}), status_code=400,
                        media_type="application/json")
    y = session.run(None, {input_name: x})[0]
    return Response(json.dumps({"predictions": y.tolist()}), media_type="application/json")


@app.get("/healthz")
async def healthz():
    return Response("ok\n", media_type="text/plain")
