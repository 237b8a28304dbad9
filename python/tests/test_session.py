"""Opening each model format, the signature it reports, and results against NumPy."""
import numpy as np
import pytest

import kiln
from conftest import close


def test_version():
    assert isinstance(kiln.__version__, str) and kiln.__version__


def test_onnx_model_matches_numpy(mlp, mlp_session):
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    outputs = mlp_session.run({"x": x})
    assert list(outputs) == ["y"]
    assert outputs["y"].dtype == np.float32 and outputs["y"].shape == (2, 3)
    close(outputs["y"], mlp.reference(x))


@pytest.mark.parametrize("suffix", [".pb", ".pbtxt"])
def test_graphdef_matches_numpy(mlp, models_dir, suffix):
    path = str(models_dir / f"mlp_import{suffix}")
    kiln.import_onnx(mlp.path, path)
    session = kiln.Session(path)
    assert session.kind == "graph"
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    close(session.run({"x": x})["y"], mlp.reference(x))


def test_artifact_matches_numpy(mlp, mlp_artifact):
    session = kiln.Session(mlp_artifact)
    assert session.kind == "artifact"
    x = np.random.default_rng(2).standard_normal((4, 4)).astype(np.float32)
    close(session.run({"x": x})["y"], mlp.reference(x))


@pytest.mark.parametrize("batch", [1, 2, 5, 16, 0])
def test_batch_dimension_takes_any_size(mlp, mlp_session, batch):
    x = np.random.default_rng(batch).standard_normal((batch, 4)).astype(np.float32)
    y = mlp_session.run({"x": x})["y"]
    assert y.shape == (batch, 3)
    close(y, mlp.reference(x))


@pytest.mark.parametrize("level", [0, 1, 2])
def test_every_optimization_level_gives_the_same_result(mlp, level):
    session = kiln.Session(mlp.path, opt_level=level)
    x = np.random.default_rng(3).standard_normal((2, 4)).astype(np.float32)
    close(session.run({"x": x})["y"], mlp.reference(x))


def test_signature(mlp_session):
    (x,) = mlp_session.inputs
    (y,) = mlp_session.outputs
    assert isinstance(x, kiln.TensorInfo)
    assert (x.name, x.dtype, x.shape, x.type) == ("x", np.dtype(np.float32), (None, 4), "f32[-1,4]")
    assert (y.name, y.dtype, y.shape) == ("y", np.dtype(np.float32), (None, 3))
    assert repr(x) == "TensorInfo(name='x', dtype=float32, shape=(None, 4), type='f32[-1,4]')"


def test_signature_lists_are_copies(mlp_session):
    mlp_session.inputs.clear()
    assert len(mlp_session.inputs) == 1


def test_several_inputs_outputs_and_dtypes(multi):
    session = kiln.Session(multi.path)
    assert [i.name for i in session.inputs] == ["a", "b", "n"]
    assert [o.name for o in session.outputs] == ["sum", "prod", "n1"]
    assert [i.dtype for i in session.inputs] == [np.float32, np.float32, np.int64]
    assert session.inputs[2].shape == (3,)
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.full((2, 3), 0.5, np.float32)
    n = np.array([1, -2, 1 << 40], np.int64)
    outputs = session.run({"a": a, "b": b, "n": n})
    assert list(outputs) == ["sum", "prod", "n1"]
    close(outputs["sum"], a + b)
    close(outputs["prod"], a * b)
    assert outputs["n1"].dtype == np.int64
    np.testing.assert_array_equal(outputs["n1"], n + 1)


def test_output_names_select_and_order(multi):
    session = kiln.Session(multi.path)
    feeds = {"a": np.ones((2, 3), np.float32), "b": np.ones((2, 3), np.float32),
             "n": np.zeros(3, np.int64)}
    outputs = session.run(feeds, output_names=["n1", "sum"])
    assert list(outputs) == ["n1", "sum"]
    assert session.run(feeds, []) == {}


def test_repr_names_path_kind_and_signature(mlp, mlp_session):
    text = repr(mlp_session)
    assert mlp.path in text and "onnx" in text and "x f32[-1,4]" in text and "y f32[-1,3]" in text


def test_path_like(mlp, models_dir):
    import pathlib
    session = kiln.Session(pathlib.Path(mlp.path))
    assert session.path == mlp.path
