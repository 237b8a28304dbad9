// Converters of ONNX's reductions: ReduceSum/Mean/Max/Min/Prod onto Kiln's reductions,
// the norm-like ones (L1, L2, SumSquare, LogSum, LogSumExp) as their formulas over those,
// plus ArgMax/ArgMin and CumSum.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/onnx/onnx_converter.h"
#include "graph/onnx/onnx_ops_util.h"
#include "base/status_macros.h"

namespace kiln::onnx_import {

// ReduceSum takes its axes as an input from opset 13; the others keep the attribute
// until opset 18 (beyond what Kiln imports).
absl::Status ConvertReduce(NodeContext& ctx) {
  const std::string& op = ctx.node().op_type();
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(int64_t keepdims, ctx.Int("keepdims", 1));
  const int64_t input_opset = op == "ReduceSum" ? 13 : 18;
  ASSIGN_OR_RETURN(std::vector<int64_t> axes, AxesAttrOrInput(ctx, input_opset, 1));
  if (ctx.opset() >= input_opset) {
    ASSIGN_OR_RETURN(int64_t noop, ctx.Int("noop_with_empty_axes", 0));
    if (axes.empty() && noop != 0) return ctx.SetOutput(0, x);
  }
  const int rank = ctx.ShapeOf(x).rank();
  ASSIGN_OR_RETURN(axes, NormalizeAxes(axes, rank, "axes"));
  AttrMap attrs = {{"axes", axes}, {"keepdims", keepdims != 0}};
  TensorRef y;
  if (op == "ReduceSum" || op == "ReduceMean" || op == "ReduceMax" || op == "ReduceMin" ||
      op == "ReduceProd") {
    ASSIGN_OR_RETURN(y, ctx.Emit(op, {x}, attrs));
  } else if (op == "ReduceL1") {
    ASSIGN_OR_RETURN(TensorRef a, ctx.Emit("Abs", {x}));
    ASSIGN_OR_RETURN(y, ctx.Emit("ReduceSum", {a}, attrs));
  } else if (op == "ReduceL2" || op == "ReduceSumSquare") {
    ASSIGN_OR_RETURN(TensorRef sq, ctx.Emit("Mul", {x, x}));
    ASSIGN_OR_RETURN(y, ctx.Emit("ReduceSum", {sq}, attrs));
    if (op == "ReduceL2") {
      // Integer L2 norms are computed in f64 and truncated, as ONNX's reference does.
      if (!IsFloating(ctx.Dtype(y))) {
        ASSIGN_OR_RETURN(TensorRef d, ctx.Emit("Cast", {y}, {{"to", DataType::kF64}}));
        ASSIGN_OR_RETURN(d, ctx.Emit("Sqrt", {d}));
        ASSIGN_OR_RETURN(y, ctx.Emit("Cast", {d}, {{"to", ctx.Dtype(x)}}));
      } else {
        ASSIGN_OR_RETURN(y, ctx.Emit("Sqrt", {y}));
      }
    }
  } else if (op == "ReduceLogSum") {
    ASSIGN_OR_RETURN(TensorRef s, ctx.Emit("ReduceSum", {x}, attrs));
    ASSIGN_OR_RETURN(y, ctx.Emit("Log", {s}));
  } else if (op == "ReduceLogSumExp") {
    // log(sum(exp(x - m))) + m with m the maximum, so exp cannot overflow.
    AttrMap kept = {{"axes", axes}, {"keepdims", true}};
    ASSIGN_OR_RETURN(TensorRef m, ctx.Emit("ReduceMax", {x}, kept));
    ASSIGN_OR_RETURN(TensorRef shifted, ctx.Emit("Sub", {x, m}));
    ASSIGN_OR_RETURN(TensorRef e, ctx.Emit("Exp", {shifted}));
    ASSIGN_OR_RETURN(TensorRef s, ctx.Emit("ReduceSum", {e}, attrs));
    ASSIGN_OR_RETURN(TensorRef l, ctx.Emit("Log", {s}));
    TensorRef m_out = m;
    if (keepdims == 0) {
      ASSIGN_OR_RETURN(m_out, ctx.Emit("ReduceMax", {x}, attrs));
    }
    ASSIGN_OR_RETURN(y, ctx.Emit("Add", {l, m_out}));
  } else {
    return absl::InternalError(absl::StrCat("no reduction rule for ", op));
  }
  return ctx.SetOutput(0, y);
}

absl::Status ConvertArgMinMax(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t axis, ctx.Int("axis", 0));
  ASSIGN_OR_RETURN(int64_t keepdims, ctx.Int("keepdims", 1));
  ASSIGN_OR_RETURN(int64_t last, ctx.Int("select_last_index", 0));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit(ctx.node().op_type(), {x},
                                         {{"axis", axis},
                                          {"keepdims", keepdims != 0},
                                          {"select_last_index", last != 0}}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertCumSum(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t exclusive, ctx.Int("exclusive", 0));
  ASSIGN_OR_RETURN(int64_t reverse, ctx.Int("reverse", 0));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> axis, ctx.ConstantInts(1, "axis"));
  if (axis.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("input 'axis' has ", axis.size(),
                                                   " values, expected 1"));
  }
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("CumSum", {x}, {{"axis", axis[0]},
                                                         {"exclusive", exclusive != 0},
                                                         {"reverse", reverse != 0}}));
  return ctx.SetOutput(0, y);
}

}  // namespace kiln::onnx_import
