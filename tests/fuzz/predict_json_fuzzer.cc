// libFuzzer entry point: ParsePredictRequest on arbitrary bytes, against several models,
// must return tensors or an error, never crash, leak or read out of bounds. Whatever
// parses must write as a reply that reads back (as a request) to the same tensors, and
// every error must make a valid JSON error body. Build with --config=fuzz.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/tensor.h"
#include "rapidjson/reader.h"
#include "tools/serve/predict_json.h"

namespace {

using kiln::DataType;
using kiln::Tensor;
using kiln::serve::TensorSpec;

TensorSpec Spec(const char* name, DataType dtype, std::vector<int64_t> dims) {
  TensorSpec spec;
  spec.name = name;
  spec.dtype = dtype;
  spec.dims = std::move(dims);
  return spec;
}

// Every input is read against each model: one batched input, one fixed, a scalar, and
// several inputs covering every dtype.
const std::vector<std::vector<TensorSpec>>& Models() {
  static const auto* models = new std::vector<std::vector<TensorSpec>>{
      {Spec("x", DataType::kF32, {-1, 3})},
      {Spec("x", DataType::kI64, {2, 2})},
      {Spec("x", DataType::kF64, {})},
      {Spec("x", DataType::kBool, {-1})},
      {Spec("a", DataType::kF16, {-1, 2}), Spec("b", DataType::kBF16, {-1}),
       Spec("c", DataType::kU8, {-1, 1, 2})},
      {Spec("i", DataType::kI8, {-1}), Spec("j", DataType::kI32, {-1, 2}),
       Spec("k", DataType::kF32, {2})},
  };
  return *models;
}

bool SameElements(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const int64_t size = kiln::DataTypeSize(a.dtype());
  for (int64_t i = 0; i < a.NumElements(); ++i) {
    // NaN payloads and signs are not kept: JSON has one NaN.
    if (std::isnan(a.GetAsDouble(i)) && std::isnan(b.GetAsDouble(i))) continue;
    if (std::memcmp(a.data<char>() + i * size, b.data<char>() + i * size, size) != 0) return false;
  }
  return true;
}

// Whether `body` is one JSON object {"error": "<string>"}, UTF-8 checked. RapidJSON's
// reader in situ rather than a Document: the Document's stack does arithmetic on a null
// pointer in RapidJSON 1.1.0, which UBSan stops at.
bool IsErrorBody(const std::string& body) {
  struct Handler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Handler> {
    bool Default() { return false; }
    bool StartObject() { return objects++ == 0; }
    bool Key(const char* text, rapidjson::SizeType length, bool) {
      return !has_message && absl::string_view(text, length) == "error";
    }
    bool String(const char*, rapidjson::SizeType, bool) { return has_message = true; }
    bool EndObject(rapidjson::SizeType) { return has_message; }
    int objects = 0;
    bool has_message = false;
  };
  if (body.find('\0') != std::string::npos) return false;
  std::string copy = body + std::string(3, '\0');  // see ParsePredictRequest
  rapidjson::InsituStringStream stream(&copy[0]);
  rapidjson::Reader reader;
  Handler handler;
  return !reader
              .Parse<rapidjson::kParseInsituFlag | rapidjson::kParseValidateEncodingFlag>(stream,
                                                                                          handler)
              .IsError();
}

// The request that sends a reply's value back: "predictions" -> "instances",
// "outputs" -> "inputs".
std::string AsRequest(const std::string& reply) {
  const std::string predictions = "{\"predictions\":";
  if (reply.compare(0, predictions.size(), predictions) == 0) {
    return "{\"instances\":" + reply.substr(predictions.size());
  }
  return "{\"inputs\":" + reply.substr(std::strlen("{\"outputs\":"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  for (const std::vector<TensorSpec>& specs : Models()) {
    absl::StatusOr<kiln::serve::PredictRequest> request =
        kiln::serve::ParsePredictRequest(body, specs);
    if (!request.ok()) {
      // Error bodies are valid JSON, whatever bytes the message quotes.
      if (request.status().code() != absl::StatusCode::kInvalidArgument) __builtin_trap();
      if (!IsErrorBody(kiln::serve::WriteErrorBody(request.status().message()))) {
        __builtin_trap();
      }
      continue;
    }
    if (request->inputs.size() != specs.size()) __builtin_trap();
    absl::StatusOr<std::string> reply =
        kiln::serve::WritePredictResponse(request->format, specs, request->inputs);
    if (!reply.ok()) __builtin_trap();
    absl::StatusOr<kiln::serve::PredictRequest> again =
        kiln::serve::ParsePredictRequest(AsRequest(*reply), specs);
    if (!again.ok() || again->format != request->format || again->batch != request->batch) {
      __builtin_trap();
    }
    for (size_t i = 0; i < specs.size(); ++i) {
      if (!SameElements(request->inputs[i], again->inputs[i])) __builtin_trap();
    }
  }
  return 0;
}
