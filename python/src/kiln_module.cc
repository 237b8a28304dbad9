// The extension module kiln._kiln; the package kiln (kiln/__init__.py) is its front.
#include <pybind11/pybind11.h>

#include "python/src/compile.h"
#include "python/src/errors.h"
#include "python/src/session.h"
#include "python/src/tensor_info.h"

PYBIND11_MODULE(_kiln, module) {
  module.doc() = "Kiln's runtime and compiler for Python (use the package `kiln`).";
  kiln::python::AddErrorClasses(module);
  kiln::python::BindTensorInfo(module);
  kiln::python::BindSession(module);
  kiln::python::BindCompile(module);
}
