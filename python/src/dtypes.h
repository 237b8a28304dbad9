// Kiln's element types (base/dtype.h) and the NumPy dtypes tensors cross the boundary as.
#ifndef KILN_PYTHON_SRC_DTYPES_H_
#define KILN_PYTHON_SRC_DTYPES_H_

#include <pybind11/numpy.h>

#include "base/dtype.h"

namespace kiln::python {

// The NumPy dtype a tensor of `dtype` is exchanged as: float32, float16, float64, int8,
// int32, int64, bool, uint8; bf16, which NumPy lacks, as uint16 holding the raw bits (the
// upper half of a float32). Needs the GIL.
pybind11::dtype NumpyDtype(DataType dtype);

// True when `dtype` is the exchange dtype of `declared` in native byte order, so an array
// of it can be read in place.
bool IsExchangeDtype(const pybind11::dtype& dtype, DataType declared);

}  // namespace kiln::python

#endif  // KILN_PYTHON_SRC_DTYPES_H_
