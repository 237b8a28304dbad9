#include "python/src/errors.h"

#include <string>

namespace kiln::python {
namespace py = pybind11;
namespace {

// The classes, created once at import and kept for the life of the interpreter.
PyObject* kiln_error = nullptr;
PyObject* invalid_argument_error = nullptr;
PyObject* not_found_error = nullptr;
PyObject* unimplemented_error = nullptr;

PyObject* NewClass(py::module_& module, const char* name, const char* doc, PyObject* bases) {
  std::string qualified = std::string("kiln.") + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, /*dict=*/nullptr);
  if (cls == nullptr) throw py::error_already_set();
  module.add_object(name, py::reinterpret_borrow<py::object>(cls));
  return cls;  // the module holds a reference; this one is never released
}

PyObject* ClassFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return invalid_argument_error;
    case absl::StatusCode::kNotFound:
      return not_found_error;
    case absl::StatusCode::kUnimplemented:
      return unimplemented_error;
    default:
      return kiln_error;
  }
}

}  // namespace

void AddErrorClasses(py::module_& module) {
  kiln_error = NewClass(module, "KilnError",
                        "Base class of Kiln's errors; `code` holds the status code's name "
                        "(\"INTERNAL\", \"DATA_LOSS\", ...).",
                        PyExc_Exception);
  py::tuple invalid_bases = py::make_tuple(py::handle(kiln_error), py::handle(PyExc_ValueError));
  invalid_argument_error =
      NewClass(module, "InvalidArgumentError",
               "A value Kiln does not accept: a feed's dtype or shape, a missing or unknown "
               "feed name, a malformed model.",
               invalid_bases.ptr());
  py::tuple not_found_bases =
      py::make_tuple(py::handle(kiln_error), py::handle(PyExc_FileNotFoundError));
  not_found_error = NewClass(module, "NotFoundError", "A file or name that does not exist.",
                             not_found_bases.ptr());
  py::tuple unimplemented_bases =
      py::make_tuple(py::handle(kiln_error), py::handle(PyExc_NotImplementedError));
  unimplemented_error =
      NewClass(module, "UnimplementedError",
               "Something Kiln does not support: an ONNX op or attribute, a dtype.",
               unimplemented_bases.ptr());
}

void ThrowStatus(const absl::Status& status) {
  py::handle cls(ClassFor(status.code()));
  // Messages may quote bytes from a damaged file: undecodable ones become escapes.
  absl::string_view message = status.message();
  py::object text = py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(
      message.data(), static_cast<Py_ssize_t>(message.size()), "backslashreplace"));
  if (!text) throw py::error_already_set();
  py::object error = cls(text);
  error.attr("code") = py::str(absl::StatusCodeToString(status.code()));
  PyErr_SetObject(cls.ptr(), error.ptr());
  throw py::error_already_set();
}

void ThrowInvalidArgument(const std::string& message) {
  ThrowStatus(absl::InvalidArgumentError(message));
}

}  // namespace kiln::python
