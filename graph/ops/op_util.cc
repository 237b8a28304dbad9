#include "graph/ops/op_util.h"

#include <cstdio>
#include <cstdlib>
#include <limits>

namespace kiln {

BroadcastIndexer::BroadcastIndexer(const Shape& input, const Shape& output)
    : out_dims_(output.dims()), in_strides_(output.rank(), 0) {
  int offset = output.rank() - input.rank();
  int64_t stride = 1;
  for (int i = input.rank() - 1; i >= 0; --i) {
    if (input.dim(i) != 1) in_strides_[i + offset] = stride;
    stride *= input.dim(i);
  }
}

int64_t BroadcastIndexer::Map(int64_t out_index) const {
  int64_t in_index = 0;
  for (int i = static_cast<int>(out_dims_.size()) - 1; i >= 0; --i) {
    int64_t d = out_dims_[i];
    if (d == 0) return 0;
    in_index += (out_index % d) * in_strides_[i];
    out_index /= d;
  }
  return in_index;
}

absl::Status CheckSameDtype(const InferContext& ctx, int input) {
  if (ctx.inputs[input].dtype != ctx.inputs[0].dtype) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input ", input, " has dtype ", DataTypeName(ctx.inputs[input].dtype),
        ", expected ", DataTypeName(ctx.inputs[0].dtype), " like input 0"));
  }
  return absl::OkStatus();
}

void MustRegister(OpRegistry& registry, OpDef def) {
  absl::Status status = registry.Register(std::move(def));
  if (!status.ok()) {
    std::fprintf(stderr, "kiln: op registration failed: %s\n", status.ToString().c_str());
    std::abort();
  }
}

absl::Status CheckResidualInput(const InferContext& ctx, size_t index) {
  if (ctx.inputs.size() <= index || ctx.inputs[index] == ctx.outputs[0]) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("input 'residual' is ",
                                                 ctx.inputs[index].ToString(), ", expected ",
                                                 ctx.outputs[0].ToString(), " like the output"));
}

void ClampOutput(const Node& node, Tensor& out) {
  const double lo = node.HasAttr("clamp_min") ? node.float_attr("clamp_min")
                                              : -std::numeric_limits<double>::infinity();
  const double hi = node.HasAttr("clamp_max") ? node.float_attr("clamp_max")
                                              : std::numeric_limits<double>::infinity();
  if (lo == -std::numeric_limits<double>::infinity() &&
      hi == std::numeric_limits<double>::infinity()) {
    return;
  }
  for (int64_t i = 0; i < out.NumElements(); ++i) {
    double v = out.GetAsDouble(i);
    v = lo > v ? lo : v;
    v = hi < v ? hi : v;
    out.SetFromDouble(i, v);
  }
}

}  // namespace kiln
