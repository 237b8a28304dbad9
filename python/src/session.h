// kiln.Session: a model file opened for running (runtime/model_runner.h), run on NumPy
// arrays. Inputs are read in place; outputs are arrays over 64-byte aligned memory the
// kernels write directly, owned by the arrays.
#ifndef KILN_PYTHON_SRC_SESSION_H_
#define KILN_PYTHON_SRC_SESSION_H_

#include <pybind11/pybind11.h>

namespace kiln::python {

// Adds the class kiln.Session.
void BindSession(pybind11::module_& module);

}  // namespace kiln::python

#endif  // KILN_PYTHON_SRC_SESSION_H_
