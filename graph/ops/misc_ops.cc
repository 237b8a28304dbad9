// Indexing, scanning and replication ops added for the ONNX importer: ArgMax, ArgMin,
// CumSum, Trilu, GatherElements, GatherND, ScatterElements, ScatterND, TopK, Expand,
// Tile, and the reductions ReduceMin and ReduceProd. Floating values are read as double, integers as exact int64 (sums and
// products wrap modulo 2^bits like Add and Mul).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/ops/int_arith_internal.h"
#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"
#include "base/status_macros.h"

namespace kiln {
namespace {

absl::Status AttrError(absl::string_view attr, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("attribute '", attr, "' ", message));
}

int64_t InputElements(const Node&, absl::Span<const TensorType> inputs,
                      absl::Span<const TensorType>) {
  const Shape& x = inputs[0].shape;
  return x.IsFullyKnown() ? x.NumElements() : 0;  // unknown until shapes are bound
}

// The "axis" attribute normalized to [0, rank).
absl::StatusOr<int> AxisAttr(const Node& node, int rank) {
  const int64_t axis = node.int_attr("axis");
  if (axis < -rank || axis >= rank) {
    return AttrError("axis", absl::StrCat("is ", axis, ", out of range for rank ", rank));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

// Splits a fully known shape around `axis` into outer * size * inner.
struct AxisSplit {
  int64_t outer = 1;
  int64_t size = 1;
  int64_t inner = 1;
};
AxisSplit SplitAt(const Shape& shape, int axis) {
  AxisSplit s;
  for (int d = 0; d < axis; ++d) s.outer *= shape.dim(d);
  s.size = shape.dim(axis);
  for (int d = axis + 1; d < shape.rank(); ++d) s.inner *= shape.dim(d);
  return s;
}

void CopyElement(const Tensor& from, int64_t i, Tensor& to, int64_t j) {
  const int64_t size = DataTypeSize(from.dtype());
  std::memcpy(static_cast<char*>(to.raw_data()) + j * size,
              static_cast<const char*>(from.raw_data()) + i * size, size);
}

// ------------------------------------------------------------------ ArgMax / ArgMin

absl::Status ArgInfer(InferContext& ctx) {
  const Shape& x = ctx.inputs[0].shape;
  if (x.rank() == 0) return absl::InvalidArgumentError("input 'x' is a scalar; expected rank >= 1");
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, x.rank()));
  if (x.dim(axis) == 0) {
    return absl::InvalidArgumentError(absl::StrCat("dimension ", axis, " of input 'x' ",
                                                   x.ToString(), " is empty"));
  }
  Shape out = x;
  if (ctx.node.bool_attr("keepdims")) {
    out.dim(axis) = 1;
  } else {
    out.dims().erase(out.dims().begin() + axis);
  }
  ctx.outputs.push_back({DataType::kI64, out});
  return absl::OkStatus();
}

// NaN counts as larger than everything for ArgMax and smaller for ArgMin, so the first
// NaN wins, as in NumPy.
ReferenceKernel ArgKernel(bool is_max) {
  return [is_max](KernelContext& ctx) -> absl::Status {
    const Tensor& x = ctx.inputs[0];
    ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, x.shape().rank()));
    const AxisSplit s = SplitAt(x.shape(), axis);
    if (s.size == 0) return absl::InvalidArgumentError("reduction over an empty dimension");
    const bool last = ctx.node.bool_attr("select_last_index");
    const bool floating = IsFloating(x.dtype());
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t in = 0; in < s.inner; ++in) {
        const int64_t base = o * s.size * s.inner + in;
        int64_t best = 0;
        for (int64_t k = 1; k < s.size; ++k) {
          const int64_t a = base + k * s.inner;
          const int64_t b = base + best * s.inner;
          bool better;
          bool tie;
          if (floating) {
            const double va = x.GetAsDouble(a);
            const double vb = x.GetAsDouble(b);
            if (std::isnan(vb)) {
              better = false;
              tie = std::isnan(va);
            } else if (std::isnan(va)) {
              better = true;
              tie = false;
            } else {
              better = is_max ? va > vb : va < vb;
              tie = va == vb;
            }
          } else {
            const int64_t va = x.GetAsInt64(a);
            const int64_t vb = x.GetAsInt64(b);
            better = is_max ? va > vb : va < vb;
            tie = va == vb;
          }
          if (better || (tie && last)) best = k;
        }
        ctx.outputs[0].SetFromInt64(o * s.inner + in, best);
      }
    }
    return absl::OkStatus();
  };
}

// --------------------------------------------------------------------------- CumSum

absl::Status CumSumInfer(InferContext& ctx) {
  if (ctx.inputs[0].shape.rank() == 0) {
    return absl::InvalidArgumentError("input 'x' is a scalar; expected rank >= 1");
  }
  RETURN_IF_ERROR(AxisAttr(ctx.node, ctx.inputs[0].shape.rank()).status());
  ctx.outputs.push_back(ctx.inputs[0]);
  return absl::OkStatus();
}

