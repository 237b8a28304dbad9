// Prepare half of Softmax, LayerNorm, BatchNorm and BiasAdd (normalization.cc): the axis
// split and the row workgroups.
#include <algorithm>

#include "kernels/cpu/kernels.h"

namespace kiln::cpu {
namespace {

AxisSplit SplitAt(const Shape& shape, int axis) {
  AxisSplit s{1, 1, 1};
  for (int d = 0; d < shape.rank(); ++d) {
    if (d < axis) s.outer *= shape.dim(d);
    if (d == axis) s.size = shape.dim(d);
    if (d > axis) s.inner *= shape.dim(d);
  }
  return s;
}

int NormalizedAxis(int64_t axis, int rank) {
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

// Workgroups for `units` each touching `unit_elements` elements: ~16K elements or more each.
int64_t RowWorkgroups(int64_t units, int64_t unit_elements) {
  return WorkgroupsFor(units, std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(unit_elements, 1)));
}

PrepareResult PrepareChannel(const PrepareContext& ctx, absl::string_view op, int axis_attr_rank) {
  const DataType dtype = ctx.inputs[0].dtype;
  const Shape& x = ctx.inputs[0].shape;
  ChannelParams p{};
  p.s = SplitAt(x, NormalizedAxis(ctx.node.int_attr("axis"), axis_attr_rank));
  p.epsilon = ctx.node.HasAttr("epsilon") ? ctx.node.float_attr("epsilon") : 0.0;
  const bool long_runs = p.s.inner >= kLongRun;
  p.units = long_runs ? p.s.outer * p.s.size : p.s.outer;
  const int64_t unit_elements = long_runs ? p.s.inner : p.s.size * p.s.inner;
  ASSIGN_OR_RETURN(PreparedKernel kernel,
                   MakeTypedKernel(ctx, op, dtype, p,
                                   x.NumElements() == 0 ? 1 : RowWorkgroups(p.units, unit_elements)));
  kernel.inplace_input = 0;
  return kernel;
}

}  // namespace

PrepareResult PrepareSoftmax(const PrepareContext& ctx) {
  const DataType dtype = ctx.inputs[0].dtype;
  const Shape& x = ctx.inputs[0].shape;
  SoftmaxParams p{};
  p.s = SplitAt(x, NormalizedAxis(ctx.node.int_attr("axis"), x.rank()));
  p.blocks = (p.s.inner + kColumns - 1) / kColumns;
  p.units = p.s.inner == 1 ? p.s.outer : p.s.outer * p.blocks;
  const int64_t unit_elements = p.s.size * std::min(p.s.inner, kColumns);
  ASSIGN_OR_RETURN(PreparedKernel kernel,
                   MakeKernel(ctx, F32Avx2SymbolName("softmax", dtype), p,
                              x.NumElements() == 0 ? 1 : RowWorkgroups(p.units, unit_elements),
                              dtype));
  kernel.inplace_input = 0;  // each position is read before it is first written
  return kernel;
}

PrepareResult PrepareLayerNorm(const PrepareContext& ctx) {
  const DataType dtype = ctx.inputs[0].dtype;
  const Shape& x = ctx.inputs[0].shape;
  const AxisSplit s = SplitAt(x, NormalizedAxis(ctx.node.int_attr("axis"), x.rank()));
  LayerNormParams p{s.outer, s.size * s.inner, ctx.node.float_attr("epsilon")};
  ASSIGN_OR_RETURN(PreparedKernel kernel,
                   MakeKernel(ctx, F32Avx2SymbolName("layer_norm", dtype), p,
                              x.NumElements() == 0 ? 1 : RowWorkgroups(p.rows, p.n), dtype));
  kernel.inplace_input = 0;
  return kernel;
}

PrepareResult PrepareBatchNorm(const PrepareContext& ctx) {
  return PrepareChannel(ctx, "batch_norm", ctx.inputs[0].shape.rank());
}

PrepareResult PrepareBiasAdd(const PrepareContext& ctx) {
  return PrepareChannel(ctx, "bias_add", ctx.inputs[0].shape.rank());
}

}  // namespace kiln::cpu
