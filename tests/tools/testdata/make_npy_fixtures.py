#!/usr/bin/env python3
"""Writes the .npy fixtures of tests/tools/npy_test.cc with real NumPy.

Run from this directory: python3 make_npy_fixtures.py. The expected values are spelled
out again by hand in npy_test.cc; change both together.
"""
import numpy as np
from numpy.lib import format as npformat


def save(name, array):
    np.save(name, array, allow_pickle=False)


def save_version(name, array, version):
    with open(name, "wb") as f:
        npformat.write_array(f, array, version=version, allow_pickle=False)


# One file per supported dtype, covering scalar, size-0 and multi-dimensional shapes.
save("f32_2x3.npy", np.array([[-1.0, -0.5, 0.0], [0.5, 1.0, 1.5]], dtype="<f4"))
save("f64_scalar.npy", np.array(3.25, dtype="<f8"))
save("f16_4.npy", np.array([1.0, -2.0, 0.5, 65504.0], dtype="<f2"))
save("i8_3.npy", np.array([-128, 0, 127], dtype="i1"))
save("u8_2x2.npy", np.array([[0, 1], [254, 255]], dtype="u1"))
save("i32_0x3.npy", np.zeros((0, 3), dtype="<i4"))
save("i64_2.npy", np.array([-(2**40), 2**62], dtype="<i8"))
save("bool_5.npy", np.array([True, False, False, True, True]))
# The same f32 data with version 2.0 and 3.0 headers.
save_version("f32_2x3_v2.npy", np.array([[-1.0, -0.5, 0.0], [0.5, 1.0, 1.5]], dtype="<f4"), (2, 0))
save_version("f32_2x3_v3.npy", np.array([[-1.0, -0.5, 0.0], [0.5, 1.0, 1.5]], dtype="<f4"), (3, 0))
# Files NumPy writes that Kiln rejects.
save("f32_fortran.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
save("f32_bigendian.npy", np.array([1.0, 2.0], dtype=">f4"))
save("u16_2.npy", np.array([1, 2], dtype="<u2"))
# A double array for the CLI's wrong-dtype test (the graph input is f32).
save("f64_2x3.npy", np.arange(6, dtype="<f8").reshape(2, 3))