absl::Status CumSumKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  Tensor& out = ctx.outputs[0];
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, x.shape().rank()));
  const AxisSplit s = SplitAt(x.shape(), axis);
  const bool exclusive = ctx.node.bool_attr("exclusive");
  const bool reverse = ctx.node.bool_attr("reverse");
  const bool floating = IsFloating(x.dtype());
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t in = 0; in < s.inner; ++in) {
      double fsum = 0;
      int64_t isum = 0;
      for (int64_t step = 0; step < s.size; ++step) {
        const int64_t k = reverse ? s.size - 1 - step : step;
        const int64_t i = (o * s.size + k) * s.inner + in;
        if (!exclusive) {
          if (floating) fsum += x.GetAsDouble(i); else isum = WrapAdd(isum, x.GetAsInt64(i));
        }
        if (floating) out.SetFromDouble(i, fsum); else out.SetFromInt64(i, isum);
        if (exclusive) {
          if (floating) fsum += x.GetAsDouble(i); else isum = WrapAdd(isum, x.GetAsInt64(i));
        }
      }
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------- Trilu

absl::Status TriluInfer(InferContext& ctx) {
  if (ctx.inputs[0].shape.rank() < 2) {
    return absl::InvalidArgumentError(absl::StrCat("input 'x' ", ctx.inputs[0].shape.ToString(),
                                                   " has rank below 2"));
  }
  ctx.outputs.push_back(ctx.inputs[0]);
  return absl::OkStatus();
}

absl::Status TriluKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  Tensor& out = ctx.outputs[0];
  const int rank = x.shape().rank();
  const int64_t rows = x.shape().dim(rank - 2);
  const int64_t cols = x.shape().dim(rank - 1);
  const bool upper = ctx.node.bool_attr("upper");
  const int64_t k = ctx.node.int_attr("k");
  // out is zero-filled; copy the kept elements. Comparing j - i (both < 2^40) with k
  // cannot overflow.
  for (int64_t i = 0; i < out.NumElements(); ++i) {
    const int64_t c = cols == 0 ? 0 : i % cols;
    const int64_t r = cols == 0 || rows == 0 ? 0 : (i / cols) % rows;
    const bool keep = upper ? c - r >= k : c - r <= k;
    if (keep) CopyElement(x, i, out, i);
  }
  return absl::OkStatus();
}

// -------------------------------------------------------------------- GatherElements

absl::Status GatherElementsInfer(InferContext& ctx) {
  const Shape& data = ctx.inputs[0].shape;
  const Shape& indices = ctx.inputs[1].shape;
  const DataType index_type = ctx.inputs[1].dtype;
  if (index_type != DataType::kI32 && index_type != DataType::kI64) {
    return absl::InvalidArgumentError(absl::StrCat("input 'indices' has dtype ",
                                                   DataTypeName(index_type),
                                                   ", expected i32 or i64"));
  }
  if (data.rank() == 0 || indices.rank() != data.rank()) {
    return absl::InvalidArgumentError(absl::StrCat("input 'indices' ", indices.ToString(),
                                                   " must have the rank of 'data' ",
                                                   data.ToString(), " (at least 1)"));
  }
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, data.rank()));
  for (int d = 0; d < data.rank(); ++d) {
    if (d == axis || data.dim(d) == kUnknownDim || indices.dim(d) == kUnknownDim) continue;
    if (indices.dim(d) > data.dim(d)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 'indices' ", indices.ToString(), " is larger than 'data' ", data.ToString(),
          " in dimension ", d));
    }
  }
  ctx.outputs.push_back({ctx.inputs[0].dtype, indices});
  return absl::OkStatus();
}

absl::Status GatherElementsKernel(KernelContext& ctx) {
  const Tensor& data = ctx.inputs[0];
  const Tensor& indices = ctx.inputs[1];
  Tensor& out = ctx.outputs[0];
  const int rank = data.shape().rank();
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, rank));
  const std::vector<int64_t> data_strides = RowMajorStrides(data.shape());
  const int64_t size = data.shape().dim(axis);
  std::vector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < out.NumElements(); ++i) {
    int64_t k = indices.GetAsInt64(i);
    if (k < -size || k >= size) {
      return absl::InvalidArgumentError(absl::StrCat("index ", k, " at element ", i,
                                                     " is out of range for dimension ", axis,
                                                     " of size ", size));
    }
    if (k < 0) k += size;
    int64_t source = 0;
    for (int d = 0; d < rank; ++d) source += (d == axis ? k : index[d]) * data_strides[d];
    CopyElement(data, source, out, i);
    for (int d = rank - 1; d >= 0; --d) {
      if (++index[d] < out.shape().dim(d)) break;
      index[d] = 0;
    }
  }
  return absl::OkStatus();
}

