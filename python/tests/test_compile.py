"""kiln.compile and kiln.import_onnx, and the artifacts and graphs they write."""
import numpy as np
import pytest

import kiln
from conftest import close


def test_artifact_gives_the_graphs_outputs(mlp, mlp_graph, tmp_path):
    path = str(tmp_path / "from_graph.kiln")
    kiln.compile(mlp_graph, path, batch=[1, 4, 8])
    artifact = kiln.Session(path)
    graph = kiln.Session(mlp_graph)
    assert [(i.name, i.shape, i.dtype) for i in artifact.inputs] == \
        [(i.name, i.shape, i.dtype) for i in graph.inputs]
    assert [(o.name, o.shape, o.dtype) for o in artifact.outputs] == \
        [(o.name, o.shape, o.dtype) for o in graph.outputs]
    rng = np.random.default_rng(9)
    for batch in (1, 4, 8):
        x = rng.standard_normal((batch, 4)).astype(np.float32)
        close(artifact.run({"x": x})["y"], graph.run({"x": x})["y"])
        close(artifact.run({"x": x})["y"], mlp.reference(x))


def test_artifact_rejects_a_batch_it_was_not_compiled_for(mlp_artifact):
    session = kiln.Session(mlp_artifact)
    with pytest.raises(kiln.InvalidArgumentError, match=r"input 'x'.*compiled for f32\[1,4\] or f32\[4,4\]"):
        session.run({"x": np.ones((3, 4), np.float32)})


def test_compile_with_one_batch_size_and_each_level(mlp, tmp_path):
    x = np.ones((2, 4), np.float32)
    for level in (0, 1, 2):
        path = tmp_path / f"b2_O{level}.kiln"
        kiln.compile(mlp.path, path, batch=2, opt_level=level)
        close(kiln.Session(path).run({"x": x})["y"], mlp.reference(x))


def test_compile_fixed_shape_model(multi, tmp_path):
    path = str(tmp_path / "multi.kiln")
    kiln.compile(multi.path, path)
    session = kiln.Session(path)
    a = np.ones((2, 3), np.float32)
    outputs = session.run({"a": a, "b": a, "n": np.arange(3, dtype=np.int64)})
    close(outputs["sum"], a + a)
    np.testing.assert_array_equal(outputs["n1"], [1, 2, 3])


def test_compile_errors(mlp, tmp_path):
    with pytest.raises(kiln.NotFoundError, match="nowhere.onnx"):
        kiln.compile(str(tmp_path / "nowhere.onnx"), str(tmp_path / "x.kiln"))
    with pytest.raises(kiln.InvalidArgumentError):
        kiln.compile(mlp.path, str(tmp_path / "x.kiln"), batch=(4, 1))
    with pytest.raises(kiln.InvalidArgumentError):
        kiln.compile(mlp.path, str(tmp_path / "x.kiln"), batch=(0,))
    with pytest.raises(TypeError, match="batch"):
        kiln.compile(mlp.path, str(tmp_path / "x.kiln"), batch=("1",))
    with pytest.raises(kiln.KilnError, match="no_such_dir"):
        kiln.compile(mlp.path, str(tmp_path / "no_such_dir" / "x.kiln"))


def test_import_onnx_writes_text_and_binary_graphs(mlp, tmp_path):
    kiln.import_onnx(mlp.path, tmp_path / "mlp.pbtxt")
    text = (tmp_path / "mlp.pbtxt").read_text()
    assert "MatMul" in text or "mat_mul" in text.lower()
    kiln.import_onnx(mlp.path, str(tmp_path / "mlp.pb"))
    x = np.ones((1, 4), np.float32)
    close(kiln.Session(str(tmp_path / "mlp.pb")).run({"x": x})["y"], mlp.reference(x))


def test_import_onnx_errors(tmp_path):
    with pytest.raises(kiln.NotFoundError, match="absent.onnx"):
        kiln.import_onnx(str(tmp_path / "absent.onnx"), str(tmp_path / "out.pb"))
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\xff" * 100)
    with pytest.raises(kiln.KilnError, match="garbage.onnx"):
        kiln.import_onnx(str(garbage), str(tmp_path / "out.pb"))


def test_unsupported_op_raises_unimplemented(tmp_path):
    import onnx
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        [helper.make_node("NonZero", ["x"], ["y"], name="nonzero_node")], "nonzero",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 3])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, [2, None])])
    path = tmp_path / "nonzero.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(kiln.KilnError, match="nonzero_node") as error:
        kiln.Session(str(path))
    assert isinstance(error.value, NotImplementedError)
