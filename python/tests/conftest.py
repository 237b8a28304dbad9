"""Models for the tests, written once per run with the onnx package: each model's NumPy
reference comes with it, so every test can check Kiln's results against NumPy."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import kiln

OPSET = [helper.make_opsetid("", 13)]


def _save(model, path):
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


class Mlp:
    """y = relu(x @ w1 + b1) @ w2, x: f32[batch, 4] -> y: f32[batch, 3]."""

    def __init__(self, path):
        rng = np.random.default_rng(7)
        self.w1 = rng.standard_normal((4, 8)).astype(np.float32)
        self.b1 = rng.standard_normal(8).astype(np.float32)
        self.w2 = rng.standard_normal((8, 3)).astype(np.float32)
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w1"], ["h0"]),
             helper.make_node("Add", ["h0", "b1"], ["h1"]),
             helper.make_node("Relu", ["h1"], ["h2"]),
             helper.make_node("MatMul", ["h2", "w2"], ["y"])],
            "mlp",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
            [numpy_helper.from_array(self.w1, "w1"), numpy_helper.from_array(self.b1, "b1"),
             numpy_helper.from_array(self.w2, "w2")])
        self.path = _save(helper.make_model(graph, opset_imports=OPSET), path)

    def reference(self, x):
        return np.maximum(x @ self.w1 + self.b1, 0) @ self.w2


class Multi:
    """Three inputs of two dtypes and fixed shapes, three outputs:
    sum = a + b, prod = a * b (f32[2,3]); n1 = n + 1 (i64[3])."""

    def __init__(self, path):
        graph = helper.make_graph(
            [helper.make_node("Add", ["a", "b"], ["sum"]),
             helper.make_node("Mul", ["a", "b"], ["prod"]),
             helper.make_node("Add", ["n", "one"], ["n1"])],
            "multi",
            [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 3]),
             helper.make_tensor_value_info("b", TensorProto.FLOAT, [2, 3]),
             helper.make_tensor_value_info("n", TensorProto.INT64, [3])],
            [helper.make_tensor_value_info("sum", TensorProto.FLOAT, [2, 3]),
             helper.make_tensor_value_info("prod", TensorProto.FLOAT, [2, 3]),
             helper.make_tensor_value_info("n1", TensorProto.INT64, [3])],
            [numpy_helper.from_array(np.array(1, np.int64), "one")])
        self.path = _save(helper.make_model(graph, opset_imports=OPSET), path)


class Deep:
    """A heavier model for the threading tests: x: f32[batch, 256] through 8 layers of
    tanh(x @ w_i) with 256x256 weights."""

    LAYERS = 8
    WIDTH = 256

    def __init__(self, path):
        rng = np.random.default_rng(11)
        self.weights = [(rng.standard_normal((self.WIDTH, self.WIDTH)) / 16).astype(np.float32)
                        for _ in range(self.LAYERS)]
        nodes, inits, previous = [], [], "x"
        for i, w in enumerate(self.weights):
            nodes += [helper.make_node("MatMul", [previous, f"w{i}"], [f"m{i}"]),
                      helper.make_node("Tanh", [f"m{i}"], [f"t{i}"])]
            inits.append(numpy_helper.from_array(w, f"w{i}"))
            previous = f"t{i}"
        nodes.append(helper.make_node("Identity", [previous], ["y"]))
        graph = helper.make_graph(
            nodes, "deep",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", self.WIDTH])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", self.WIDTH])],
            inits)
        self.path = _save(helper.make_model(graph, opset_imports=OPSET), path)

    def reference(self, x):
        for w in self.weights:
            x = np.tanh(x @ w)
        return x


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def mlp(models_dir):
    return Mlp(models_dir / "mlp.onnx")


@pytest.fixture(scope="session")
def multi(models_dir):
    return Multi(models_dir / "multi.onnx")


@pytest.fixture(scope="session")
def deep(models_dir):
    return Deep(models_dir / "deep.onnx")


@pytest.fixture(scope="session")
def mlp_graph(mlp, models_dir):
    """The MLP as a binary GraphDef, converted by kiln.import_onnx."""
    path = str(models_dir / "mlp.pb")
    kiln.import_onnx(mlp.path, path)
    return path


@pytest.fixture(scope="session")
def mlp_artifact(mlp, models_dir):
    """The MLP compiled for batch sizes 1 and 4."""
    path = str(models_dir / "mlp.kiln")
    kiln.compile(mlp.path, path, batch=(1, 4))
    return path


@pytest.fixture(scope="session")
def mlp_session(mlp):
    return kiln.Session(mlp.path, threads=1)


def close(actual, expected):
    """Kiln's kernels may fuse and reorder float sums: compare with a tolerance."""
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)