// --------------------------------------------------------------------------- Expand

absl::Status ExpandInfer(InferContext& ctx) {
  const std::vector<int64_t>& spec = ctx.node.ints_attr("shape");
  for (size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] < 0 || spec[i] > kMaxElements) {
      return AttrError("shape", absl::StrCat("entry ", i, " is ", spec[i],
                                             ", expected in [0, 2^40]"));
    }
  }
  absl::StatusOr<Shape> out = BroadcastShapes(ctx.inputs[0].shape, Shape(spec));
  if (!out.ok()) {
    return AttrError("shape", absl::StrCat("[", absl::StrJoin(spec, ","),
                                           "] does not broadcast with input 'x' ",
                                           ctx.inputs[0].shape.ToString()));
  }
  ctx.outputs.push_back({ctx.inputs[0].dtype, *out});
  return absl::OkStatus();
}

absl::Status ExpandKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  Tensor& out = ctx.outputs[0];
  BroadcastIndexer index(x.shape(), out.shape());
  for (int64_t i = 0; i < out.NumElements(); ++i) CopyElement(x, index.Map(i), out, i);
  return absl::OkStatus();
}

// ----------------------------------------------------------------------------- Tile

absl::Status TileInfer(InferContext& ctx) {
  const Shape& x = ctx.inputs[0].shape;
  const std::vector<int64_t>& repeats = ctx.node.ints_attr("repeats");
  if (static_cast<int>(repeats.size()) != x.rank()) {
    return AttrError("repeats", absl::StrCat("has ", repeats.size(), " entries, expected ",
                                             x.rank(), " (the rank of input 'x')"));
  }
  Shape out = x;
  for (int d = 0; d < x.rank(); ++d) {
    if (repeats[d] < 0 || repeats[d] > kMaxElements) {
      return AttrError("repeats", absl::StrCat("entry ", d, " is ", repeats[d],
                                               ", expected in [0, 2^40]"));
    }
    if (x.dim(d) == kUnknownDim) continue;
    if (x.dim(d) != 0 && repeats[d] > kMaxElements / x.dim(d)) {
      return AttrError("repeats", absl::StrCat("entry ", d, " makes dimension ", d,
                                               " larger than 2^40"));
    }
    out.dim(d) = x.dim(d) * repeats[d];
  }
  ctx.outputs.push_back({ctx.inputs[0].dtype, out});
  return absl::OkStatus();
}

absl::Status TileKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  Tensor& out = ctx.outputs[0];
  const int rank = x.shape().rank();
  const std::vector<int64_t> x_strides = RowMajorStrides(x.shape());
  std::vector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < out.NumElements(); ++i) {
    int64_t source = 0;
    for (int d = 0; d < rank; ++d) source += (index[d] % x.shape().dim(d)) * x_strides[d];
    CopyElement(x, source, out, i);
    for (int d = rank - 1; d >= 0; --d) {
      if (++index[d] < out.shape().dim(d)) break;
      index[d] = 0;
    }
  }
  return absl::OkStatus();
}

// -------------------------------------------------------------------------- GatherND

absl::Status CheckIndexType(const InferContext& ctx, int input) {
  const DataType t = ctx.inputs[input].dtype;
  if (t != DataType::kI32 && t != DataType::kI64) {
    return absl::InvalidArgumentError(absl::StrCat("input '", ctx.node.def->input_names[input],
                                                   "' has dtype ", DataTypeName(t),
                                                   ", expected i32 or i64"));
  }
  return absl::OkStatus();
}

// GatherND's index depth (indices' last dimension) and batch_dims, validated.
struct NdParams {
  int batch = 0;
  int depth = 0;
};

absl::StatusOr<NdParams> GetNdParams(const Node& node, const Shape& data, const Shape& indices) {
  NdParams p;
  const int64_t batch = node.int_attr("batch_dims");
  if (indices.rank() < 1) return absl::InvalidArgumentError("input 'indices' is a scalar; expected rank >= 1");
  if (batch < 0 || batch >= indices.rank() || batch >= data.rank()) {
    return AttrError("batch_dims", absl::StrCat("is ", batch, "; expected in [0, ", std::min(indices.rank(), data.rank()), ")"));
  }
  p.batch = static_cast<int>(batch);
  const int64_t depth = indices.dim(indices.rank() - 1);
  if (depth == kUnknownDim) return absl::InvalidArgumentError("the last dimension of 'indices' must be known");
  if (depth < 1 || depth > data.rank() - p.batch) {
    return absl::InvalidArgumentError(absl::StrCat("the last dimension of 'indices' ", indices.ToString(),
                                                   " is ", depth, "; expected in [1, ", data.rank() - p.batch, "]"));
  }
  p.depth = static_cast<int>(depth);
  for (int d = 0; d < p.batch; ++d) {
    if (data.dim(d) != kUnknownDim && indices.dim(d) != kUnknownDim && data.dim(d) != indices.dim(d)) {
      return absl::InvalidArgumentError(absl::StrCat("batch dimension ", d, " differs: 'data' ", data.ToString(),
                                                     ", 'indices' ", indices.ToString()));
    }
  }
  return p;
}

