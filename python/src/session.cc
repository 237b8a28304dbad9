#include "python/src/session.h"

#include <pybind11/numpy.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "base/tensor.h"
#include "python/src/dtypes.h"
#include "python/src/errors.h"
#include "python/src/tensor_info.h"
#include "runtime/model_runner.h"
#include "runtime/open_model.h"

namespace kiln::python {
namespace py = pybind11;
namespace {

// The alignment at which the kernels write an output in place (runtime/model_runner.h).
constexpr size_t kOutputAlignment = 64;

struct FreeDeleter {
  void operator()(void* data) const { std::free(data); }
};

// One output's storage between the run (without the GIL) and its NumPy array.
struct OutputBuffer {
  TensorType type;
  std::unique_ptr<void, FreeDeleter> data;
};

// Aligned storage for `type`; at least one block, so a zero-element output has a
// pointer too.
absl::StatusOr<OutputBuffer> AllocateOutput(const TensorType& type) {
  size_t bytes = static_cast<size_t>(type.shape.NumElements() * DataTypeSize(type.dtype));
  size_t rounded = (bytes + kOutputAlignment - 1) / kOutputAlignment * kOutputAlignment;
  void* data = std::aligned_alloc(kOutputAlignment, rounded == 0 ? kOutputAlignment : rounded);
  if (data == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate ", bytes, " bytes for an output of type ", type.ToString()));
  }
  return OutputBuffer{type, std::unique_ptr<void, FreeDeleter>(data)};
}

// Wraps `buffer` in an array that owns it (a capsule that frees it is the array's base).
py::array ToArray(OutputBuffer buffer) {
  const Shape& shape = buffer.type.shape;
  std::vector<py::ssize_t> dims(shape.dims().begin(), shape.dims().end());
  std::vector<py::ssize_t> strides(dims.size());
  py::ssize_t stride = DataTypeSize(buffer.type.dtype);
  for (int i = shape.rank() - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= dims[i];
  }
  py::capsule owner(buffer.data.get(), [](void* data) { std::free(data); });
  buffer.data.release();  // the capsule frees it from now on
  // Explicit strides: pybind11 would otherwise compute them from the descriptor's element
  // size, whose offset differs between NumPy 1.x and 2.x.
  return py::array(NumpyDtype(buffer.type.dtype), std::move(dims), std::move(strides),
                   owner.get_pointer(), owner);
}

std::string Describe(const std::vector<TensorSignature>& signatures) {
  return absl::StrJoin(signatures, ", ", [](std::string* out, const TensorSignature& s) {
    absl::StrAppend(out, s.name, " ", s.type.ToString());
  });
}

class PySession {
 public:
  PySession(const py::object& path, int threads, int opt_level) {
    path_ = py::module_::import("os").attr("fsdecode")(path).cast<std::string>();
    if (threads < 0) ThrowInvalidArgument(absl::StrCat("threads must be >= 0, got ", threads));
    RunnerOptions options;
    options.num_threads = threads;
    options.optimization_level = opt_level;
    absl::StatusOr<std::unique_ptr<ModelRunner>> runner;
    {
      // Importing and optimizing a model can take seconds; other threads may run.
      py::gil_scoped_release release;
      runner = OpenModelRunner(path_, options);
    }
    if (!runner.ok()) ThrowStatus(runner.status());
    runner_ = *std::move(runner);
    for (const TensorSignature& input : runner_->inputs()) {
      inputs_.push_back(py::cast(MakeTensorInfo(input)));
      input_keys_.push_back(py::str(input.name));
    }
    for (const TensorSignature& output : runner_->outputs()) {
      outputs_.push_back(py::cast(MakeTensorInfo(output)));
      output_keys_.push_back(py::str(output.name));
    }
  }

  // New lists each time (callers may change them) of the same TensorInfo objects.
  py::list inputs() const { return ToList(inputs_); }
  py::list outputs() const { return ToList(outputs_); }
  const std::string& path() const { return path_; }
  const char* kind() const { return runner_->kind(); }

