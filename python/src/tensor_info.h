// kiln.TensorInfo: the name, dtype and shape of one input or output of a Session.
#ifndef KILN_PYTHON_SRC_TENSOR_INFO_H_
#define KILN_PYTHON_SRC_TENSOR_INFO_H_

#include <pybind11/pybind11.h>

#include <string>

#include "runtime/executable.h"

namespace kiln::python {

// Immutable; built once per Session, with the GIL.
struct TensorInfo {
  std::string name;
  pybind11::object dtype;  // the NumPy dtype the tensor is exchanged as (dtypes.h)
  pybind11::tuple shape;   // ints, None for a dimension bound at run time (-1)
  std::string type;        // Kiln's type string, "f32[-1,4]"
};

TensorInfo MakeTensorInfo(const TensorSignature& signature);

// Adds the class kiln.TensorInfo (read-only attributes name, dtype, shape, type).
void BindTensorInfo(pybind11::module_& module);

}  // namespace kiln::python

#endif  // KILN_PYTHON_SRC_TENSOR_INFO_H_