absl::Status GatherNDInfer(InferContext& ctx) {
  RETURN_IF_ERROR(CheckIndexType(ctx, 1));
  const Shape& data = ctx.inputs[0].shape;
  const Shape& indices = ctx.inputs[1].shape;
  ASSIGN_OR_RETURN(NdParams p, GetNdParams(ctx.node, data, indices));
  std::vector<int64_t> out(indices.dims().begin(), indices.dims().end() - 1);
  for (int d = p.batch + p.depth; d < data.rank(); ++d) out.push_back(data.dim(d));
  ctx.outputs.push_back({ctx.inputs[0].dtype, Shape(std::move(out))});
  return absl::OkStatus();
}

// Offset into `data` of index tuple `t` (depth entries at indices[t * depth]) within batch
// `b`; an error for an index out of range.
absl::StatusOr<int64_t> TupleOffset(const Tensor& data, const Tensor& indices, const NdParams& p,
                                    const std::vector<int64_t>& strides, int64_t b, int64_t t) {
  int64_t offset = b * (p.batch > 0 ? strides[p.batch - 1] : 0);
  for (int k = 0; k < p.depth; ++k) {
    const int d = p.batch + k;
    const int64_t size = data.shape().dim(d);
    int64_t i = indices.GetAsInt64(t * p.depth + k);
    if (i < -size || i >= size) {
      return absl::InvalidArgumentError(absl::StrCat("index ", i, " is out of range for dimension ", d,
                                                     " of size ", size));
    }
    if (i < 0) i += size;
    offset += i * strides[d];
  }
  return offset;
}

absl::Status GatherNDKernel(KernelContext& ctx) {
  const Tensor& data = ctx.inputs[0];
  const Tensor& indices = ctx.inputs[1];
  Tensor& out = ctx.outputs[0];
  ASSIGN_OR_RETURN(NdParams p, GetNdParams(ctx.node, data.shape(), indices.shape()));
  const std::vector<int64_t> strides = RowMajorStrides(data.shape());
  int64_t slice = 1;  // elements copied per index tuple
  for (int d = p.batch + p.depth; d < data.shape().rank(); ++d) slice *= data.shape().dim(d);
  int64_t batches = 1;
  for (int d = 0; d < p.batch; ++d) batches *= data.shape().dim(d);
  const int64_t tuples = indices.NumElements() / p.depth;
  const int64_t per_batch = batches == 0 ? 0 : tuples / batches;
  for (int64_t t = 0; t < tuples; ++t) {
    ASSIGN_OR_RETURN(int64_t offset, TupleOffset(data, indices, p, strides, t / per_batch, t));
    for (int64_t j = 0; j < slice; ++j) CopyElement(data, offset + j, out, t * slice + j);
  }
  return absl::OkStatus();
}

// -------------------------------------------------------- ScatterElements / ScatterND

enum class Combine { kNone, kAdd, kMul, kMax, kMin };

absl::StatusOr<Combine> GetCombine(const Node& node) {
  const std::string& r = node.string_attr("reduction");
  if (r == "none") return Combine::kNone;
  if (r == "add") return Combine::kAdd;
  if (r == "mul") return Combine::kMul;
  if (r == "max") return Combine::kMax;
  if (r == "min") return Combine::kMin;
  return AttrError("reduction", absl::StrCat("is \"", r, "\", expected none, add, mul, max or min"));
}

// out[j] = combine(out[j], updates[i]), in double for floats and wrapping int64 otherwise.
void Store(Tensor& out, int64_t j, const Tensor& updates, int64_t i, Combine c) {
  if (c == Combine::kNone) {
    CopyElement(updates, i, out, j);
  } else if (IsFloating(out.dtype())) {
    const double a = out.GetAsDouble(j), b = updates.GetAsDouble(i);
    out.SetFromDouble(j, c == Combine::kAdd ? a + b : c == Combine::kMul ? a * b
                          : c == Combine::kMax ? std::max(a, b) : std::min(a, b));
  } else {
    const int64_t a = out.GetAsInt64(j), b = updates.GetAsInt64(i);
    out.SetFromInt64(j, c == Combine::kAdd ? WrapAdd(a, b) : c == Combine::kMul ? WrapMul(a, b)
                         : c == Combine::kMax ? std::max(a, b) : std::min(a, b));
  }
}

