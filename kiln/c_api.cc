// The C API (kiln/c_api.h) over ModelRunner: checks every pointer, count, dtype, shape and
// byte size a C caller hands in, matches tensors to inputs and outputs by name or
// position, and turns absl::Status into a KilnStatus and a thread-local message. No C++
// exception crosses the boundary. Built twice, with the two OpenRunner definitions
// (kiln/open_runner.h).
#include "kiln/c_api.h"

#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/dtype.h"
#include "base/shape.h"
#include "base/status_macros.h"
#include "base/tensor.h"
#include "base/tensor_type.h"
#include "kiln/open_runner.h"
#include "runtime/artifact.h"
#include "runtime/model_runner.h"

struct KilnSessionOptions {
  kiln::RunnerOptions runner;
};

struct KilnSession {
  std::unique_ptr<kiln::ModelRunner> runner;
};

namespace kiln {
namespace capi {
namespace {

// KilnStatus and KilnDataType are absl::StatusCode's and DataType's numbers, so conversion
// is a cast once a value is known to be in range.
static_assert(KILN_INVALID_ARGUMENT == static_cast<int>(absl::StatusCode::kInvalidArgument));
static_assert(KILN_NOT_FOUND == static_cast<int>(absl::StatusCode::kNotFound));
static_assert(KILN_FAILED_PRECONDITION == static_cast<int>(absl::StatusCode::kFailedPrecondition));
static_assert(KILN_DATA_LOSS == static_cast<int>(absl::StatusCode::kDataLoss));
static_assert(KILN_UNAUTHENTICATED == static_cast<int>(absl::StatusCode::kUnauthenticated));
static_assert(KILN_DTYPE_F32 == static_cast<int>(DataType::kF32));
static_assert(KILN_DTYPE_F16 == static_cast<int>(DataType::kF16));
static_assert(KILN_DTYPE_BF16 == static_cast<int>(DataType::kBF16));
static_assert(KILN_DTYPE_F64 == static_cast<int>(DataType::kF64));
static_assert(KILN_DTYPE_I8 == static_cast<int>(DataType::kI8));
static_assert(KILN_DTYPE_I32 == static_cast<int>(DataType::kI32));
static_assert(KILN_DTYPE_I64 == static_cast<int>(DataType::kI64));
static_assert(KILN_DTYPE_BOOL == static_cast<int>(DataType::kBool));
static_assert(KILN_DTYPE_U8 == static_cast<int>(DataType::kU8));

#define KILN_STRINGIFY_INNER_(x) #x
#define KILN_STRINGIFY_(x) KILN_STRINGIFY_INNER_(x)
constexpr char kVersion[] = KILN_STRINGIFY_(KILN_VERSION_MAJOR) "." KILN_STRINGIFY_(
    KILN_VERSION_MINOR) "." KILN_STRINGIFY_(KILN_VERSION_PATCH);

// The message kiln_last_error returns on this thread.
thread_local std::string last_error;

// The integer a C caller stored in an enum. C allows any int there; in C++ a value outside
// the enumerators' range must not even be loaded as the enum type (UBSan's -fsanitize=enum
// rightly flags it), so the bytes are read as an int.
template <typename Enum>
int RawValue(const Enum& value) {
  static_assert(sizeof(Enum) == sizeof(int), "C enums are int-sized on our targets");
  int raw;
  std::memcpy(&raw, &value, sizeof(raw));
  return raw;
}

bool IsValidDataType(int dtype) { return dtype >= KILN_DTYPE_F32 && dtype <= KILN_DTYPE_U8; }

// Runs `body` (returning absl::Status) as the C function `function`: records its error
// (or clears the last one) and catches what C++ might throw, so that nothing unwinds into
// C code.
template <typename Body>
KilnStatus Call(const char* function, Body&& body) {
  absl::Status status;
  try {
    status = body();
  } catch (const std::bad_alloc&) {
    status = absl::ResourceExhaustedError("out of memory");
  } catch (const std::exception& e) {
    status = absl::InternalError(absl::StrCat("unexpected C++ exception: ", e.what()));
  } catch (...) {
    status = absl::InternalError("unexpected C++ exception");
  }
  if (status.ok()) {
    last_error.clear();
    return KILN_OK;
  }
  try {
    last_error = absl::StrCat(function, ": ", status.message());
  } catch (...) {
    last_error.clear();  // no memory for the message; the code still says what failed
  }
  const int code = static_cast<int>(status.code());
  return code > KILN_OK && code <= KILN_UNAUTHENTICATED ? static_cast<KilnStatus>(code)
                                                        : KILN_UNKNOWN;
}

absl::Status NullArgument(const char* name) {
  return absl::InvalidArgumentError(absl::StrCat(name, " is NULL"));
}

absl::Status CheckSession(const KilnSession* session) {
  if (session == nullptr || session->runner == nullptr) return NullArgument("session");
  return absl::OkStatus();
}

// "'x', 'bias'": the names of `declared`, for messages.
std::string Names(const std::vector<TensorSignature>& declared) {
  return absl::StrJoin(declared, ", ", [](std::string* out, const TensorSignature& signature) {
    absl::StrAppend(out, "'", signature.name, "'");
  });
}

// Matches `count` tensors of the C array `array` ("inputs", "outputs") to the model's
// `declared` inputs or outputs (`what`: "input", "output"): by name, or by position for a
// NULL name; each exactly once. The result holds one tensor per declared one, in the
// model's order.
absl::StatusOr<std::vector<const KilnTensor*>> Match(const char* what, const char* array,
                                                     const std::vector<TensorSignature>& declared,
                                                     const KilnTensor* tensors, size_t count) {
  if (tensors == nullptr && count > 0) {
    return absl::InvalidArgumentError(absl::StrCat(array, " is NULL and its count is ", count));
  }
  std::vector<const KilnTensor*> matched(declared.size(), nullptr);
  std::vector<size_t> positions(declared.size(), 0);
  for (size_t i = 0; i < count; ++i) {
    const KilnTensor& tensor = tensors[i];
    size_t index = declared.size();
    if (tensor.name != nullptr) {
      for (size_t j = 0; j < declared.size(); ++j) {
        if (declared[j].name == tensor.name) index = j;
      }
      if (index == declared.size()) {
        return absl::NotFoundError(absl::StrCat(array, "[", i, "]: the model has no ", what,
                                                " named '", tensor.name, "' (its ", what,
                                                "s: ", Names(declared), ")"));
      }
    } else if (i < declared.size()) {
      index = i;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          array, "[", i, "] has no name and the model has only ", declared.size(), " ", what, "s"));
    }
    if (matched[index] != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " '", declared[index].name, "' is given twice: ", array, "[",
                       positions[index], "] and ", array, "[", i, "]"));
    }
    matched[index] = &tensor;
    positions[index] = i;
  }
  for (size_t j = 0; j < declared.size(); ++j) {
    if (matched[j] == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(what, " '", declared[j].name, "' is missing (",
                                                     count, " of ", declared.size(), " given)"));
    }
  }
  return matched;
}

