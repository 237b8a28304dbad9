// Input, Constant and Identity: where values enter a graph, and the no-op.
#include <cstring>

#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"

namespace kiln {
namespace {

absl::Status CopyInput0(KernelContext& ctx) {
  if (ctx.inputs[0].ByteSize() > 0) {
    std::memcpy(ctx.outputs[0].raw_data(), ctx.inputs[0].raw_data(), ctx.inputs[0].ByteSize());
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterSourceOps(OpRegistry& registry) {
  MustRegister(registry, OpDef{
      .name = "Input",
      .summary = "A graph input, fed at run time. -1 in `shape` marks a dimension bound by the feed.",
      .num_outputs = 1,
      .attrs = {{"dtype", AttrType::kDType, std::nullopt}, {"shape", AttrType::kInts, std::nullopt}},
      .traits = kSource,
      .infer =
          [](InferContext& ctx) {
            Shape shape(ctx.node.ints_attr("shape"));
            for (int64_t d : shape.dims()) {
              if (d < kUnknownDim) {
                return absl::InvalidArgumentError(absl::StrCat(
                    "attribute 'shape' ", shape.ToString(), " has a dimension below -1"));
              }
            }
            ctx.outputs.push_back({ctx.node.attr<DataType>("dtype"), shape});
            return absl::OkStatus();
          },
      .reference =
          [](KernelContext& ctx) {
            return absl::FailedPreconditionError("Input nodes are fed, not computed");
          },
  });

  MustRegister(registry, OpDef{
      .name = "Constant",
      .summary = "A constant tensor held in the `value` attribute (weights, folded values).",
      .num_outputs = 1,
      .attrs = {{"value", AttrType::kTensor, std::nullopt}},
      .traits = kSource,
      .infer =
          [](InferContext& ctx) {
            const Tensor& value = ctx.node.attr<Tensor>("value");
            ctx.outputs.push_back({value.dtype(), value.shape()});
            return absl::OkStatus();
          },
      .reference =
          [](KernelContext& ctx) {
            const Tensor& value = ctx.node.attr<Tensor>("value");
            if (value.ByteSize() > 0) {
              std::memcpy(ctx.outputs[0].raw_data(), value.raw_data(), value.ByteSize());
            }
            return absl::OkStatus();
          },
  });

  MustRegister(registry, OpDef{
      .name = "Identity",
      .summary = "Returns its input unchanged.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .traits = kElementwise | kLayoutAgnostic | kDataMovement | kBitcast,
      .infer =
          [](InferContext& ctx) {
            ctx.outputs.push_back(ctx.inputs[0]);
            return absl::OkStatus();
          },
      .reference = CopyInput0,
      .flops = nullptr,
  });
}

}  // namespace kiln