absl::Status ScatterElementsInfer(InferContext& ctx) {
  RETURN_IF_ERROR(CheckIndexType(ctx, 1));
  RETURN_IF_ERROR(CheckSameDtype(ctx, 2));
  RETURN_IF_ERROR(GetCombine(ctx.node).status());
  const Shape& data = ctx.inputs[0].shape;
  const Shape& indices = ctx.inputs[1].shape;
  if (indices != ctx.inputs[2].shape || indices.rank() != data.rank() || data.rank() == 0) {
    return absl::InvalidArgumentError(absl::StrCat("inputs 'indices' ", indices.ToString(), " and 'updates' ",
                                                   ctx.inputs[2].shape.ToString(),
                                                   " must have one shape, of the rank of 'data' ", data.ToString()));
  }
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, data.rank()));
  for (int d = 0; d < data.rank(); ++d) {
    if (d != axis && data.dim(d) != kUnknownDim && indices.dim(d) != kUnknownDim && indices.dim(d) > data.dim(d)) {
      return absl::InvalidArgumentError(absl::StrCat("input 'indices' ", indices.ToString(),
                                                     " is larger than 'data' ", data.ToString(), " in dimension ", d));
    }
  }
  ctx.outputs.push_back(ctx.inputs[0]);
  return absl::OkStatus();
}

absl::Status ScatterElementsKernel(KernelContext& ctx) {
  const Tensor& data = ctx.inputs[0];
  const Tensor& indices = ctx.inputs[1];
  const Tensor& updates = ctx.inputs[2];
  Tensor& out = ctx.outputs[0];
  if (data.ByteSize() > 0) std::memcpy(out.raw_data(), data.raw_data(), data.ByteSize());
  const int rank = data.shape().rank();
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, rank));
  ASSIGN_OR_RETURN(Combine c, GetCombine(ctx.node));
  const std::vector<int64_t> strides = RowMajorStrides(data.shape());
  const int64_t size = data.shape().dim(axis);
  std::vector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < indices.NumElements(); ++i) {
    int64_t k = indices.GetAsInt64(i);
    if (k < -size || k >= size) {
      return absl::InvalidArgumentError(absl::StrCat("index ", k, " at element ", i,
                                                     " is out of range for dimension ", axis, " of size ", size));
    }
    if (k < 0) k += size;
    int64_t target = 0;
    for (int d = 0; d < rank; ++d) target += (d == axis ? k : index[d]) * strides[d];
    Store(out, target, updates, i, c);
    for (int d = rank - 1; d >= 0; --d) {
      if (++index[d] < indices.shape().dim(d)) break;
      index[d] = 0;
    }
  }
  return absl::OkStatus();
}

absl::Status ScatterNDInfer(InferContext& ctx) {
  RETURN_IF_ERROR(CheckIndexType(ctx, 1));
  RETURN_IF_ERROR(CheckSameDtype(ctx, 2));
  RETURN_IF_ERROR(GetCombine(ctx.node).status());
  const Shape& data = ctx.inputs[0].shape;
  const Shape& indices = ctx.inputs[1].shape;
  const Shape& updates = ctx.inputs[2].shape;
  if (indices.rank() < 1 || indices.dim(indices.rank() - 1) == kUnknownDim) {
    return absl::InvalidArgumentError("input 'indices' needs rank >= 1 and a known last dimension");
  }
  const int64_t depth = indices.dim(indices.rank() - 1);
  if (depth < 1 || depth > data.rank()) {
    return absl::InvalidArgumentError(absl::StrCat("the last dimension of 'indices' is ", depth,
                                                   "; expected in [1, ", data.rank(), "]"));
  }
  std::vector<int64_t> want(indices.dims().begin(), indices.dims().end() - 1);
  for (int d = static_cast<int>(depth); d < data.rank(); ++d) want.push_back(data.dim(d));
  bool fits = static_cast<int>(want.size()) == updates.rank();
  for (int d = 0; fits && d < updates.rank(); ++d) {
    fits = want[d] == kUnknownDim || updates.dim(d) == kUnknownDim || want[d] == updates.dim(d);
  }
  if (!fits) {
    return absl::InvalidArgumentError(absl::StrCat("input 'updates' ", updates.ToString(), " should be ",
                                                   Shape(want).ToString()));
  }
  ctx.outputs.push_back(ctx.inputs[0]);
  return absl::OkStatus();
}