  py::dict Run(const py::handle& feeds, const py::handle& output_names) const {
    py::dict feed_dict = AsDict(feeds);
    const std::vector<TensorSignature>& declared = runner_->inputs();
    // The arrays stay referenced here until the run is over.
    std::vector<py::array> arrays;
    arrays.reserve(declared.size());
    std::vector<Tensor> inputs;
    inputs.reserve(declared.size());
    for (size_t i = 0; i < declared.size(); ++i) {
      PyObject* value = PyDict_GetItemWithError(feed_dict.ptr(), input_keys_[i].ptr());
      if (value == nullptr) {
        if (PyErr_Occurred()) throw py::error_already_set();
        ThrowInvalidArgument(absl::StrCat("missing feed for input '", declared[i].name, "' (",
                                          declared[i].type.ToString(),
                                          "); the model's inputs: ", Describe(declared)));
      }
      arrays.push_back(InputArray(declared[i], py::handle(value)));
      const py::array& array = arrays.back();
      Shape shape(std::vector<int64_t>(array.shape(), array.shape() + array.ndim()));
      inputs.push_back(
          Tensor::Borrow(declared[i].type.dtype, shape, const_cast<void*>(array.data())));
    }
    if (static_cast<size_t>(PyDict_Size(feed_dict.ptr())) != declared.size()) {
      ThrowUnknownFeed(feed_dict);
    }
    std::vector<size_t> selected = SelectOutputs(output_names);

    absl::Status status;
    std::vector<OutputBuffer> buffers;
    {
      // Other Python threads run meanwhile; nothing here touches a Python object.
      py::gil_scoped_release release;
      status = RunInto(inputs, buffers);
    }
    ThrowIfError(status);
    py::dict results;
    for (size_t index : selected) {
      results[output_keys_[index]] = ToArray(std::move(buffers[index]));
    }
    return results;
  }

  std::string Repr() const {
    return absl::StrCat("<kiln.Session '", path_, "' (", kind(), "): inputs ",
                        Describe(runner_->inputs()), "; outputs ", Describe(runner_->outputs()),
                        ">");
  }

 private:
  static py::list ToList(const std::vector<py::object>& infos) {
    py::list list(infos.size());
    for (size_t i = 0; i < infos.size(); ++i) list[i] = infos[i];
    return list;
  }

  static py::dict AsDict(const py::handle& feeds) {
    if (PyDict_Check(feeds.ptr())) return py::reinterpret_borrow<py::dict>(feeds);
    py::object mapping = py::module_::import("collections.abc").attr("Mapping");
    if (!py::isinstance(feeds, mapping)) {
      throw py::type_error(absl::StrCat("feeds must be a dict of input name -> array, got ",
                                        std::string(py::str(feeds.get_type().attr("__name__")))));
    }
    return py::dict(py::reinterpret_borrow<py::object>(feeds));
  }

  // The array the runtime reads for `value`: the array itself when it is C-contiguous,
  // aligned and of the declared dtype; a contiguous copy when only the layout or byte
  // order differs; a conversion for values that are not arrays (lists, Python scalars).
  // An array or NumPy scalar of another dtype is an error, as in ONNX Runtime.
  static py::array InputArray(const TensorSignature& input, py::handle value) {
    py::module_ numpy;
    py::object array_object;
    if (py::isinstance<py::array>(value)) {
      array_object = py::reinterpret_borrow<py::object>(value);
    } else {
      numpy = py::module_::import("numpy");
      if (!py::isinstance(value, numpy.attr("generic"))) {
        try {
          return numpy.attr("asarray")(value, NumpyDtype(input.type.dtype));
        } catch (py::error_already_set& error) {
          ThrowInvalidArgument(absl::StrCat("input '", input.name, "': cannot convert a ",
                                            std::string(py::str(value.get_type().attr("__name__"))),
                                            " to ", input.type.ToString(), ": ", error.what()));
        }
      }
      array_object = numpy.attr("asarray")(value);  // a NumPy scalar keeps its dtype
    }
    py::array array = py::reinterpret_steal<py::array>(array_object.release());
    py::dtype dtype = array.dtype();
    if (!IsExchangeDtype(dtype, input.type.dtype)) {
      py::dtype expected = NumpyDtype(input.type.dtype);
      if (dtype.num() != expected.num()) {
        ThrowInvalidArgument(absl::StrCat(
            "input '", input.name, "': expected dtype ", std::string(py::str(expected)), " (",
            input.type.ToString(), "), got ", std::string(py::str(dtype)),
            "; convert it with .astype(numpy.", std::string(py::str(expected)), ")"));
      }
      if (!numpy) numpy = py::module_::import("numpy");
      return numpy.attr("ascontiguousarray")(array, expected);  // byte order only
    }
    constexpr int kInPlace = py::array::c_style | py::detail::npy_api::NPY_ARRAY_ALIGNED_;
    if ((array.flags() & kInPlace) != kInPlace) {
      if (!numpy) numpy = py::module_::import("numpy");
      return numpy.attr("ascontiguousarray")(array);
    }
    return array;
  }