// The dtype and shape of `tensor`, the `what` named `name`, checked: a known dtype, dims
// present and >= 0, a shape within the element limit, and when `check_data` a buffer
// (`data`, `byte_size`) large enough for it.
absl::StatusOr<TensorType> ReadType(const char* what, const std::string& name,
                                    const KilnTensor& tensor, bool check_data) {
  const std::string label = absl::StrCat(what, " '", name, "'");
  const int dtype = RawValue(tensor.dtype);
  if (!IsValidDataType(dtype)) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": unknown dtype ", dtype));
  }
  if (tensor.rank > 0 && tensor.dims == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": dims is NULL and rank is ", tensor.rank));
  }
  TensorType type;
  type.dtype = static_cast<DataType>(dtype);
  type.shape = Shape(absl::Span<const int64_t>(tensor.dims, tensor.rank));
  for (size_t d = 0; d < tensor.rank; ++d) {
    if (tensor.dims[d] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(label, ": dimension ", d, " is ", tensor.dims[d], "; it must be >= 0"));
    }
  }
  absl::Status valid = ValidateShape(type.shape);
  if (!valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": ", valid.message()));
  }
  if (check_data) {
    const int64_t needed = type.shape.NumElements() * DataTypeSize(type.dtype);
    if (tensor.byte_size < static_cast<uint64_t>(needed)) {
      return absl::InvalidArgumentError(absl::StrCat(label, ": byte_size ", tensor.byte_size,
                                                     " is too small for ", type.ToString(), " (",
                                                     needed, " bytes)"));
    }
    if (needed > 0 && tensor.data == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(label, ": data is NULL"));
    }
  }
  return type;
}

