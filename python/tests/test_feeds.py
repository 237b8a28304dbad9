"""What run() accepts as feeds, what it converts, and the errors that name the input."""
import numpy as np
import pytest

import kiln
from conftest import close


def test_non_contiguous_input_is_copied_once(mlp, mlp_session):
    wide = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)
    x = wide[:, ::2]  # a strided view
    assert not x.flags.c_contiguous
    close(mlp_session.run({"x": x})["y"], mlp.reference(np.ascontiguousarray(x)))
    xt = np.asfortranarray(wide[:, :4])
    close(mlp_session.run({"x": xt})["y"], mlp.reference(wide[:, :4]))


def test_unaligned_input_is_copied(mlp, mlp_session):
    raw = np.zeros(2 * 4 * 4 + 1, np.uint8)
    x = raw[1:].view(np.float32).reshape(2, 4)
    x[...] = np.arange(8, dtype=np.float32).reshape(2, 4)
    close(mlp_session.run({"x": x})["y"], mlp.reference(np.array(x)))


def test_big_endian_input_is_converted(mlp, mlp_session):
    x = np.arange(8, dtype=">f4").reshape(2, 4)
    close(mlp_session.run({"x": x})["y"], mlp.reference(x.astype(np.float32)))


def test_wrong_dtype_raises_naming_the_input(mlp_session):
    with pytest.raises(kiln.InvalidArgumentError, match=r"input 'x': expected dtype float32.*got float64"):
        mlp_session.run({"x": np.ones((2, 4))})
    with pytest.raises(ValueError, match="input 'x'.*int32"):
        mlp_session.run({"x": np.ones((2, 4), np.int32)})


def test_numpy_scalar_of_wrong_dtype_raises(multi):
    session = kiln.Session(multi.path)
    with pytest.raises(kiln.InvalidArgumentError, match="input 'n'"):
        session.run({"a": np.ones((2, 3), np.float32), "b": np.ones((2, 3), np.float32),
                     "n": np.float64(1.0)})


def test_lists_are_converted_to_the_declared_dtype(mlp, mlp_session):
    x = [[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.0, 2.0]]
    close(mlp_session.run({"x": x})["y"], mlp.reference(np.array(x, np.float32)))


def test_unconvertible_value_raises_naming_the_input(mlp_session):
    with pytest.raises(kiln.InvalidArgumentError, match="input 'x': cannot convert a str"):
        mlp_session.run({"x": "not a tensor"})


def test_missing_feed_raises_naming_the_input(multi):
    session = kiln.Session(multi.path)
    with pytest.raises(kiln.InvalidArgumentError, match=r"missing feed for input 'b' \(f32\[2,3\]\)"):
        session.run({"a": np.ones((2, 3), np.float32), "n": np.zeros(3, np.int64)})


def test_unknown_feed_raises_naming_it(mlp_session):
    with pytest.raises(kiln.InvalidArgumentError, match=r"unknown feed 'z'.*inputs: x f32\[-1,4\]"):
        mlp_session.run({"x": np.ones((1, 4), np.float32), "z": np.ones(1, np.float32)})


def test_misspelled_feed_raises_missing(mlp_session):
    with pytest.raises(kiln.InvalidArgumentError, match="missing feed for input 'x'"):
        mlp_session.run({"X": np.ones((1, 4), np.float32)})


@pytest.mark.parametrize("shape", [(2, 5), (4,), (1, 2, 4), ()])
def test_wrong_shape_raises_naming_the_input(mlp_session, shape):
    with pytest.raises(kiln.InvalidArgumentError, match=r"input 'x': shape .* declared \[-1,4\]"):
        mlp_session.run({"x": np.ones(shape, np.float32)})


def test_fixed_dimension_mismatch_raises(multi):
    session = kiln.Session(multi.path)
    with pytest.raises(kiln.InvalidArgumentError, match="input 'a'"):
        session.run({"a": np.ones((3, 3), np.float32), "b": np.ones((2, 3), np.float32),
                     "n": np.zeros(3, np.int64)})


def test_unknown_output_name_raises(mlp_session):
    with pytest.raises(kiln.InvalidArgumentError, match=r"unknown output 'z'.*outputs: y"):
        mlp_session.run({"x": np.ones((1, 4), np.float32)}, output_names=["z"])


def test_feeds_must_be_a_mapping(mlp_session):
    with pytest.raises(TypeError, match="feeds must be a dict"):
        mlp_session.run([np.ones((1, 4), np.float32)])


def test_any_mapping_is_accepted(mlp, mlp_session):
    import types
    x = np.ones((1, 4), np.float32)
    close(mlp_session.run(types.MappingProxyType({"x": x}))["y"], mlp.reference(x))


def test_session_stays_usable_after_errors(mlp, mlp_session):
    for bad in ({}, {"x": np.ones((2, 5), np.float32)}, {"x": np.ones((2, 4))}):
        with pytest.raises(kiln.KilnError):
            mlp_session.run(bad)
    x = np.ones((2, 4), np.float32)
    close(mlp_session.run({"x": x})["y"], mlp.reference(x))


def test_large_input_read_in_place(mlp, mlp_session):
    # Zero-copy is not observable from Python; a large C-contiguous float32 input runs
    # and gives the right result (the path that borrows the array's memory).
    x = np.random.default_rng(5).standard_normal((1 << 18, 4)).astype(np.float32)
    y = mlp_session.run({"x": x})["y"]
    close(y, mlp.reference(x))
