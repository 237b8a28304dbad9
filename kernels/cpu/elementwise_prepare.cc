// Prepare half of the elementwise kernels (elementwise.cc): broadcast layouts collapsed
// into the params, the kernel picked by name.
#include "absl/strings/str_cat.h"
#include "kernels/cpu/kernels.h"

namespace kiln::cpu {
namespace {

PrepareResult PrepareBroadcastBinary(const PrepareContext& ctx, absl::string_view op) {
  const TensorType& out = ctx.output();
  const Shape shapes[] = {ctx.inputs[0].shape, ctx.inputs[1].shape};
  const CollapsedBroadcast layout = CollapseBroadcast(out.shape, shapes);
  BinaryParams p{};
  p.total = out.shape.NumElements();
  p.rank = layout.rank;
  for (int d = 0; d < layout.rank; ++d) {
    p.dims[d] = layout.dims[d];
    p.x_strides[d] = layout.strides[0][d];
    p.y_strides[d] = layout.strides[1][d];
  }
  ASSIGN_OR_RETURN(PreparedKernel kernel,
                   MakeTypedKernel(ctx, op, ctx.inputs[0].dtype, p,
                                   ElementwiseWorkgroups(p.total, DataTypeSize(out.dtype))));
  // Output element i reads input element i of a same-shaped input before writing it.
  for (int i = 0; i < 2; ++i) {
    if (ctx.inputs[i].shape == out.shape &&
        DataTypeSize(ctx.inputs[i].dtype) == DataTypeSize(out.dtype)) {
      kernel.inplace_input = i;
      break;
    }
  }
  return kernel;
}

}  // namespace

PrepareResult PrepareBinary(const PrepareContext& ctx) {
  absl::string_view op = "";
  switch (static_cast<BinaryVariant>(ctx.variant)) {
    case kAdd: op = "add"; break;
    case kSub: op = "sub"; break;
    case kMul: op = "mul"; break;
    case kDiv: op = "div"; break;
    case kPow: op = "pow"; break;
    case kMaximum: op = "maximum"; break;
    case kMinimum: op = "minimum"; break;
  }
  return PrepareBroadcastBinary(ctx, op);
}

PrepareResult PrepareCompare(const PrepareContext& ctx) {
  absl::string_view op = "";
  switch (static_cast<CompareVariant>(ctx.variant)) {
    case kEqual: op = "equal"; break;
    case kNotEqual: op = "not_equal"; break;
    case kLess: op = "less"; break;
    case kLessEqual: op = "less_equal"; break;
    case kGreater: op = "greater"; break;
    case kGreaterEqual: op = "greater_equal"; break;
  }
  return PrepareBroadcastBinary(ctx, op);
}

PrepareResult PrepareWhere(const PrepareContext& ctx) {
  const TensorType& out = ctx.output();
  const Shape shapes[] = {ctx.inputs[0].shape, ctx.inputs[1].shape, ctx.inputs[2].shape};
  const CollapsedBroadcast layout = CollapseBroadcast(out.shape, shapes);
  WhereParams p{};
  p.total = out.shape.NumElements();
  p.rank = layout.rank;
  for (int d = 0; d < layout.rank; ++d) {
    p.dims[d] = layout.dims[d];
    for (int k = 0; k < 3; ++k) p.strides[k][d] = layout.strides[k][d];
  }
  ASSIGN_OR_RETURN(
      PreparedKernel kernel,
      MakeKernel(ctx, absl::StrCat("cpu.where.x", 8 * DataTypeSize(out.dtype)), p,
                 ElementwiseWorkgroups(p.total, DataTypeSize(out.dtype)), out.dtype));
  for (int i = 1; i <= 2; ++i) {
    if (ctx.inputs[i].shape == out.shape) {
      kernel.inplace_input = i;
      break;
    }
  }
  return kernel;
}

PrepareResult PrepareUnary(const PrepareContext& ctx) {
  const DataType dtype = ctx.inputs[0].dtype;
  absl::string_view op = "";
  switch (static_cast<UnaryVariant>(ctx.variant)) {
    case kNeg: op = "neg"; break;
    case kAbs: op = "abs"; break;
    case kRelu: op = "relu"; break;
    case kExp: op = "exp"; break;
    case kLog: op = "log"; break;
    case kSqrt: op = "sqrt"; break;
    case kRsqrt: op = "rsqrt"; break;
    case kTanh: op = "tanh"; break;
    case kSigmoid: op = "sigmoid"; break;
    case kErf: op = "erf"; break;
    case kGelu: op = ctx.node.string_attr("approximate") == "tanh" ? "gelu_tanh" : "gelu"; break;
  }
  UnaryParams p{ctx.output().shape.NumElements()};
  // The f32 math is compute-bound: the AVX2 + FMA build where the CPU has it.
  const std::string symbol = F32Avx2SymbolName(op, dtype);
  ASSIGN_OR_RETURN(PreparedKernel kernel,
                   MakeKernel(ctx, symbol, p, ElementwiseWorkgroups(p.total, DataTypeSize(dtype)),
                              dtype));
  kernel.inplace_input = 0;
  return kernel;
}

}  // namespace kiln::cpu