// True when `given` is a type `declared` accepts: the same dtype and rank, and each
// dimension equal where the declared one is not -1.
bool Accepts(const TensorType& declared, const TensorType& given) {
  if (declared.dtype != given.dtype || declared.shape.rank() != given.shape.rank()) return false;
  for (int d = 0; d < declared.shape.rank(); ++d) {
    if (declared.shape.dim(d) != -1 && declared.shape.dim(d) != given.shape.dim(d)) return false;
  }
  return true;
}

// Inputs matched, checked against their declarations and borrowed as Tensors in the
// model's order (`check_data` as for ReadType).
absl::StatusOr<std::vector<Tensor>> ReadInputs(const ModelRunner& runner, const KilnTensor* inputs,
                                               size_t num_inputs, bool check_data) {
  const std::vector<TensorSignature>& declared = runner.inputs();
  ASSIGN_OR_RETURN(std::vector<const KilnTensor*> matched,
                   Match("input", "inputs", declared, inputs, num_inputs));
  std::vector<Tensor> tensors;
  tensors.reserve(declared.size());
  for (size_t i = 0; i < declared.size(); ++i) {
    ASSIGN_OR_RETURN(TensorType type, ReadType("input", declared[i].name, *matched[i], check_data));
    if (!Accepts(declared[i].type, type)) {
      return absl::InvalidArgumentError(absl::StrCat("input '", declared[i].name,
                                                     "': ", type.ToString(), ", the model takes ",
                                                     declared[i].type.ToString()));
    }
    // Borrowed, not copied; inputs are only read.
    tensors.push_back(Tensor::Borrow(type.dtype, type.shape, matched[i]->data));
  }
  return tensors;
}

std::vector<TensorType> TypesOf(const std::vector<Tensor>& tensors) {
  std::vector<TensorType> types;
  types.reserve(tensors.size());
  for (const Tensor& tensor : tensors) types.push_back(TensorType{tensor.dtype(), tensor.shape()});
  return types;
}

// A file named .kiln that does not start with the artifact's magic number is a damaged
// artifact, not a GraphDef to parse (which libkiln would try, and an empty file would
// pass as an empty graph) nor a format libkiln_runtime lacks. A file that cannot be
// opened is left to OpenRunner's NotFound.
absl::Status CheckNamedArtifact(const std::string& path) {
  if (absl::EndsWith(path, ".kiln") && !IsArtifactFile(path) &&
      std::ifstream(path, std::ios::binary).is_open()) {
    return absl::DataLossError(absl::StrCat("'", path,
                                            "' is not a compiled artifact: it lacks the "
                                            "artifact header (truncated or damaged?)"));
  }
  return absl::OkStatus();
}

absl::Status InfoOf(const KilnSession* session, size_t index, KilnTensorInfo* info, bool input) {
  RETURN_IF_ERROR(CheckSession(session));
  if (info == nullptr) return NullArgument("info");
  const std::vector<TensorSignature>& declared =
      input ? session->runner->inputs() : session->runner->outputs();
  if (index >= declared.size()) {
    return absl::OutOfRangeError(absl::StrCat(input ? "input" : "output", " index ", index,
                                              " is out of range: the model has ", declared.size()));
  }
  const TensorSignature& signature = declared[index];
  info->name = signature.name.c_str();
  info->dtype = static_cast<KilnDataType>(signature.type.dtype);
  info->rank = signature.type.shape.dims().size();
  info->dims = info->rank == 0 ? nullptr : signature.type.shape.dims().data();
  return absl::OkStatus();
}

}  // namespace
}  // namespace capi
}  // namespace kiln

