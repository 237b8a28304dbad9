#!/usr/bin/env python3
"""Writes the wire-format goldens of tests/tools/serve/tensor_proto_codec_test.cc with
TensorFlow Serving's own Python classes, and checks Kiln's restated protos against them.

Needs tensorflow-serving-api (it pulls TensorFlow, ~2 GB) in a virtual environment kept
outside the repository:

  python3 -m venv ~/tf-serving-venv
  ~/tf-serving-venv/bin/pip install tensorflow-serving-api
  ~/tf-serving-venv/bin/python tools/serve/make_wire_goldens.py   # from the repository root

It first compiles proto/tensorflow{,_serving}/**/*.proto with /usr/bin/protoc and checks
every field (name, number, type, label, packing, oneof, presence, JSON name), enum value
and RPC of Kiln's copies against the descriptors TensorFlow ships, then writes the
goldens (deterministic serialization: fields by number, map entries by key). The C++ test
spells the expected values out again; change both together. Made with
tensorflow-serving-api 2.21.0.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import tensorflow as tf
from google.protobuf import descriptor_pb2, descriptor_pool
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                     model_service_pb2, predict_pb2,
                                     prediction_service_pb2, status_pb2)

OUT_DIR = "tests/tools/serve/testdata"
PROTO_ROOT = "proto"


# ---------------------------------------------------------------------------------------
# Kiln's protos against TensorFlow's descriptors.

def check_protos():
    protos = []
    for top in ("tensorflow", "tensorflow_serving"):
        for root, _, files in os.walk(os.path.join(PROTO_ROOT, top)):
            protos += [os.path.relpath(os.path.join(root, f), PROTO_ROOT)
                       for f in files if f.endswith(".proto")]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "kiln.desc")
        subprocess.run(["/usr/bin/protoc", "--proto_path=" + PROTO_ROOT, "--include_imports",
                        "--descriptor_set_out=" + out] + sorted(protos), check=True)
        fds = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as f:
            fds.ParseFromString(f.read())
    kiln = descriptor_pool.DescriptorPool()
    for f in fds.file:
        kiln.Add(f)
    tf_pool = descriptor_pool.Default()
    seen = set()

    def check_enum(k, t):
        for v in k.values:
            assert v.name in t.values_by_name, f"{k.full_name}.{v.name}: not TensorFlow's"
            assert t.values_by_name[v.name].number == v.number, f"{k.full_name}.{v.name}"

    def check_message(k):
        if k.full_name in seen:
            return
        seen.add(k.full_name)
        t = tf_pool.FindMessageTypeByName(k.full_name)
        for f in k.fields:
            g = t.fields_by_number.get(f.number)
            where = f"{k.full_name}.{f.name} = {f.number}"
            assert g is not None, f"{where}: no such field in TensorFlow's"
            assert (f.name, f.type, f.is_repeated, f.json_name, f.has_presence) == (
                g.name, g.type, g.is_repeated, g.json_name, g.has_presence), where
            oneof = lambda x: x.containing_oneof.name if x.containing_oneof else None
            assert oneof(f) == oneof(g), where
            if f.is_repeated and f.type not in (f.TYPE_STRING, f.TYPE_BYTES, f.TYPE_MESSAGE):
                assert f.is_packed == g.is_packed, where
            if f.message_type is not None:
                assert f.message_type.full_name == g.message_type.full_name, where
                check_message(f.message_type)
            if f.enum_type is not None:
                assert f.enum_type.full_name == g.enum_type.full_name, where
                check_enum(f.enum_type, g.enum_type)
        left_out = [f"{g.name} = {g.number}" for g in t.fields if g.number not in k.fields_by_number]
        if left_out:
            print(f"  {k.full_name}: left out {', '.join(left_out)}")

    for fd in fds.file:
        if fd.package.startswith("google."):
            continue
        for m in fd.message_type:
            check_message(kiln.FindMessageTypeByName(f"{fd.package}.{m.name}"))
        for e in fd.enum_type:
            name = f"{fd.package}.{e.name}"
            check_enum(kiln.FindEnumTypeByName(name), tf_pool.FindEnumTypeByName(name))
        for s in fd.service:
            ks = kiln.FindServiceByName(f"{fd.package}.{s.name}")
            ts = tf_pool.FindServiceByName(ks.full_name)
            for m in ks.methods:
                tm = ts.methods_by_name[m.name]
                assert (m.input_type.full_name, m.output_type.full_name) == (
                    tm.input_type.full_name, tm.output_type.full_name), m.full_name
                print(f"  /{ks.full_name}/{m.name}")
    print(f"checked {len(seen)} messages of {len(fds.file)} files against TensorFlow's")


# ---------------------------------------------------------------------------------------
# Goldens.

def shape(*dims):
    return tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in dims])


def write(name, message):
    data = message.SerializeToString(deterministic=True)
    with open(os.path.join(OUT_DIR, name), "wb") as f:
        f.write(data)
    print(f"wrote {name}: {len(data)} bytes")


def model_spec(message, signature=True):
    message.model_spec.name = "half_plus_two"
    message.model_spec.version.value = 3
    if signature:
        message.model_spec.signature_name = "serving_default"


def predict_request():
    r = predict_pb2.PredictRequest()
    model_spec(r)
    # "x" through the typed field, as hand-written clients send it.
    r.inputs["x"].CopyFrom(tensor_pb2.TensorProto(
        dtype=types_pb2.DT_FLOAT, tensor_shape=shape(2, 3),
        float_val=[1.0, 2.5, -3.0, 0.5, 100.0, -0.25]))
    # "ids" through tensor_content, as tf.make_tensor_proto writes an array.
    r.inputs["ids"].CopyFrom(tf.make_tensor_proto(np.array([[7, -1], [1 << 40, 0]], np.int64)))
    r.output_filter.append("y")
    return r


def predict_response():
    r = predict_pb2.PredictResponse()
    model_spec(r)
    r.outputs["y"].CopyFrom(tf.make_tensor_proto(
        np.array([[2.5, 3.0, 3.5], [4.0, 4.5, 5.0]], np.float32)))
    r.outputs["classes"].CopyFrom(tf.make_tensor_proto(np.array([1, 0], np.int32)))
    return r


def get_model_status_response():
    r = get_model_status_pb2.GetModelStatusResponse()
    v = r.model_version_status.add()
    v.version = 3
    v.state = get_model_status_pb2.ModelVersionStatus.AVAILABLE
    # TensorFlow Serving always sets status, so an OK one is an empty message on the wire.
    v.status.CopyFrom(status_pb2.StatusProto())
    return r


def get_model_metadata_response():
    r = get_model_metadata_pb2.GetModelMetadataResponse()
    model_spec(r, signature=False)
    signatures = get_model_metadata_pb2.SignatureDefMap()
    sig = signatures.signature_def["serving_default"]
    sig.method_name = "tensorflow/serving/predict"
    sig.inputs["x"].CopyFrom(meta_graph_pb2.TensorInfo(
        name="serving_default_x:0", dtype=types_pb2.DT_FLOAT, tensor_shape=shape(-1, 3)))
    sig.outputs["y"].CopyFrom(meta_graph_pb2.TensorInfo(
        name="StatefulPartitionedCall:0", dtype=types_pb2.DT_FLOAT, tensor_shape=shape(-1, 3)))
    # What every TF2 SavedModel lists too.
    init = signatures.signature_def["__saved_model_init_op"]
    init.outputs["__saved_model_init_op"].CopyFrom(meta_graph_pb2.TensorInfo(
        name="NoOp", tensor_shape=tensor_shape_pb2.TensorShapeProto(unknown_rank=True)))
    r.metadata["signature_def"].Pack(signatures, deterministic=True)
    return r


# One tensor per Kiln dtype in each form tf.make_tensor_proto writes: "<dtype>_array" from
# a [2,3] array (tensor_content, except bool_val for bool), "<dtype>_fill" from one value
# and the shape [2,3] (that value alone in the typed field), "<dtype>_scalar" from one
# value (shape [], typed field).
TF_TENSORS = [
    ("f32", np.float32, [0.5, -1.25, 2.0, 3.5, -4.0, 1024.0], 1.5),
    ("f64", np.float64, [0.1, -2.5, 1e300, -1e-300, 0.0, 7.0], -0.1),
    ("f16", np.float16, [0.5, -1.25, 2.0, 3.5, -4.0, 65504.0], 1.5),
    ("bf16", tf.bfloat16.as_numpy_dtype, [0.5, -1.25, 2.0, 3.5, -4.0, 1024.0], 1.5),
    ("i8", np.int8, [-128, -1, 0, 1, 100, 127], -7),
    ("u8", np.uint8, [0, 1, 2, 128, 200, 255], 200),
    ("i32", np.int32, [-(1 << 31), -1, 0, 1, 7, (1 << 31) - 1], -7),
    ("i64", np.int64, [-(1 << 63), -1, 0, 1, 1 << 40, (1 << 63) - 1], 1 << 40),
    ("bool", np.bool_, [True, False, True, True, False, False], True),
]


def tf_tensors():
    r = predict_pb2.PredictResponse()
    for name, np_type, values, fill in TF_TENSORS:
        array = np.array(values, dtype=np_type).reshape(2, 3)
        r.outputs[f"{name}_array"].CopyFrom(tf.make_tensor_proto(array))
        r.outputs[f"{name}_fill"].CopyFrom(
            tf.make_tensor_proto(np.array(fill, dtype=np_type), shape=[2, 3]))
        r.outputs[f"{name}_scalar"].CopyFrom(tf.make_tensor_proto(np.array(fill, dtype=np_type)))
    return r


def main():
    if not os.path.isdir(PROTO_ROOT):
        sys.exit("run from the repository root")
    check_protos()
    os.makedirs(OUT_DIR, exist_ok=True)
    write("predict_request.pb", predict_request())
    write("predict_response.pb", predict_response())
    write("get_model_status_response.pb", get_model_status_response())
    write("get_model_metadata_response.pb", get_model_metadata_response())
    write("tf_tensors.pb", tf_tensors())


if __name__ == "__main__":
    main()