absl::Status ScatterNDKernel(KernelContext& ctx) {
  const Tensor& data = ctx.inputs[0];
  const Tensor& indices = ctx.inputs[1];
  const Tensor& updates = ctx.inputs[2];
  Tensor& out = ctx.outputs[0];
  if (data.ByteSize() > 0) std::memcpy(out.raw_data(), data.raw_data(), data.ByteSize());
  ASSIGN_OR_RETURN(Combine c, GetCombine(ctx.node));
  NdParams p;
  p.depth = static_cast<int>(indices.shape().dim(indices.shape().rank() - 1));
  const std::vector<int64_t> strides = RowMajorStrides(data.shape());
  int64_t slice = 1;
  for (int d = p.depth; d < data.shape().rank(); ++d) slice *= data.shape().dim(d);
  const int64_t tuples = indices.NumElements() / p.depth;
  for (int64_t t = 0; t < tuples; ++t) {
    ASSIGN_OR_RETURN(int64_t offset, TupleOffset(data, indices, p, strides, 0, t));
    for (int64_t j = 0; j < slice; ++j) Store(out, offset + j, updates, t * slice + j, c);
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------------------ TopK

absl::Status TopKInfer(InferContext& ctx) {
  const Shape& x = ctx.inputs[0].shape;
  if (x.rank() == 0) return absl::InvalidArgumentError("input 'x' is a scalar; expected rank >= 1");
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, x.rank()));
  const int64_t k = ctx.node.int_attr("k");
  if (k < 0 || (x.dim(axis) != kUnknownDim && k > x.dim(axis))) {
    return AttrError("k", absl::StrCat("is ", k, "; expected in [0, ", x.dim(axis), "] (dimension ", axis,
                                       " of input 'x' ", x.ToString(), ")"));
  }
  Shape out = x;
  out.dim(axis) = k;
  ctx.outputs.push_back({ctx.inputs[0].dtype, out});
  ctx.outputs.push_back({DataType::kI64, out});
  return absl::OkStatus();
}

// The k largest (or smallest) along `axis`, in order; equal values keep their index
// order, and NaN counts as larger than every number.
absl::Status TopKKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, x.shape().rank()));
  const int64_t k = ctx.node.int_attr("k");
  const bool largest = ctx.node.bool_attr("largest");
  const AxisSplit s = SplitAt(x.shape(), axis);
  const bool floating = IsFloating(x.dtype());
  std::vector<int64_t> order(s.size);
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t in = 0; in < s.inner; ++in) {
      const int64_t base = o * s.size * s.inner + in;
      auto before = [&](int64_t a, int64_t b) {  // a strictly before b
        if (floating) {
          const double va = x.GetAsDouble(base + a * s.inner), vb = x.GetAsDouble(base + b * s.inner);
          const bool na = std::isnan(va), nb = std::isnan(vb);
          if (na || nb) return largest ? (na && !nb) : (!na && nb);
          return largest ? va > vb : va < vb;
        }
        const int64_t va = x.GetAsInt64(base + a * s.inner), vb = x.GetAsInt64(base + b * s.inner);
        return largest ? va > vb : va < vb;
      };
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), before);
      for (int64_t j = 0; j < k; ++j) {
        const int64_t dst = (o * k + j) * s.inner + in;
        CopyElement(x, base + order[j] * s.inner, ctx.outputs[0], dst);
        ctx.outputs[1].SetFromInt64(dst, order[j]);
      }
    }
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------ ReduceMin / ReduceProd

absl::StatusOr<std::vector<bool>> ReducedDims(const Node& node, int rank) {
  const std::vector<int64_t>& axes = node.ints_attr("axes");
  std::vector<bool> reduced(rank, axes.empty());
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] < -rank || axes[i] >= rank) {
      return AttrError("axes", absl::StrCat("entry ", i, " (", axes[i],
                                            ") is out of range for rank ", rank));
    }
    const int axis = static_cast<int>(axes[i] < 0 ? axes[i] + rank : axes[i]);
    if (reduced[axis] && !axes.empty()) {
      return AttrError("axes", absl::StrCat("lists axis ", axis, " twice"));
    }
    reduced[axis] = true;
  }
  return reduced;
}

ShapeFn ReduceInfer(bool needs_elements) {
  return [needs_elements](InferContext& ctx) -> absl::Status {
    const Shape& x = ctx.inputs[0].shape;
    ASSIGN_OR_RETURN(std::vector<bool> reduced, ReducedDims(ctx.node, x.rank()));
    std::vector<int64_t> out;
    for (int d = 0; d < x.rank(); ++d) {
      if (reduced[d] && needs_elements && x.dim(d) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "reduction over an empty set: dimension ", d, " of input 'x' ", x.ToString(),
            " has size 0"));
      }
      if (!reduced[d]) {
        out.push_back(x.dim(d));
      } else if (ctx.node.bool_attr("keepdims")) {
        out.push_back(1);
      }
    }
    ctx.outputs.push_back({ctx.inputs[0].dtype, Shape(std::move(out))});
    return absl::OkStatus();
  };
}

// Calls visit(input_index, output_index) over the input in row-major order.
template <typename Visit>
void ForEachInput(const Shape& x, const std::vector<bool>& reduced, Visit visit) {
  const int rank = x.rank();
  std::vector<int64_t> out_stride(rank, 0);
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    if (reduced[d]) continue;
    out_stride[d] = stride;
    stride *= x.dim(d);
  }
  std::vector<int64_t> coord(rank, 0);
  int64_t out_index = 0;
  for (int64_t i = 0; i < x.NumElements(); ++i) {
    visit(i, out_index);
    for (int d = rank - 1; d >= 0; --d) {
      ++coord[d];
      out_index += out_stride[d];
      if (coord[d] < x.dim(d)) break;
      out_index -= out_stride[d] * coord[d];
      coord[d] = 0;
    }
  }
}

