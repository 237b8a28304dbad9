// TF Serving's REST predict bodies <-> Kiln tensors: the request's "instances" (row) or
// "inputs" (columnar) JSON into one tensor per model input, and the outputs into the
// "predictions" or "outputs" reply. A codec only: no HTTP, no model.
#ifndef KILN_TOOLS_SERVE_PREDICT_JSON_H_
#define KILN_TOOLS_SERVE_PREDICT_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/tensor.h"
#include "tools/serve/tensor_spec.h"

namespace kiln::serve {

// Which of TF Serving's two layouts a request used; the reply uses the same one.
enum class PredictFormat {
  kRow,       // {"instances": [...]} -> {"predictions": [...]}
  kColumnar,  // {"inputs": ...} -> {"outputs": ...}
};

struct PredictRequest {
  std::string signature_name;  // "" when absent
  PredictFormat format = PredictFormat::kRow;
  // Rows: the number of instances. Columnar: dims[0] of the batched inputs (all equal),
  // or -1 when no input is batched.
  int64_t batch = -1;
  // One owned tensor per spec, in spec order: dtype == spec.dtype, shape == spec.dims
  // with dims[0] = batch for batched specs (and for every spec in row format).
  std::vector<Tensor> inputs;
};

// Parses a predict request `body` against the model's input `specs` (names unique,
// dtypes valid, at most 64 dims as TensorSpec documents; else Internal).
//
// The body is an object with an optional "signature_name" string and exactly one of:
//   "instances": a non-empty list, one entry per batch row. With one input an entry is
//     that row's value, or an object naming the input; with several inputs an object
//     {"name": value} naming each input once. Rows are stacked along a new first
//     dimension: for an unbatched spec the number of instances must equal its dims[0];
//     a scalar spec cannot be stacked.
//   "inputs": with one input the whole tensor's value, or an object naming it; with
//     several an object name -> whole tensor. Unbatched specs must match their dims
//     exactly; batched ones take any first dimension, the same for all.
// A value is nested lists matching the dims (a bare number for a scalar) of numbers, or of
// true/false for bool. f32 and f64 round the decimal to nearest, f16 and bf16 round
// through f32; NaN, Infinity and -Infinity are accepted, finite values past the type's
// range are not. Integer types take integral values in range ("2.0" and "1e3" are fine,
// 64-bit ones exact). Other top-level fields, {"b64": ...} values (Kiln has no string
// dtype), strings and nulls are refused.
//
// Every error is InvalidArgument and names the field or input and the reason:
// "malformed JSON at offset 17: ...", "'instances' and 'inputs' are both present",
// "instances[4]: input 'x': expected 3 values in dimension 1, got 2",
// "unknown input 'y' (the model's inputs: x)", "missing input 'x'",
// "input 'x': value 300 out of range for i8". Nesting is refused past the spec's rank
// at the first list too deep, and memory grows only with the elements the body holds,
// whatever the dims say. Thread-safe.
absl::StatusOr<PredictRequest> ParsePredictRequest(absl::string_view body,
                                                   absl::Span<const TensorSpec> specs);
// The same, parsing `body` in place instead of a copy of it (a server's request body,
// read once from the connection; 3 bytes of spare capacity avoid a reallocation).
absl::StatusOr<PredictRequest> ParsePredictRequestInPlace(std::string&& body,
                                                          absl::Span<const TensorSpec> specs);

// The reply body for `format` from `outputs`, one per spec in order with the spec's dtype
// (the dims are not checked: the tensors' own shapes are written).
//   kRow: {"predictions": [...]} with one entry per row of the first dimension, which
//     every output must have and share: the row's value with one output, an object
//     {"name": value} with several.
//   kColumnar: {"outputs": value} with one output, {"outputs": {"name": value, ...}}
//     with several.
// Floats are written in the shortest form that reads back to the same value (an f32 0.1
// as 0.1), NaN and infinities as NaN, Infinity and -Infinity.
// Errors (InvalidArgument): outputs and specs differ in count or dtype, an invalid
// tensor, or in row format an output without a first dimension or one of another
// length than the others. Thread-safe.
absl::StatusOr<std::string> WritePredictResponse(PredictFormat format,
                                                 absl::Span<const TensorSpec> specs,
                                                 absl::Span<const Tensor> outputs);

// {"error": "<message>"}, the message escaped for JSON and any bytes that are not UTF-8
// replaced by U+FFFD, so the body is always valid JSON. Thread-safe.
std::string WriteErrorBody(absl::string_view message);

}  // namespace kiln::serve

#endif  // KILN_TOOLS_SERVE_PREDICT_JSON_H_