  [[noreturn]] void ThrowUnknownFeed(const py::dict& feeds) const {
    for (const auto& [key, value] : feeds) {
      bool known = false;
      for (const py::str& name : input_keys_) known = known || key.equal(name);
      if (!known) {
        ThrowInvalidArgument(absl::StrCat("unknown feed ", std::string(py::repr(key)),
                                          ": the model's inputs: ", Describe(runner_->inputs())));
      }
    }
    ThrowInvalidArgument("feeds do not match the model's inputs");  // unreachable
  }

  // Indices of the outputs to return: all, in order, for None; else those named.
  std::vector<size_t> SelectOutputs(const py::handle& output_names) const {
    std::vector<size_t> selected;
    if (output_names.is_none()) {
      for (size_t i = 0; i < output_keys_.size(); ++i) selected.push_back(i);
      return selected;
    }
    if (py::isinstance<py::str>(output_names)) {
      throw py::type_error("output_names must be a list of names, not a str");
    }
    for (const py::handle& name : output_names) {
      size_t index = 0;
      while (index < output_keys_.size() && !name.equal(output_keys_[index])) ++index;
      if (index == output_keys_.size()) {
        ThrowInvalidArgument(absl::StrCat("unknown output ", std::string(py::repr(name)),
                                          ": the model's outputs: ", Describe(runner_->outputs())));
      }
      selected.push_back(index);
    }
    return selected;
  }

  // Sizes, allocates and runs; called without the GIL.
  absl::Status RunInto(absl::Span<const Tensor> inputs, std::vector<OutputBuffer>& buffers) const {
    std::vector<TensorType> input_types;
    input_types.reserve(inputs.size());
    for (const Tensor& input : inputs) input_types.push_back({input.dtype(), input.shape()});
    ASSIGN_OR_RETURN(std::vector<TensorType> output_types, runner_->OutputTypes(input_types));
    std::vector<Tensor> outputs;
    outputs.reserve(output_types.size());
    buffers.reserve(output_types.size());
    for (const TensorType& type : output_types) {
      ASSIGN_OR_RETURN(OutputBuffer buffer, AllocateOutput(type));
      outputs.push_back(Tensor::Borrow(type.dtype, type.shape, buffer.data.get()));
      buffers.push_back(std::move(buffer));
    }
    return runner_->Run(inputs, absl::MakeSpan(outputs));
  }

  std::string path_;
  std::unique_ptr<ModelRunner> runner_;
  std::vector<py::object> inputs_;  // TensorInfo
  std::vector<py::object> outputs_;
  std::vector<py::str> input_keys_;
  std::vector<py::str> output_keys_;
};

}  // namespace

void BindSession(py::module_& module) {
  py::class_<PySession>(module, "Session", R"doc(A model opened for running.

Session(path, threads=0, opt_level=2) opens an ONNX model (.onnx), a Kiln graph
(.pb, .pbtxt, .kgraph) or a compiled artifact (.kiln, recognised by its
contents). Graphs and ONNX models are optimized at `opt_level` (0, 1 or 2) and
compiled per input-shape signature; artifacts were optimized when compiled.
`threads` is the number of threads a run uses (0: one per core).

Raises NotFoundError for a missing file, InvalidArgumentError for a malformed
one, UnimplementedError for an ONNX op Kiln lacks; messages name the path.
A Session is thread-safe: run() releases the GIL, so Python threads run
concurrently.)doc")
      .def(py::init<const py::object&, int, int>(), py::arg("path"), py::arg("threads") = 0,
           py::arg("opt_level") = 2)
      .def_property_readonly("inputs", &PySession::inputs,
                             "List of TensorInfo, one per input, in order.")
      .def_property_readonly("outputs", &PySession::outputs,
                             "List of TensorInfo, one per output, in order.")
      .def_property_readonly("path", &PySession::path, "The model file's path.")
      .def_property_readonly("kind", &PySession::kind,
                             "What the file held: 'onnx', 'graph' or 'artifact'.")
      .def("run", &PySession::Run, py::arg("feeds"), py::arg("output_names") = py::none(),
           R"doc(Runs the model: run({"x": array, ...}, output_names=None) -> {"y": array, ...}.

Every input must be fed once, by name. An array of the declared dtype that is
C-contiguous and aligned is read in place; other layouts are copied once. An
array of another dtype raises InvalidArgumentError; lists and Python scalars
are converted with numpy.asarray(value, dtype). Shapes must match the declared
ones (None accepts any size).

Returns a dict of new arrays, in output order (or the order of output_names,
which only filters: every output is computed). The arrays are C-contiguous,
writeable, 64-byte aligned and own their memory, which the kernels wrote
directly. The GIL is released while the model runs.)doc")
      .def("__repr__", &PySession::Repr);
}

}  // namespace kiln::python