// ReduceMin (is_min) or ReduceProd.
ReferenceKernel ReduceKernel(bool is_min) {
  return [is_min](KernelContext& ctx) -> absl::Status {
    const Tensor& x = ctx.inputs[0];
    Tensor& out = ctx.outputs[0];
    ASSIGN_OR_RETURN(std::vector<bool> reduced, ReducedDims(ctx.node, x.shape().rank()));
    const int64_t n = out.NumElements();
    if (IsFloating(x.dtype())) {
      std::vector<double> acc(n, is_min ? std::numeric_limits<double>::infinity() : 1.0);
      ForEachInput(x.shape(), reduced, [&](int64_t i, int64_t o) {
        const double v = x.GetAsDouble(i);
        if (!is_min) {
          acc[o] *= v;
        } else if (v < acc[o] || std::isnan(v)) {
          acc[o] = v;  // once NaN, stays NaN: nothing compares smaller
        }
      });
      for (int64_t o = 0; o < n; ++o) out.SetFromDouble(o, acc[o]);
      return absl::OkStatus();
    }
    std::vector<int64_t> acc(n, is_min ? std::numeric_limits<int64_t>::max() : 1);
    ForEachInput(x.shape(), reduced, [&](int64_t i, int64_t o) {
      const int64_t v = x.GetAsInt64(i);
      acc[o] = is_min ? std::min(acc[o], v) : WrapMul(acc[o], v);
    });
    for (int64_t o = 0; o < n; ++o) out.SetFromInt64(o, acc[o]);
    return absl::OkStatus();
  };
}

std::vector<AttrSpec> ReduceAttrs() {
  return {{"axes", AttrType::kInts, std::vector<int64_t>{}}, {"keepdims", AttrType::kBool, false}};
}

}  // namespace

