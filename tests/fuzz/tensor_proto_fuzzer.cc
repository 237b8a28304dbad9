// libFuzzer entry point: a gRPC PredictRequest from arbitrary bytes, each of its tensors
// decoded against the inputs of a few models (every dtype, batched and fixed shapes, a
// scalar) must give a tensor of the spec's type or an error naming the input, never a
// crash or an allocation the bytes do not justify (a fill value's batch is capped first, as
// the server does). Build with --config=fuzz.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/tensor.h"
#include "proto/tensorflow_serving/apis/predict.pb.h"
#include "tools/serve/tensor_proto_codec.h"

namespace {

const std::vector<kiln::serve::TensorSpec>& Specs() {
  using kiln::DataType;
  static const std::vector<kiln::serve::TensorSpec> specs = {
      {"x", DataType::kF32, {-1, 3}},  {"ids", DataType::kI64, {-1}},
      {"h", DataType::kF16, {2, 2}},   {"b", DataType::kBF16, {-1, 2, 1}},
      {"d", DataType::kF64, {}},       {"m", DataType::kBool, {-1, 4}},
      {"q", DataType::kI8, {3}},       {"u", DataType::kU8, {-1}},
      {"i", DataType::kI32, {1, 1}},
  };
  return specs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tensorflow::serving::PredictRequest request;
  if (size > (1 << 20) || !request.ParseFromArray(data, static_cast<int>(size))) return 0;
  for (const auto& [name, proto] : request.inputs()) {
    for (const kiln::serve::TensorSpec& spec : Specs()) {
      // The server bounds the batch before decoding (a fill value describes any size).
      if (spec.batched() && proto.tensor_shape().dim_size() > 0 &&
          proto.tensor_shape().dim(0).size() > 64) {
        continue;
      }
      absl::StatusOr<kiln::Tensor> tensor = kiln::serve::TensorFromProto(proto, spec);
      if (!tensor.ok()) {
        if (tensor.status().message().empty()) __builtin_trap();
        continue;
      }
      if (tensor->dtype() != spec.dtype || tensor->shape().rank() != static_cast<int>(spec.dims.size())) {
        __builtin_trap();
      }
      tensorflow::TensorProto again;
      kiln::serve::TensorToProto(*tensor, &again);
      absl::StatusOr<kiln::Tensor> back = kiln::serve::TensorFromProto(again, spec);
      if (!back.ok() || back->ByteSize() != tensor->ByteSize()) __builtin_trap();
    }
  }
  return 0;
}
