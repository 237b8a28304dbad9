// Each row kernel is one function: workgroup w takes rows [lo, hi) and, per row, runs
// scf.for loops over its n elements with the reductions in loop-carried scalars (no
// buffer beyond the operands, which the memory plan provides). Softmax: the row's maximum,
// then exp(x - max) written to the output while its sum accumulates in f64, then the
// output scaled by 1 / sum. LayerNorm: the f64 sum, the mean, the f64 sum of squared
// deviations, then (x - mean) * rsqrt(variance + epsilon) * gamma + beta. The f64 sums and
// the f32 max carry reassoc so LLVM vectorizes them; exp is Kiln's polynomial
// (scalar_ops.h), as in loop kernels and the CPU library.
#include "kernels/codegen/row_kernel.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

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

// The row length of `node`: the last dimension (Softmax) or the dimensions from `axis`
// on (LayerNorm).
int64_t RowLength(const Node& node) {
  const Shape& x = node.outputs[0].shape;
  int64_t axis = node.int_attr("axis");
  if (axis < 0) axis += x.rank();
  int64_t n = 1;
  for (int d = static_cast<int>(axis); d < x.rank(); ++d) n *= x.dim(d);
  return n;
}

// An f64 constant written exactly: MLIR reads a hexadecimal float literal as its bits.
std::string F64(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return absl::StrFormat("0x%016X", bits);
}

}  // namespace

absl::Status CheckRowKernel(const Node& node) {
  if (node.op != "Softmax" && node.op != "LayerNorm") return Unsupported(node, "another op");
  if (node.outputs.size() != 1 || node.outputs[0].dtype != DataType::kF32) {
    return Unsupported(node, "not f32");
  }
  const Shape& x = node.outputs[0].shape;
  if (x.rank() < 1 || !x.IsFullyKnown()) return Unsupported(node, "shape not bound");
  int64_t axis = node.int_attr("axis");
  if (axis < 0) axis += x.rank();
  if (node.op == "Softmax" && axis != x.rank() - 1) {
    return Unsupported(node, "the axis is not the last");
  }
  return absl::OkStatus();
}

absl::StatusOr<LoopKernelSource> EmitRowKernel(const Node& node) {
  RETURN_IF_ERROR(CheckRowKernel(node));
  const bool softmax = node.op == "Softmax";
  const int64_t total = node.outputs[0].shape.NumElements();
  const int64_t n = std::max<int64_t>(RowLength(node), 1);
  const int64_t rows = total / n;
  LoopKernelSource source;
  source.num_buffers = softmax ? 2 : 4;
  source.workgroup_count =
      total == 0 ? 1 : std::clamp<int64_t>(cpu::ElementwiseWorkgroups(total, 4), 1, rows);
  const std::string row_type = absl::StrCat("tensor<", std::max<int64_t>(total, 1), "xf32>");
  const std::string param_type = absl::StrCat("tensor<", n, "xf32>");
  std::string text = absl::StrCat("module {\n  func.func @", kLoopFunction, "(%x: ", row_type,
                                  softmax ? "" : absl::StrCat(", %gamma: ", param_type,
                                                              ", %beta: ", param_type),
                                  ", %out: ", row_type,
                                  ", %wg: index, %nwg: index) -> ", row_type, " {\n");
  if (total == 0) {
    absl::StrAppend(&text, "    return %out : ", row_type, "\n  }\n}\n");
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
                  row_type, ") {\n", "      %base = arith.muli %i, %n : index\n");
  ScalarBuilder scalars("f32");
  // SSA names are unique in the function: each loop's values carry its letter.
  if (softmax) {
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
        "      %sum = scf.for %ja = %c0 to %n step %c1 iter_args(%sa = %zero) -> (f64) {\n",
        "        %ka = arith.addi %base, %ja : index\n",
        "        %va = tensor.extract %x[%ka] : ", row_type, "\n",
        "        %vda = arith.extf %va : f32 to f64\n",
        "        %s2a = arith.addf %sa, %vda fastmath<reassoc> : f64\n",
        "        scf.yield %s2a : f64\n      }\n",
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
  absl::StrAppend(&text, "    return %res : ", row_type, "\n  }\n}\n");
  source.mlir = std::move(text);
  return source;
}

}  // namespace kiln::codegen
