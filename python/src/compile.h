// kiln.compile and kiln.import_onnx: the `kiln compile` and `kiln import` commands as
// functions.
#ifndef KILN_PYTHON_SRC_COMPILE_H_
#define KILN_PYTHON_SRC_COMPILE_H_

#include <pybind11/pybind11.h>

namespace kiln::python {

// Adds _compile(model_path, output_path, batch, opt_level) and
// _import_onnx(onnx_path, output_path); kiln/__init__.py wraps them.
void BindCompile(pybind11::module_& module);

}  // namespace kiln::python

#endif  // KILN_PYTHON_SRC_COMPILE_H_
