"""Files that cannot be opened: each error names the path."""
import os

import numpy as np
import pytest

import kiln


def test_nonexistent_file(tmp_path):
    for name in ("missing.onnx", "missing.pb", "missing.kiln"):
        path = str(tmp_path / name)
        with pytest.raises(kiln.KilnError, match=path) as error:
            kiln.Session(path)
        assert isinstance(error.value, FileNotFoundError)
        assert error.value.code == "NOT_FOUND"


@pytest.mark.parametrize("name", ["garbage.onnx", "garbage.pb", "garbage.kiln", "garbage.kgraph"])
def test_garbage_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(os.urandom(1000) + b"\x00not a model")
    with pytest.raises(kiln.KilnError, match=str(path)):
        kiln.Session(str(path))


def test_truncated_onnx_model(mlp, tmp_path):
    data = open(mlp.path, "rb").read()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(kiln.KilnError, match=str(path)):
        kiln.Session(str(path))


def test_truncated_graphdef(mlp_graph, tmp_path):
    data = open(mlp_graph, "rb").read()
    path = tmp_path / "truncated.pb"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(kiln.KilnError, match=str(path)):
        kiln.Session(str(path))


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_artifact(mlp_artifact, tmp_path, fraction):
    data = open(mlp_artifact, "rb").read()
    path = tmp_path / "truncated.kiln"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(kiln.KilnError, match=str(path)):
        kiln.Session(str(path))


def test_damaged_artifact(mlp_artifact, tmp_path):
    data = bytearray(open(mlp_artifact, "rb").read())
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "damaged.kiln"
    path.write_bytes(bytes(data))
    with pytest.raises(kiln.KilnError, match=str(path)):
        kiln.Session(str(path)).run({"x": np.ones((1, 4), np.float32)})


def test_directory_is_not_a_model(tmp_path):
    with pytest.raises(kiln.KilnError, match=str(tmp_path)):
        kiln.Session(str(tmp_path))


def test_bad_options(mlp):
    with pytest.raises(kiln.InvalidArgumentError, match="threads"):
        kiln.Session(mlp.path, threads=-1)
    with pytest.raises(kiln.InvalidArgumentError):
        kiln.Session(mlp.path, opt_level=7)
