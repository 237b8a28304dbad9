// MatMul: batched matrix product over the last two dimensions, with leading (batch)
// dimensions broadcast NumPy-style. FLOPs: 2 * M * N * K per batch element.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/ops/int_arith_internal.h"
#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"
#include "base/status_macros.h"

namespace kiln {
namespace {

// The matrix dimensions of one MatMul after the optional transposes: a is M x K, b is K x N.
struct MatMulDims {
  Shape a_batch;
  Shape b_batch;
  int64_t m = 0;
  int64_t k = 0;  // from a; equal to b's wherever both are known
  int64_t n = 0;
};

MatMulDims SplitDims(const Node& node, const Shape& a, const Shape& b) {
  const bool ta = node.bool_attr("transpose_a");
  const bool tb = node.bool_attr("transpose_b");
  const int ra = a.rank();
  const int rb = b.rank();
  MatMulDims dims;
  dims.a_batch = Shape(absl::MakeConstSpan(a.dims()).subspan(0, ra - 2));
  dims.b_batch = Shape(absl::MakeConstSpan(b.dims()).subspan(0, rb - 2));
  dims.m = ta ? a.dim(ra - 1) : a.dim(ra - 2);
  dims.k = ta ? a.dim(ra - 2) : a.dim(ra - 1);
  dims.n = tb ? b.dim(rb - 2) : b.dim(rb - 1);
  return dims;
}

absl::Status MatMulInfer(InferContext& ctx) {
  const Shape& a = ctx.inputs[0].shape;
  const Shape& b = ctx.inputs[1].shape;
  if (ctx.inputs[1].dtype != ctx.inputs[0].dtype) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input 'b' has dtype ", DataTypeName(ctx.inputs[1].dtype), ", expected ",
        DataTypeName(ctx.inputs[0].dtype), " like input 'a'"));
  }
  if (a.rank() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("input 'a' ", a.ToString(), " has rank ", a.rank(), ", expected at least 2"));
  }
  if (b.rank() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("input 'b' ", b.ToString(), " has rank ", b.rank(), ", expected at least 2"));
  }
  const bool tb = ctx.node.bool_attr("transpose_b");
  MatMulDims dims = SplitDims(ctx.node, a, b);
  const int64_t b_k = tb ? b.dim(b.rank() - 1) : b.dim(b.rank() - 2);
  if (dims.k != kUnknownDim && b_k != kUnknownDim && dims.k != b_k) {
    return absl::InvalidArgumentError(absl::StrCat(
        "inner dimensions differ: 'a' ", a.ToString(),
        ctx.node.bool_attr("transpose_a") ? " (transposed)" : "", " has K = ", dims.k, ", 'b' ",
        b.ToString(), tb ? " (transposed)" : "", " has K = ", b_k));
  }
  absl::StatusOr<Shape> batch = BroadcastShapes(dims.a_batch, dims.b_batch);
  if (!batch.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("batch dimensions of 'a' ", a.ToString(),
                                                   " and 'b' ", b.ToString(),
                                                   " do not broadcast"));
  }
  // An unknown K in a takes b's size, so the output (which does not contain K) is the same.
  std::vector<int64_t> out = batch->dims();
  out.push_back(dims.m);
  out.push_back(dims.n);
  ctx.outputs.push_back({ctx.inputs[0].dtype, Shape(std::move(out))});
  return absl::OkStatus();
}