void RegisterMiscOps(OpRegistry& registry) {
  const std::vector<AttrSpec> arg_attrs = {{"axis", AttrType::kInt, int64_t{0}},
                                           {"keepdims", AttrType::kBool, true},
                                           {"select_last_index", AttrType::kBool, false}};
  MustRegister(registry, OpDef{
      .name = "ArgMax",
      .summary = "i64 index of the largest element along `axis` (kept as size 1 when "
                 "`keepdims`); ties take the first index, or the last with "
                 "select_last_index; NaN counts as the largest.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = arg_attrs,
      .dtypes = NumericTypes(),
      .traits = kReduction,
      .infer = ArgInfer,
      .reference = ArgKernel(true),
      .flops = InputElements,
  });
  MustRegister(registry, OpDef{
      .name = "ArgMin",
      .summary = "i64 index of the smallest element along `axis` (kept as size 1 when "
                 "`keepdims`); ties take the first index, or the last with "
                 "select_last_index; NaN counts as the smallest.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = arg_attrs,
      .dtypes = NumericTypes(),
      .traits = kReduction,
      .infer = ArgInfer,
      .reference = ArgKernel(false),
      .flops = InputElements,
  });
  MustRegister(registry, OpDef{
      .name = "CumSum",
      .summary = "Running sum along `axis`: element k is the sum of elements 0..k (exclusive: "
                 "0..k-1), or of k..n-1 (k+1..n-1) with `reverse`; integers wrap.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"axis", AttrType::kInt, int64_t{0}},
                {"exclusive", AttrType::kBool, false},
                {"reverse", AttrType::kBool, false}},
      .dtypes = NumericTypes(),
      .traits = kTraitNone,
      .infer = CumSumInfer,
      .reference = CumSumKernel,
      .flops = InputElements,
  });
  MustRegister(registry, OpDef{
      .name = "Trilu",
      .summary = "Keeps the upper (`upper`) or lower triangle of the matrices in the last two "
                 "dimensions and zeroes the rest: element (i, j) is kept when j - i >= k "
                 "(upper) or j - i <= k (lower).",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"upper", AttrType::kBool, true}, {"k", AttrType::kInt, int64_t{0}}},
      .dtypes = AllTypes(),
      .traits = kDataMovement,
      .infer = TriluInfer,
      .reference = TriluKernel,
  });
  MustRegister(registry, OpDef{
      .name = "GatherElements",
      .summary = "out[i...] = data[i...] with the index along `axis` replaced by "
                 "indices[i...] (i32/i64, negative counts from the end, out of range is a "
                 "run-time error); indices has data's rank and the output its shape.",
      .input_names = {"data", "indices"},
      .min_inputs = 2,
      .max_inputs = 2,
      .attrs = {{"axis", AttrType::kInt, int64_t{0}}},
      .dtypes = AllTypes(),
      .traits = kDataMovement,
      .infer = GatherElementsInfer,
      .reference = GatherElementsKernel,
  });
  MustRegister(registry, OpDef{
      .name = "GatherND",
      .summary = "Gathers slices of `data` by index tuples: the last dimension of i32/i64 "
                 "`indices` (depth q) indexes dimensions batch_dims..batch_dims+q-1 of data, "
                 "the first batch_dims dimensions of both are shared; output shape "
                 "indices.shape[:-1] + data.shape[batch_dims+q:]; negative indices count from "
                 "the end, out of range is a run-time error.",
      .input_names = {"data", "indices"},
      .min_inputs = 2,
      .max_inputs = 2,
      .attrs = {{"batch_dims", AttrType::kInt, int64_t{0}}},
      .dtypes = AllTypes(),
      .traits = kDataMovement,
      .infer = GatherNDInfer,
      .reference = GatherNDKernel,
  });
  MustRegister(registry, OpDef{
      .name = "ScatterElements",
      .summary = "A copy of `data` where, for every element of `indices` (i32/i64, the shape of "
                 "`updates`, data's rank), the position with the index along `axis` replaced by "
                 "that index receives the update, combined by `reduction` (none, add, mul, max, "
                 "min); with none, later updates to one position win.",
      .input_names = {"data", "indices", "updates"},
      .min_inputs = 3,
      .max_inputs = 3,
      .attrs = {{"axis", AttrType::kInt, int64_t{0}},
                {"reduction", AttrType::kString, std::string("none")}},
      .dtypes = AllTypes(),
      .traits = kDataMovement,
      .infer = ScatterElementsInfer,
      .reference = ScatterElementsKernel,
  });
  MustRegister(registry, OpDef{
      .name = "ScatterND",
      .summary = "A copy of `data` where each index tuple (the last dimension of i32/i64 "
                 "`indices`, depth q) addresses a slice data[i0..iq-1] that receives the "
                 "matching slice of `updates` (shape indices.shape[:-1] + data.shape[q:]), "
                 "combined by `reduction` (none, add, mul, max, min), in index order.",
      .input_names = {"data", "indices", "updates"},
      .min_inputs = 3,
      .max_inputs = 3,
      .attrs = {{"reduction", AttrType::kString, std::string("none")}},
      .dtypes = AllTypes(),
      .traits = kDataMovement,
      .infer = ScatterNDInfer,
      .reference = ScatterNDKernel,
  });
  MustRegister(registry, OpDef{
      .name = "TopK",
      .summary = "The k largest (or, without `largest`, smallest) elements along `axis`, sorted, "
                 "and their i64 indices as a second output; equal values keep index order and "
                 "NaN counts as larger than every number.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .num_outputs = 2,
      .attrs = {{"k", AttrType::kInt, std::nullopt},
                {"axis", AttrType::kInt, int64_t{-1}},
                {"largest", AttrType::kBool, true}},
      .dtypes = NumericTypes(),
      .traits = kTraitNone,
      .infer = TopKInfer,
      .reference = TopKKernel,
  });
  MustRegister(registry, OpDef{
      .name = "Expand",
      .summary = "Broadcasts x NumPy-style against `shape`: the output shape is the broadcast "
                 "of x.shape and `shape` (so a 1 in `shape` keeps x's dimension).",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"shape", AttrType::kInts, std::nullopt}},
      .dtypes = AllTypes(),
      .traits = kDataMovement,
      .infer = ExpandInfer,
      .reference = ExpandKernel,
  });
  MustRegister(registry, OpDef{
      .name = "Tile",
      .summary = "Repeats x repeats[d] times along each dimension d (one non-negative entry "
                 "per dimension).",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"repeats", AttrType::kInts, std::nullopt}},
      .dtypes = AllTypes(),
      .traits = kDataMovement,
      .infer = TileInfer,
      .reference = TileKernel,
  });
  MustRegister(registry, OpDef{
      .name = "ReduceMin",
      .summary = "Minimum over `axes` (distinct, negative counts from the end; empty: all), "
                 "kept as size 1 when `keepdims`; NaN if any element is NaN, and an error "
                 "over an empty set.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = ReduceAttrs(),
      .dtypes = NumericTypes(),
      .traits = kReduction,
      .infer = ReduceInfer(true),
      .reference = ReduceKernel(true),
      .flops = InputElements,
  });
  MustRegister(registry, OpDef{
      .name = "ReduceProd",
      .summary = "Product over `axes` (distinct, negative counts from the end; empty: all), "
                 "kept as size 1 when `keepdims`; an empty product is 1 and integers wrap.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = ReduceAttrs(),
      .dtypes = NumericTypes(),
      .traits = kReduction,
      .infer = ReduceInfer(false),
      .reference = ReduceKernel(false),
      .flops = InputElements,
  });
}

}  // namespace kiln
