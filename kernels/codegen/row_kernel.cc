// Each row kernel is one function: workgroup w takes rows [lo, hi) and, per row, runs
// scf.for loops over its n elements with the reductions in loop-carried scalars (no
// buffer beyond the operands, which the memory plan provides). Softmax: the row's maximum,
// then exp(x - max) written to the output while its sum accumulates in f64, then the
// output scaled by 1 / sum. LayerNorm: the f64 sum, the mean, the f64 sum of squared
// deviations, then (x - mean) * rsqrt(variance + epsilon) * gamma + beta. Reductions over
// trailing axes: the f64 sum (divided by the count for ReduceMean) or the NaN-propagating
// maximum, one output element per row. The f64 sums and
// the f32 max carry reassoc so LLVM vectorizes them; exp is Kiln's polynomial
// (scalar_ops.h), as in loop kernels and the CPU library.
#include "kernels/codegen/row_kernel.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "kernels/codegen/scalar_ops.h"
#include "kernels/cpu/prepare_util.h"

namespace kiln::codegen {
namespace {

absl::Status Unsupported(const Node& node, absl::string_view why) {
  return absl::UnimplementedError(absl::StrCat("node '", node.name, "' (", node.op,
                                               "): not a generated row kernel: ", why));
}

// Rows and row length of `node`: for Softmax the last dimension, for LayerNorm the
// dimensions from `axis` on, for a reduction its reduced (trailing) dimensions of x.
struct RowShape {
  int64_t rows = 0;
  int64_t n = 0;
};

bool IsReduction(const Node& node) {
  return node.op == "ReduceSum" || node.op == "ReduceMean" || node.op == "ReduceMax";
}

// x's shape, and the first reduced or normalized dimension; nullopt-like (-1) when the
// node does not reduce trailing dimensions.
int FirstRowDim(const Node& node, const Shape& x) {
  if (IsReduction(node)) {
    const std::vector<int64_t>& axes = node.ints_attr("axes");
    std::vector<bool> reduced(x.rank(), axes.empty());
    for (int64_t a : axes) reduced[a < 0 ? a + x.rank() : a] = true;
    int first = x.rank();
    while (first > 0 && reduced[first - 1]) --first;
    for (int d = 0; d < first; ++d) {
      if (reduced[d]) return -1;
    }
    return first;
  }
  int64_t axis = node.int_attr("axis");
  if (axis < 0) axis += x.rank();
  if (node.op == "Softmax" && axis != x.rank() - 1) return -1;
  return static_cast<int>(axis);
}

RowShape RowsOf(const Node& node, const Shape& x, int first) {
  RowShape r;
  r.rows = 1;
  r.n = 1;
  for (int d = 0; d < x.rank(); ++d) (d < first ? r.rows : r.n) *= x.dim(d);
  return r;
}

const TensorType* InputType(const Graph& graph, const Node& node) {
  if (node.inputs.empty()) return nullptr;
  const TensorRef& ref = node.inputs[0];
  if (ref.node < 0 || ref.node >= graph.num_nodes() || ref.output < 0 ||
      ref.output >= static_cast<int>(graph.node(ref.node).outputs.size())) {
    return nullptr;
  }
  return &graph.node(ref.node).outputs[ref.output];
}

// An f64 constant written exactly: MLIR reads a hexadecimal float literal as its bits.
std::string F64(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return absl::StrFormat("0x%016X", bits);
}

// The f64 sum of the row at %base, reassociable (LLVM's vector reduction), as %sum.
std::string RowSumLoop(const std::string& row_type) {
  return absl::StrCat(
      "      %sum = scf.for %ja = %c0 to %n step %c1 iter_args(%sa = %zero) -> (f64) {\n",
      "        %ka = arith.addi %base, %ja : index\n",
      "        %va = tensor.extract %x[%ka] : ", row_type, "\n",
      "        %vda = arith.extf %va : f32 to f64\n",
      "        %s2a = arith.addf %sa, %vda fastmath<reassoc> : f64\n",
      "        scf.yield %s2a : f64\n      }\n");
}

}  // namespace

absl::Status CheckRowKernel(const Graph& graph, const Node& node) {
  if (node.op != "Softmax" && node.op != "LayerNorm" && !IsReduction(node)) {
    return Unsupported(node, "another op");
  }
  const TensorType* x = InputType(graph, node);
  if (node.outputs.size() != 1 || node.outputs[0].dtype != DataType::kF32 || x == nullptr ||
      x->dtype != DataType::kF32) {
    return Unsupported(node, "not f32");
  }
  if (!x->shape.IsFullyKnown() || !node.outputs[0].shape.IsFullyKnown()) {
    return Unsupported(node, "shape not bound");
  }
  if (x->shape.rank() < 1) return Unsupported(node, "a scalar");
  if (FirstRowDim(node, x->shape) < 0) {
    return Unsupported(node, IsReduction(node) ? "reduced axes are not the trailing ones"
                                               : "the axis is not the last");
  }
  return absl::OkStatus();
}

absl::StatusOr<LoopKernelSource> EmitRowKernel(const Graph& graph, const Node& node) {
  RETURN_IF_ERROR(CheckRowKernel(graph, node));
  const Shape& x = InputType(graph, node)->shape;
  const bool softmax = node.op == "Softmax";
  const bool reduction = IsReduction(node);
  const RowShape shape = RowsOf(node, x, FirstRowDim(node, x));
  const int64_t rows = shape.rows;
  const int64_t n = shape.n;
  const int64_t total = x.NumElements();
  LoopKernelSource source;
  source.num_buffers = static_cast<int>(node.inputs.size()) + 1;
  source.workgroup_count =
      total == 0 || rows == 0
          ? 1
          : std::clamp<int64_t>(cpu::ElementwiseWorkgroups(total, 4), 1, rows);
  const std::string row_type = absl::StrCat("tensor<", std::max<int64_t>(total, 1), "xf32>");
  const std::string out_type = reduction
                                   ? absl::StrCat("tensor<", std::max<int64_t>(rows, 1), "xf32>")
                                   : row_type;
  const std::string param_type = absl::StrCat("tensor<", std::max<int64_t>(n, 1), "xf32>");
  std::string text = absl::StrCat(
      "module {\n  func.func @", kLoopFunction, "(%x: ", row_type,
      node.op == "LayerNorm"
          ? absl::StrCat(", %gamma: ", param_type, ", %beta: ", param_type)
          : "",
      ", %out: ", out_type, ", %wg: index, %nwg: index) -> ", out_type, " {\n");
  if (rows == 0 || (!reduction && total == 0)) {
    absl::StrAppend(&text, "    return %out : ", out_type, "\n  }\n}\n");
    source.mlir = std::move(text);
    return source;
  }
  // This workgroup's rows [lo, hi), and constants.
  absl::StrAppend(&text, "    %c0 = arith.constant 0 : index\n",
                  "    %c1 = arith.constant 1 : index\n",
                  "    %rows = arith.constant ", rows, " : index\n",
                  "    %n = arith.constant ", n, " : index\n",
                  "    %t0 = arith.muli %wg, %rows : index\n",
                  "    %lo = arith.divui %t0, %nwg : index\n",
                  "    %t1 = arith.addi %wg, %c1 : index\n",
                  "    %t2 = arith.muli %t1, %rows : index\n",
                  "    %hi = arith.divui %t2, %nwg : index\n",
                  "    %zero = arith.constant 0.0 : f64\n",
                  "    %one = arith.constant 1.0 : f64\n",
                  "    %count = arith.constant ", F64(static_cast<double>(n)), " : f64\n");
  absl::StrAppend(&text, "    %res = scf.for %i = %lo to %hi step %c1 iter_args(%o = %out) -> (",
                  out_type, ") {\n", "      %base = arith.muli %i, %n : index\n");
  ScalarBuilder scalars("f32");
  // SSA names are unique in the function: each loop's values carry its letter.
  if (reduction) {
    if (node.op == "ReduceMax") {
      // NaN-propagating, as the reference: maxnum drops a NaN operand, so an unordered
      // pair yields NaN explicitly (then nothing replaces it).
      absl::StrAppend(
          &text, "      %ninf = arith.constant 0xFF800000 : f32\n",
          "      %nan = arith.constant 0x7FC00000 : f32\n",
          "      %r = scf.for %ja = %c0 to %n step %c1 iter_args(%ma = %ninf) -> (f32) {\n",
          "        %ka = arith.addi %base, %ja : index\n",
          "        %va = tensor.extract %x[%ka] : ", row_type, "\n",
          "        %uo = arith.cmpf uno, %ma, %va : f32\n",
          "        %mx = arith.maxf %ma, %va : f32\n",
          "        %m2a = arith.select %uo, %nan, %mx : f32\n",
          "        scf.yield %m2a : f32\n      }\n");
    } else {
      absl::StrAppend(
          &text,
          RowSumLoop(row_type),
          node.op == "ReduceMean" ? "      %r64 = arith.divf %sum, %count : f64\n"
                                  : "      %r64 = arith.addf %sum, %zero : f64\n",
          "      %r = arith.truncf %r64 : f64 to f32\n");
    }
    absl::StrAppend(&text, "      %o2 = tensor.insert %r into %o[%i] : ", out_type, "\n",
                    "      scf.yield %o2 : ", out_type, "\n    }\n");
  } else if (softmax) {
    Node exp_node;
    exp_node.op = "Exp";
    scalars.ClearText();
    ASSIGN_OR_RETURN(std::string e, EmitScalarOp(scalars, exp_node, {"%db"}));
    // The maximum (maxnum: a NaN in the row makes its sum, and so every output, NaN).
    absl::StrAppend(
        &text, "      %ninf = arith.constant 0xFF800000 : f32\n",
        "      %mx = scf.for %ja = %c0 to %n step %c1 iter_args(%ma = %ninf) -> (f32) {\n",
        "        %ka = arith.addi %base, %ja : index\n",
        "        %va = tensor.extract %x[%ka] : ", row_type, "\n",
        "        %m2a = arith.maxf %ma, %va : f32\n",
        "        scf.yield %m2a : f32\n      }\n",
        "      %o1, %sum = scf.for %jb = %c0 to %n step %c1 iter_args(%tb = %o, %sb = %zero) -> (",
        row_type, ", f64) {\n", "        %kb = arith.addi %base, %jb : index\n",
        "        %vb = tensor.extract %x[%kb] : ", row_type, "\n",
        "        %db = arith.subf %vb, %mx : f32\n", scalars.text(),
        "        %t2b = tensor.insert ", e, " into %tb[%kb] : ", row_type, "\n",
        "        %edb = arith.extf ", e, " : f32 to f64\n",
        "        %s2b = arith.addf %sb, %edb fastmath<reassoc> : f64\n",
        "        scf.yield %t2b, %s2b : ", row_type, ", f64\n      }\n",
        "      %inv64 = arith.divf %one, %sum : f64\n",
        "      %inv = arith.truncf %inv64 : f64 to f32\n",
        "      %o2 = scf.for %jc = %c0 to %n step %c1 iter_args(%tc = %o1) -> (", row_type,
        ") {\n", "        %kc = arith.addi %base, %jc : index\n",
        "        %ec = tensor.extract %tc[%kc] : ", row_type, "\n",
        "        %yc = arith.mulf %ec, %inv : f32\n",
        "        %t2c = tensor.insert %yc into %tc[%kc] : ", row_type, "\n",
        "        scf.yield %t2c : ", row_type, "\n      }\n",
        "      scf.yield %o2 : ", row_type, "\n    }\n");
  } else {
    const double epsilon = node.float_attr("epsilon");
    absl::StrAppend(
        &text,
        RowSumLoop(row_type),
        "      %mean = arith.divf %sum, %count : f64\n",
        "      %sq = scf.for %jb = %c0 to %n step %c1 iter_args(%sb = %zero) -> (f64) {\n",
        "        %kb = arith.addi %base, %jb : index\n",
        "        %vb = tensor.extract %x[%kb] : ", row_type, "\n",
        "        %vdb = arith.extf %vb : f32 to f64\n",
        "        %dvb = arith.subf %vdb, %mean : f64\n",
        "        %d2b = arith.mulf %dvb, %dvb : f64\n",
        "        %s2b = arith.addf %sb, %d2b fastmath<reassoc> : f64\n",
        "        scf.yield %s2b : f64\n      }\n",
        "      %eps = arith.constant ", F64(epsilon), " : f64\n",
        "      %var = arith.divf %sq, %count : f64\n",
        "      %ve = arith.addf %var, %eps : f64\n",
        "      %sd = math.sqrt %ve : f64\n",
        "      %inv64 = arith.divf %one, %sd : f64\n",
        "      %inv = arith.truncf %inv64 : f64 to f32\n",
        "      %mean32 = arith.truncf %mean : f64 to f32\n",
        "      %o2 = scf.for %jc = %c0 to %n step %c1 iter_args(%tc = %o) -> (", row_type,
        ") {\n", "        %kc = arith.addi %base, %jc : index\n",
        "        %vc = tensor.extract %x[%kc] : ", row_type, "\n",
        "        %gc = tensor.extract %gamma[%jc] : ", param_type, "\n",
        "        %bc = tensor.extract %beta[%jc] : ", param_type, "\n",
        "        %cc = arith.subf %vc, %mean32 : f32\n",
        "        %scc = arith.mulf %cc, %inv : f32\n",
        "        %gsc = arith.mulf %scc, %gc : f32\n",
        "        %yc = arith.addf %gsc, %bc : f32\n",
        "        %t2c = tensor.insert %yc into %tc[%kc] : ", row_type, "\n",
        "        scf.yield %t2c : ", row_type, "\n      }\n",
        "      scf.yield %o2 : ", row_type, "\n    }\n");
  }
  absl::StrAppend(&text, "    return %res : ", out_type, "\n  }\n}\n");
  source.mlir = std::move(text);
  return source;
}

}  // namespace kiln::codegen