// Computes every output element as a dot product: in double for floating types, and
// wrapping modulo 2^64 for integers (narrowed on store, like the elementwise ops).
absl::Status MatMulKernel(KernelContext& ctx) {
  const Tensor& a = ctx.inputs[0];
  const Tensor& b = ctx.inputs[1];
  Tensor& out = ctx.outputs[0];
  const bool ta = ctx.node.bool_attr("transpose_a");
  const bool tb = ctx.node.bool_attr("transpose_b");
  MatMulDims dims = SplitDims(ctx.node, a.shape(), b.shape());
  if (out.NumElements() == 0) return absl::OkStatus();  // no work, however large M or N
  const int64_t m_size = dims.m;
  const int64_t k_size = dims.k;
  const int64_t n_size = dims.n;
  // Element (i, j) of a stored matrix lives at i * row + j * col.
  const int64_t a_row = ta ? 1 : k_size;
  const int64_t a_col = ta ? m_size : 1;
  const int64_t b_row = tb ? 1 : n_size;
  const int64_t b_col = tb ? k_size : 1;

  Shape out_batch(absl::MakeConstSpan(out.shape().dims()).subspan(0, out.shape().rank() - 2));
  BroadcastIndexer a_index(dims.a_batch, out_batch);
  BroadcastIndexer b_index(dims.b_batch, out_batch);
  const int64_t batches = out_batch.NumElements();
  const bool floating = IsFloating(out.dtype());
  for (int64_t p = 0; p < batches; ++p) {
    const int64_t a_base = a_index.Map(p) * m_size * k_size;
    const int64_t b_base = b_index.Map(p) * k_size * n_size;
    const int64_t out_base = p * m_size * n_size;
    for (int64_t i = 0; i < m_size; ++i) {
      for (int64_t j = 0; j < n_size; ++j) {
        const int64_t out_at = out_base + i * n_size + j;
        if (floating) {
          double sum = 0;
          for (int64_t k = 0; k < k_size; ++k) {
            sum += a.GetAsDouble(a_base + i * a_row + k * a_col) *
                   b.GetAsDouble(b_base + k * b_row + j * b_col);
          }
          out.SetFromDouble(out_at, sum);
        } else {
          int64_t sum = 0;
          for (int64_t k = 0; k < k_size; ++k) {
            sum = WrapAdd(sum, WrapMul(a.GetAsInt64(a_base + i * a_row + k * a_col),
                                       b.GetAsInt64(b_base + k * b_row + j * b_col)));
          }
          out.SetFromInt64(out_at, sum);
        }
      }
    }
  }
  return absl::OkStatus();
}

int64_t MatMulFlops(const Node& node, absl::Span<const TensorType> inputs,
                    absl::Span<const TensorType> outputs) {
  const Shape& out = outputs[0].shape;
  if (!out.IsFullyKnown()) return 0;
  const Shape& a = inputs[0].shape;
  const Shape& b = inputs[1].shape;
  if (a.rank() < 2 || b.rank() < 2) return 0;
  int64_t k = node.bool_attr("transpose_a") ? a.dim(a.rank() - 2) : a.dim(a.rank() - 1);
  if (k == kUnknownDim) {
    k = node.bool_attr("transpose_b") ? b.dim(b.rank() - 1) : b.dim(b.rank() - 2);
  }
  if (k < 0) return 0;
  // out.NumElements() is at most 2^40, but K times it can exceed int64: saturate.
  const int64_t out_elements = out.NumElements();
  const int64_t max = std::numeric_limits<int64_t>::max();
  if (out_elements != 0 && k > max / 2 / out_elements) return max;
  return 2 * out_elements * k;
}

// PackedMatMul: a MatMul whose b is a constant packed for a kernel library's GEMM
// (passes/pack_weights.h): b_packed is [P, K, panel], panel q holding op(b)'s columns
// [q * panel, q * panel + panel) as K rows, zero past N.
absl::Status PackedMatMulInfer(InferContext& ctx) {
  const Shape& a = ctx.inputs[0].shape;
  const Shape& packed = ctx.inputs[1].shape;
  if (ctx.inputs[1].dtype != ctx.inputs[0].dtype) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input 'b_packed' has dtype ", DataTypeName(ctx.inputs[1].dtype), ", expected ",
        DataTypeName(ctx.inputs[0].dtype), " like input 'a'"));
  }
  if (a.rank() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("input 'a' ", a.ToString(), " has rank ", a.rank(), ", expected at least 2"));
  }
  if (packed.rank() != 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input 'b_packed' ", packed.ToString(), " has rank ", packed.rank(),
        ", expected 3 ([panels, K, panel width])"));
  }
  const int64_t n = ctx.node.int_attr("n");
  const int64_t panels = packed.dim(0);
  const int64_t width = packed.dim(2);
  if (n < 0 || width < 1 || panels != (n + width - 1) / width) {
    return absl::InvalidArgumentError(absl::StrCat(
        "attribute 'n' = ", n, " does not fill ", panels, " panels of width ", width,
        " of input 'b_packed' ", packed.ToString()));
  }
  const bool ta = ctx.node.bool_attr("transpose_a");
  const int64_t m = ta ? a.dim(a.rank() - 1) : a.dim(a.rank() - 2);
  const int64_t k = ta ? a.dim(a.rank() - 2) : a.dim(a.rank() - 1);
  if (k != kUnknownDim && k != packed.dim(1)) {
    return absl::InvalidArgumentError(absl::StrCat("inner dimensions differ: 'a' ", a.ToString(),
                                                   " has K = ", k, ", 'b_packed' ",
                                                   packed.ToString(), " has K = ", packed.dim(1)));
  }
  std::vector<int64_t> out(a.dims().begin(), a.dims().end() - 2);
  out.push_back(m);
  out.push_back(n);
  ctx.outputs.push_back({ctx.inputs[0].dtype, Shape(std::move(out))});
  if (ctx.inputs.size() >= 3 && !(ctx.inputs[2] == TensorType{ctx.inputs[0].dtype, Shape{n}})) {
    return absl::InvalidArgumentError(absl::StrCat("input 'bias' is ", ctx.inputs[2].ToString(),
                                                   ", expected [", n, "] of 'a''s dtype"));
  }
  return CheckResidualInput(ctx, 3);
}

