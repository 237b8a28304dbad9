#include "python/src/tensor_info.h"

#include "python/src/dtypes.h"

namespace kiln::python {
namespace py = pybind11;

TensorInfo MakeTensorInfo(const TensorSignature& signature) {
  const Shape& shape = signature.type.shape;
  py::tuple dims(shape.rank());
  for (int i = 0; i < shape.rank(); ++i) {
    dims[i] = shape.dim(i) == kUnknownDim ? py::object(py::none()) : py::int_(shape.dim(i));
  }
  return TensorInfo{signature.name, NumpyDtype(signature.type.dtype), std::move(dims),
                    signature.type.ToString()};
}

void BindTensorInfo(py::module_& module) {
  py::class_<TensorInfo>(module, "TensorInfo",
                         "One input or output of a Session: its name, the NumPy dtype it is "
                         "exchanged as, and its declared shape (None for a dimension bound "
                         "at run time, such as the batch).")
      .def_readonly("name", &TensorInfo::name, "The input or output name (a feed or result key).")
      .def_readonly("dtype", &TensorInfo::dtype,
                    "numpy.dtype; bf16 tensors are exchanged as uint16 holding the raw bits.")
      .def_readonly("shape", &TensorInfo::shape, "Tuple of ints, None where any size is accepted.")
      .def_readonly("type", &TensorInfo::type, "Kiln's type string, such as 'f32[-1,4]'.")
      .def("__repr__", [](const TensorInfo& info) {
        py::str shape = py::repr(info.shape);
        return py::str("TensorInfo(name={!r}, dtype={}, shape={}, type={!r})")
            .format(info.name, py::str(info.dtype), shape, info.type);
      });
}

}  // namespace kiln::python
