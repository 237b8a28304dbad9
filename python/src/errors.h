// Kiln's errors (absl::Status) as Python exceptions: kiln.KilnError and its subclasses,
// one per status code a caller may want to catch apart, each also deriving from the
// built-in exception Python code expects for that kind of failure.
#ifndef KILN_PYTHON_SRC_ERRORS_H_
#define KILN_PYTHON_SRC_ERRORS_H_

#include <pybind11/pybind11.h>

#include "absl/status/status.h"

namespace kiln::python {

// Creates the exception classes and adds them to `module` (KilnError,
// InvalidArgumentError, NotFoundError, UnimplementedError). Call once, at import.
void AddErrorClasses(pybind11::module_& module);

// Raises `status` (not OK) as the Python exception for its code: sets the Python error
// and throws pybind11::error_already_set. The exception's `code` attribute holds the
// status code's name ("INVALID_ARGUMENT"). Needs the GIL.
[[noreturn]] void ThrowStatus(const absl::Status& status);

// Raises kiln.InvalidArgumentError with `message`. Needs the GIL.
[[noreturn]] void ThrowInvalidArgument(const std::string& message);

// Returns when `status` is OK; raises it otherwise.
inline void ThrowIfError(const absl::Status& status) {
  if (!status.ok()) ThrowStatus(status);
}

}  // namespace kiln::python

#endif  // KILN_PYTHON_SRC_ERRORS_H_