using kiln::capi::Call;
using kiln::capi::CheckSession;
using kiln::capi::NullArgument;

extern "C" {

const char* kiln_last_error(void) { return kiln::capi::last_error.c_str(); }

const char* kiln_status_name(KilnStatus status) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int code = kiln::capi::RawValue(status);
  if (code < 0 || code >= static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) {
    return "UNKNOWN_STATUS";
  }
  return kNames[code];
}

const char* kiln_version(void) { return kiln::capi::kVersion; }

const char* kiln_dtype_name(KilnDataType dtype) {
  // Spelled as DataTypeName spells them (tests/kiln:c_api_test pins each).
  static const char* const kNames[] = {"invalid", "f32", "f16", "bf16", "f64",
                                       "i8",      "i32", "i64", "bool", "u8"};
  const int raw = kiln::capi::RawValue(dtype);
  return kiln::capi::IsValidDataType(raw) ? kNames[raw] : "invalid";
}

size_t kiln_dtype_size(KilnDataType dtype) {
  const int raw = kiln::capi::RawValue(dtype);
  if (!kiln::capi::IsValidDataType(raw)) return 0;
  return static_cast<size_t>(kiln::DataTypeSize(static_cast<kiln::DataType>(raw)));
}

KilnStatus kiln_session_options_create(KilnSessionOptions** out) {
  return Call(__func__, [&]() -> absl::Status {
    if (out == nullptr) return NullArgument("out");
    *out = new KilnSessionOptions();
    return absl::OkStatus();
  });
}

void kiln_session_options_destroy(KilnSessionOptions* options) { delete options; }

KilnStatus kiln_session_options_set_num_threads(KilnSessionOptions* options, int32_t num_threads) {
  return Call(__func__, [&]() -> absl::Status {
    if (options == nullptr) return NullArgument("options");
    if (num_threads < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("num_threads is ", num_threads, "; it must be >= 0 (0: one per core)"));
    }
    options->runner.num_threads = num_threads;
    return absl::OkStatus();
  });
}

KilnStatus kiln_session_options_set_optimization_level(KilnSessionOptions* options, int32_t level) {
  return Call(__func__, [&]() -> absl::Status {
    if (options == nullptr) return NullArgument("options");
    if (level < 0 || level > 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("optimization level is ", level, "; it must be 0, 1 or 2"));
    }
    options->runner.optimization_level = level;
    return absl::OkStatus();
  });
}

KilnStatus kiln_session_create(const char* path, const KilnSessionOptions* options,
                               KilnSession** out) {
  return Call(__func__, [&]() -> absl::Status {
    if (out == nullptr) return NullArgument("out");
    *out = nullptr;
    if (path == nullptr) return NullArgument("path");
    const kiln::RunnerOptions runner_options =
        options != nullptr ? options->runner : kiln::RunnerOptions();
    RETURN_IF_ERROR(kiln::capi::CheckNamedArtifact(path));
    ASSIGN_OR_RETURN(std::unique_ptr<kiln::ModelRunner> runner,
                     kiln::capi::OpenRunner(path, runner_options));
    auto session = std::make_unique<KilnSession>();
    session->runner = std::move(runner);
    *out = session.release();
    return absl::OkStatus();
  });
}

void kiln_session_destroy(KilnSession* session) { delete session; }

KilnStatus kiln_session_kind(const KilnSession* session, const char** kind) {
  return Call(__func__, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckSession(session));
    if (kind == nullptr) return NullArgument("kind");
    *kind = session->runner->kind();
    return absl::OkStatus();
  });
}

KilnStatus kiln_session_input_count(const KilnSession* session, size_t* count) {
  return Call(__func__, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckSession(session));
    if (count == nullptr) return NullArgument("count");
    *count = session->runner->inputs().size();
    return absl::OkStatus();
  });
}