absl::Status PackedMatMulKernel(KernelContext& ctx) {
  const Tensor& a = ctx.inputs[0];
  const Tensor& packed = ctx.inputs[1];
  Tensor& out = ctx.outputs[0];
  const bool ta = ctx.node.bool_attr("transpose_a");
  const int rank = a.shape().rank();
  const int64_t m = ta ? a.shape().dim(rank - 1) : a.shape().dim(rank - 2);
  const int64_t k = ta ? a.shape().dim(rank - 2) : a.shape().dim(rank - 1);
  const int64_t n = ctx.node.int_attr("n");
  const int64_t width = packed.shape().dim(2);
  const int64_t a_row = ta ? 1 : k;
  const int64_t a_col = ta ? m : 1;
  const int64_t batches = m * k == 0 ? out.NumElements() / std::max<int64_t>(m * n, 1)
                                     : a.NumElements() / (m * k);
  for (int64_t batch = 0; batch < batches; ++batch) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        const int64_t panel = (j / width) * k * width + j % width;
        for (int64_t p = 0; p < k; ++p) {
          sum += a.GetAsDouble(batch * m * k + i * a_row + p * a_col) *
                 packed.GetAsDouble(panel + p * width);
        }
        const int64_t at = batch * m * n + i * n + j;
        if (ctx.inputs.size() >= 3) sum += ctx.inputs[2].GetAsDouble(j);
        if (ctx.inputs.size() == 4) sum += ctx.inputs[3].GetAsDouble(at);
        out.SetFromDouble(at, sum);
      }
    }
  }
  ClampOutput(ctx.node, out);
  return absl::OkStatus();
}

int64_t PackedMatMulFlops(const Node&, absl::Span<const TensorType> inputs,
                          absl::Span<const TensorType> outputs) {
  const Shape& out = outputs[0].shape;
  if (!out.IsFullyKnown() || inputs[1].shape.rank() != 3) return 0;
  return 2 * out.NumElements() * inputs[1].shape.dim(1);
}

}  // namespace

void RegisterMatMulOps(OpRegistry& registry) {
  MustRegister(registry, OpDef{
      .name = "MatMul",
      .summary = "Batched matrix product: op(a)[..., M, K] x op(b)[..., K, N] -> [..., M, N], "
                 "where op transposes the last two dimensions when transpose_a / transpose_b is "
                 "set and the leading batch dimensions broadcast NumPy-style; integers wrap.",
      .input_names = {"a", "b"},
      .min_inputs = 2,
      .max_inputs = 2,
      .attrs = {{"transpose_a", AttrType::kBool, false}, {"transpose_b", AttrType::kBool, false}},
      .dtypes = NumericTypes(),
      .traits = kContraction,
      .infer = MatMulInfer,
      .reference = MatMulKernel,
      .flops = MatMulFlops,
  });
  MustRegister(registry, OpDef{
      .name = "PackedMatMul",
      .summary = "MatMul of op(a)[..., M, K] by a constant b packed for a kernel library's "
                 "GEMM: b_packed[P, K, W] holds op(b)'s N columns in P panels of W (panel q: "
                 "columns [qW, qW + W) as K rows, zero past N), plus an optional bias [N] and "
                 "then an optional residual (the output's type, with a bias given), the result "
                 "clamped to [clamp_min, clamp_max] (NaN stays NaN): a folded bias, residual "
                 "Add and ReLU or ReLU6. Made by the compiler from MatMul with a constant b; "
                 "f32.",
      .input_names = {"a", "b_packed", "bias", "residual"},
      .min_inputs = 2,
      .max_inputs = 4,
      .attrs = {{"transpose_a", AttrType::kBool, false},
                {"n", AttrType::kInt, std::nullopt},
                {"clamp_min", AttrType::kFloat, -std::numeric_limits<double>::infinity()},
                {"clamp_max", AttrType::kFloat, std::numeric_limits<double>::infinity()}},
      .dtypes = {DataType::kF32},
      .traits = kClampedOutput | kEpilogueInputs,
      .infer = PackedMatMulInfer,
      .reference = PackedMatMulKernel,
      .flops = PackedMatMulFlops,
  });
}

}  // namespace kiln
