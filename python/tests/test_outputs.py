"""The arrays run() returns: layout, alignment, ownership."""
import gc

import numpy as np

import kiln
from conftest import close


def test_outputs_are_writeable_contiguous_and_aligned(mlp_session):
    for batch in (1, 3, 7):
        y = mlp_session.run({"x": np.ones((batch, 4), np.float32)})["y"]
        assert y.flags.writeable and y.flags.c_contiguous and y.flags.aligned
        assert y.ctypes.data % 64 == 0
        y += 1  # writeable in place


def test_every_output_is_aligned(multi):
    session = kiln.Session(multi.path)
    outputs = session.run({"a": np.ones((2, 3), np.float32), "b": np.ones((2, 3), np.float32),
                           "n": np.zeros(3, np.int64)})
    for array in outputs.values():
        assert array.ctypes.data % 64 == 0 and array.flags.c_contiguous


def test_outputs_outlive_the_session(mlp):
    session = kiln.Session(mlp.path)
    x = np.random.default_rng(4).standard_normal((5, 4)).astype(np.float32)
    y = session.run({"x": x})["y"]
    expected = mlp.reference(x)
    del session
    gc.collect()
    close(y, expected)
    y[...] = 0
    assert not y.any()


def test_outputs_do_not_share_memory_between_runs(mlp_session):
    x = np.ones((2, 4), np.float32)
    first = mlp_session.run({"x": x})["y"]
    second = mlp_session.run({"x": x})["y"]
    assert not np.shares_memory(first, second)
    first[...] = 0
    assert second.any()


def test_outputs_do_not_alias_inputs(mlp_session):
    x = np.ones((2, 4), np.float32)
    y = mlp_session.run({"x": x})["y"]
    assert not np.shares_memory(x, y)


def test_many_runs_release_their_outputs(mlp_session):
    # Each output's memory is freed with its array (the capsule that owns it); a leak
    # would show under the sanitizers' heap checks, and here as growing memory.
    x = np.ones((64, 4), np.float32)
    for _ in range(2000):
        mlp_session.run({"x": x})