KilnStatus kiln_session_output_count(const KilnSession* session, size_t* count) {
  return Call(__func__, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckSession(session));
    if (count == nullptr) return NullArgument("count");
    *count = session->runner->outputs().size();
    return absl::OkStatus();
  });
}

KilnStatus kiln_session_input_info(const KilnSession* session, size_t index, KilnTensorInfo* info) {
  return Call(__func__, [&] { return kiln::capi::InfoOf(session, index, info, true); });
}

KilnStatus kiln_session_output_info(const KilnSession* session, size_t index,
                                    KilnTensorInfo* info) {
  return Call(__func__, [&] { return kiln::capi::InfoOf(session, index, info, false); });
}

KilnStatus kiln_session_output_shape(const KilnSession* session, const KilnTensor* inputs,
                                     size_t num_inputs, size_t output_index, int64_t* dims,
                                     size_t capacity, size_t* rank) {
  return Call(__func__, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckSession(session));
    if (rank == nullptr) return NullArgument("rank");
    const kiln::ModelRunner& runner = *session->runner;
    if (output_index >= runner.outputs().size()) {
      return absl::OutOfRangeError(absl::StrCat("output index ", output_index,
                                                " is out of range: the model has ",
                                                runner.outputs().size()));
    }
    ASSIGN_OR_RETURN(std::vector<kiln::Tensor> tensors,
                     kiln::capi::ReadInputs(runner, inputs, num_inputs, false));
    const std::vector<kiln::TensorType> input_types = kiln::capi::TypesOf(tensors);
    ASSIGN_OR_RETURN(std::vector<kiln::TensorType> output_types, runner.OutputTypes(input_types));
    const std::vector<int64_t>& shape = output_types[output_index].shape.dims();
    *rank = shape.size();
    if (shape.size() > capacity) {
      return absl::OutOfRangeError(absl::StrCat("output '", runner.outputs()[output_index].name,
                                                "' has rank ", shape.size(),
                                                ", more than the capacity ", capacity, " of dims"));
    }
    if (!shape.empty() && dims == nullptr) return NullArgument("dims");
    for (size_t d = 0; d < shape.size(); ++d) dims[d] = shape[d];
    return absl::OkStatus();
  });
}

KilnStatus kiln_session_run(const KilnSession* session, const KilnTensor* inputs, size_t num_inputs,
                            KilnTensor* outputs, size_t num_outputs) {
  return Call(__func__, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckSession(session));
    const kiln::ModelRunner& runner = *session->runner;
    ASSIGN_OR_RETURN(std::vector<kiln::Tensor> input_tensors,
                     kiln::capi::ReadInputs(runner, inputs, num_inputs, true));
    const std::vector<kiln::TensorType> input_types = kiln::capi::TypesOf(input_tensors);
    // The output types for these inputs; also where a wrong batch size for an artifact is
    // reported, before any output buffer is looked at.
    ASSIGN_OR_RETURN(std::vector<kiln::TensorType> output_types, runner.OutputTypes(input_types));
    const std::vector<kiln::TensorSignature>& declared = runner.outputs();
    ASSIGN_OR_RETURN(std::vector<const KilnTensor*> matched,
                     kiln::capi::Match("output", "outputs", declared, outputs, num_outputs));
    std::vector<kiln::Tensor> output_tensors;
    output_tensors.reserve(declared.size());
    for (size_t i = 0; i < declared.size(); ++i) {
      ASSIGN_OR_RETURN(kiln::TensorType type,
                       kiln::capi::ReadType("output", declared[i].name, *matched[i], true));
      if (!(type == output_types[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat("output '", declared[i].name, "': buffer ", type.ToString(),
                         ", the output is ", output_types[i].ToString(), " for these inputs"));
      }
      output_tensors.push_back(kiln::Tensor::Borrow(type.dtype, type.shape, matched[i]->data));
    }
    return runner.Run(input_tensors, absl::MakeSpan(output_tensors));
  });
}

}  // extern "C"
