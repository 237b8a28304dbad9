// Shape and data-movement ops: Reshape, Transpose, Concat, Slice, Gather, Pad, Flatten.
// Their kernels copy whole elements as bytes, so every dtype (bool included) moves exactly.
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"
#include "base/status_macros.h"

namespace kiln {
namespace {

absl::Status AttrError(absl::string_view attr, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("attribute '", attr, "' ", message));
}

std::string ListString(const std::vector<int64_t>& values) {
  return absl::StrCat("[", absl::StrJoin(values, ","), "]");
}

// Product of `dims`: 0 when one is 0, else kUnknownDim when one is unknown, else the
// product, or an error naming `what` when it exceeds kMaxElements. Input shapes may hold
// huge dimensions after a 0, so the zero test comes first.
absl::StatusOr<int64_t> DimProduct(absl::Span<const int64_t> dims, absl::string_view what) {
  bool unknown = false;
  for (int64_t d : dims) {
    if (d == 0) return 0;
    if (d < 0) unknown = true;
  }
  if (unknown) return kUnknownDim;
  int64_t product = 1;
  for (int64_t d : dims) {
    if (product > kMaxElements / d) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": more than 2^40 elements"));
    }
    product *= d;
  }
  return product;
}

// The node's "axis" attribute normalized to [0, rank), or an error naming it.
absl::StatusOr<int> AxisAttr(const Node& node, int rank) {
  const int64_t axis = node.int_attr("axis");
  if (axis < -rank || axis >= rank) {
    return AttrError("axis", absl::StrCat("is ", axis, ", out of range for rank ", rank));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

// Copies `count` elements from `from` (starting at element `from_index`) to `to`.
void CopyElements(const Tensor& from, int64_t from_index, Tensor& to, int64_t to_index,
                  int64_t count) {
  if (count <= 0) return;
  const int64_t size = DataTypeSize(from.dtype());
  std::memcpy(static_cast<char*>(to.raw_data()) + to_index * size,
              static_cast<const char*>(from.raw_data()) + from_index * size, count * size);
}

absl::Status CopyAll(KernelContext& ctx) {
  CopyElements(ctx.inputs[0], 0, ctx.outputs[0], 0, ctx.outputs[0].NumElements());
  return absl::OkStatus();
}

// Fills output element i (row-major over out's shape) with input element
// base + sum_d index_d * in_strides[d], walking the indices like an odometer so each step
// costs O(1) amortized. Callers guarantee every visited offset is inside the input.
void StridedCopy(const Tensor& in, Tensor& out, const std::vector<int64_t>& in_strides,
                 int64_t base) {
  const int64_t total = out.NumElements();
  if (total == 0) return;
  const std::vector<int64_t>& dims = out.shape().dims();
  const int rank = out.shape().rank();
  std::vector<int64_t> index(rank, 0);
  int64_t offset = base;
  for (int64_t i = 0; i < total; ++i) {
    CopyElements(in, offset, out, i, 1);
    for (int d = rank - 1; d >= 0; --d) {
      if (++index[d] < dims[d]) {
        offset += in_strides[d];
        break;
      }
      offset -= (dims[d] - 1) * in_strides[d];
      index[d] = 0;
    }
  }
}

// ---------------------------------------------------------------------------- Reshape

absl::Status InferReshape(InferContext& ctx) {
  const Shape& in = ctx.inputs[0].shape;
  const std::vector<int64_t>& spec = ctx.node.ints_attr("shape");
  int inferred = -1;
  std::vector<int64_t> fixed;
  for (int i = 0; i < static_cast<int>(spec.size()); ++i) {
    if (spec[i] < -1) {
      return AttrError("shape", absl::StrCat("entry ", i, " is ", spec[i], ", expected >= -1"));
    }
    if (spec[i] > kMaxElements) {
      return AttrError("shape", absl::StrCat("entry ", i, " is ", spec[i], ", which exceeds 2^40"));
    }
    if (spec[i] == -1) {
      if (inferred >= 0) {
        return AttrError("shape", absl::StrCat(ListString(spec), " has -1 at entries ", inferred,
                                               " and ", i, "; at most one may be inferred"));
      }
      inferred = i;
    } else {
      fixed.push_back(spec[i]);
    }
  }
  ASSIGN_OR_RETURN(int64_t fixed_count,
                   DimProduct(fixed, absl::StrCat("attribute 'shape' ", ListString(spec))));
  // 0 is a zero-size dimension (not ONNX's "copy"), so a 0 beside -1 leaves -1 undetermined.
  if (inferred >= 0 && fixed_count == 0) {
    return AttrError("shape", absl::StrCat(ListString(spec),
                                           " has both 0 and -1; the -1 cannot be inferred"));
  }
  ASSIGN_OR_RETURN(int64_t count, DimProduct(in.dims(), "input 'x' dimensions"));
  Shape out(spec);
  // Known count: a known 0 dimension makes it known even beside unknown dimensions.
  if (count != kUnknownDim) {
    if (inferred < 0 && fixed_count != count) {
      return AttrError("shape", absl::StrCat(ListString(spec), " holds ", fixed_count,
                                             " elements, but input 'x' ", in.ToString(),
                                             " holds ", count));
    }
    if (inferred >= 0) {
      if (count % fixed_count != 0) {
        return AttrError("shape", absl::StrCat(ListString(spec), ": input 'x' ", in.ToString(),
                                               " holds ", count,
                                               " elements, not a multiple of ", fixed_count));
      }
      out.dim(inferred) = count / fixed_count;
    }
  }
  ctx.outputs.push_back({ctx.inputs[0].dtype, out});
  return absl::OkStatus();
}

// -------------------------------------------------------------------------- Transpose

absl::StatusOr<std::vector<int>> GetPerm(const Node& node, int rank) {
  const std::vector<int64_t>& perm = node.ints_attr("perm");
  if (static_cast<int>(perm.size()) != rank) {
    return AttrError("perm", absl::StrCat("has ", perm.size(), " entries, expected ", rank,
                                          " (the rank of input 'x')"));
  }
  std::vector<int> result(rank);
  std::vector<bool> seen(rank, false);
  for (int i = 0; i < rank; ++i) {
    if (perm[i] < 0 || perm[i] >= rank) {
      return AttrError("perm", absl::StrCat("entry ", i, " is ", perm[i], ", expected in [0, ",
                                            rank, ")"));
    }
    if (seen[perm[i]]) {
      return AttrError("perm", absl::StrCat(ListString(perm), " repeats ", perm[i],
                                            "; expected a permutation of 0..", rank - 1));
    }
    seen[perm[i]] = true;
    result[i] = static_cast<int>(perm[i]);
  }
  return result;
}

absl::Status InferTranspose(InferContext& ctx) {
  const Shape& in = ctx.inputs[0].shape;
  ASSIGN_OR_RETURN(std::vector<int> perm, GetPerm(ctx.node, in.rank()));
  Shape out(std::vector<int64_t>(in.rank()));
  for (int i = 0; i < in.rank(); ++i) out.dim(i) = in.dim(perm[i]);
  ctx.outputs.push_back({ctx.inputs[0].dtype, out});
  return absl::OkStatus();
}

// out[i_0, ..., i_{r-1}] = x[j] where j_{perm[k]} = i_k.
absl::Status RunTranspose(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  Tensor& y = ctx.outputs[0];
  if (y.NumElements() == 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<int> perm, GetPerm(ctx.node, x.shape().rank()));
  const std::vector<int64_t> x_strides = RowMajorStrides(x.shape());
  std::vector<int64_t> strides(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) strides[k] = x_strides[perm[k]];
  StridedCopy(x, y, strides, 0);
  return absl::OkStatus();
}

// ----------------------------------------------------------------------------- Concat

absl::Status InferConcat(InferContext& ctx) {
  const int rank = ctx.inputs[0].shape.rank();
  if (rank == 0) {
    return absl::InvalidArgumentError("input 0 is a scalar; Concat needs rank >= 1");
  }
  ASSIGN_OR_RETURN(const int axis, AxisAttr(ctx.node, rank));
  Shape out = ctx.inputs[0].shape;
  int64_t axis_size = out.dim(axis);
  for (int i = 1; i < static_cast<int>(ctx.inputs.size()); ++i) {
    RETURN_IF_ERROR(CheckSameDtype(ctx, i));
    const Shape& in = ctx.inputs[i].shape;
    if (in.rank() != rank) {
      return absl::InvalidArgumentError(absl::StrCat("input ", i, " has shape ", in.ToString(),
                                                     ", expected rank ", rank, " like input 0"));
    }
    for (int d = 0; d < rank; ++d) {
      if (d == axis) continue;
      if (out.dim(d) == kUnknownDim) {
        out.dim(d) = in.dim(d);
      } else if (in.dim(d) != kUnknownDim && in.dim(d) != out.dim(d)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input ", i, " has shape ", in.ToString(), ", which differs from the other inputs ",
            "in dimension ", d, " (", in.dim(d), " vs ", out.dim(d), "); only the concatenation ",
            "axis ", axis, " may differ"));
      }
    }
    if (axis_size == kUnknownDim || in.dim(axis) == kUnknownDim) {
      axis_size = kUnknownDim;
    } else {
      axis_size += in.dim(axis);  // each term <= 2^40, and the sum is checked each step
      if (axis_size > kMaxElements) {
        return absl::InvalidArgumentError(
            absl::StrCat("the concatenated size along axis ", axis, " exceeds 2^40"));
      }
    }
  }
  out.dim(axis) = axis_size;
  ctx.outputs.push_back({ctx.inputs[0].dtype, out});
  return absl::OkStatus();
}

// Each input contributes a contiguous block of dims[axis] * inner elements per outer index.
absl::Status RunConcat(KernelContext& ctx) {
  Tensor& y = ctx.outputs[0];
  if (y.NumElements() == 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, y.shape().rank()));
  // The output is non-empty, so these products are within its element count.
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= y.shape().dim(d);
  int64_t inner = 1;
  for (int d = axis + 1; d < y.shape().rank(); ++d) inner *= y.shape().dim(d);
  const int64_t out_block = y.shape().dim(axis) * inner;
  int64_t offset = 0;
  for (const Tensor& x : ctx.inputs) {
    const int64_t block = x.shape().dim(axis) * inner;
    for (int64_t o = 0; o < outer; ++o) {
      CopyElements(x, o * block, y, o * out_block + offset, block);
    }
    offset += block;
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------------------ Slice

// What Slice takes from one input dimension: `size` elements from `start`, `step` apart.
// size is kUnknownDim when the dimension is.
struct SliceDim {
  int64_t start = 0;
  int64_t step = 1;
  int64_t size = 0;
};

// Resolves starts/ends/axes/steps against `in` with ONNX's rules: negative starts and ends
// count from the end once, then clamp to [0, d] (step > 0) or to [0, d-1] and [-1, d-1]
// (step < 0), so INT64_MAX and INT64_MIN act as "to the end" and "to the beginning".
absl::StatusOr<std::vector<SliceDim>> GetSlice(const Node& node, const Shape& in) {
  const std::vector<int64_t>& starts = node.ints_attr("starts");
  const std::vector<int64_t>& ends = node.ints_attr("ends");
  const std::vector<int64_t>& axes = node.ints_attr("axes");
  const std::vector<int64_t>& steps = node.ints_attr("steps");
  const size_t n = starts.size();
  const int rank = in.rank();
  if (ends.size() != n) {
    return AttrError("ends", absl::StrCat("has ", ends.size(), " entries, expected ", n,
                                          " like 'starts'"));
  }
  if (!axes.empty() && axes.size() != n) {
    return AttrError("axes", absl::StrCat("has ", axes.size(), " entries, expected ", n,
                                          " like 'starts' (or none)"));
  }
  if (!steps.empty() && steps.size() != n) {
    return AttrError("steps", absl::StrCat("has ", steps.size(), " entries, expected ", n,
                                           " like 'starts' (or none)"));
  }
  if (axes.empty() && static_cast<int64_t>(n) > rank) {
    return AttrError("starts", absl::StrCat("has ", n, " entries, more than the rank ", rank,
                                            " of input 'x'"));
  }
  std::vector<SliceDim> dims(rank);
  for (int d = 0; d < rank; ++d) dims[d].size = in.dim(d);
  std::vector<bool> seen(rank, false);
  for (size_t k = 0; k < n; ++k) {
    const int64_t axis_value = axes.empty() ? static_cast<int64_t>(k) : axes[k];
    if (axis_value < -rank || axis_value >= rank) {
      return AttrError("axes", absl::StrCat("entry ", k, " is ", axis_value,
                                            ", out of range for input 'x' of rank ", rank));
    }
    const int axis = static_cast<int>(axis_value < 0 ? axis_value + rank : axis_value);
    if (seen[axis]) return AttrError("axes", absl::StrCat("repeats axis ", axis));
    seen[axis] = true;
    const int64_t step = steps.empty() ? 1 : steps[k];
    if (step == 0) return AttrError("steps", absl::StrCat("entry ", k, " is 0"));

    const int64_t d = in.dim(axis);
    if (d == kUnknownDim) {
      dims[axis] = {0, step, kUnknownDim};
      continue;
    }
    int64_t start = starts[k];
    int64_t end = ends[k];
    if (start < 0) start += d;  // d >= 0, so this cannot overflow
    if (end < 0) end += d;
    int64_t size = 0;
    if (d == 0) {
      start = 0;
    } else if (step > 0) {
      start = std::clamp<int64_t>(start, 0, d);
      end = std::clamp<int64_t>(end, 0, d);
      if (end > start) size = (end - start - 1) / step + 1;
    } else {
      start = std::clamp<int64_t>(start, 0, d - 1);
      end = std::clamp<int64_t>(end, -1, d - 1);
      // -step overflows for INT64_MIN; any magnitude above d takes one element anyway.
      const int64_t magnitude = step == std::numeric_limits<int64_t>::min()
                                    ? std::numeric_limits<int64_t>::max()
                                    : -step;
      if (start > end) size = (start - end - 1) / magnitude + 1;
    }
    // With two or more elements |step| < d, so step times a stride stays within the
    // element count; with fewer the step is never used.
    dims[axis] = {start, size >= 2 ? step : 1, size};
  }
  return dims;
}

absl::Status InferSlice(InferContext& ctx) {
  ASSIGN_OR_RETURN(std::vector<SliceDim> dims, GetSlice(ctx.node, ctx.inputs[0].shape));
  Shape out(std::vector<int64_t>(dims.size()));
  for (size_t d = 0; d < dims.size(); ++d) out.dim(static_cast<int>(d)) = dims[d].size;
  ctx.outputs.push_back({ctx.inputs[0].dtype, out});
  return absl::OkStatus();
}

absl::Status RunSlice(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  Tensor& y = ctx.outputs[0];
  // An empty output may come from an empty input, whose strides could overflow.
  if (y.NumElements() == 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<SliceDim> dims, GetSlice(ctx.node, x.shape()));
  const std::vector<int64_t> x_strides = RowMajorStrides(x.shape());
  std::vector<int64_t> strides(dims.size());
  int64_t base = 0;
  for (size_t d = 0; d < dims.size(); ++d) {
    base += dims[d].start * x_strides[d];
    strides[d] = dims[d].step * x_strides[d];
  }
  StridedCopy(x, y, strides, base);
  return absl::OkStatus();
}

// ----------------------------------------------------------------------------- Gather

absl::Status InferGather(InferContext& ctx) {
  const Shape& data = ctx.inputs[0].shape;
  const TensorType& indices = ctx.inputs[1];
  if (indices.dtype != DataType::kI32 && indices.dtype != DataType::kI64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input 'indices' has dtype ", DataTypeName(indices.dtype), ", expected i32 or i64"));
  }
  if (data.rank() == 0) {
    return absl::InvalidArgumentError("input 'data' is a scalar; Gather needs rank >= 1");
  }
  ASSIGN_OR_RETURN(const int axis, AxisAttr(ctx.node, data.rank()));
  std::vector<int64_t> out(data.dims().begin(), data.dims().begin() + axis);
  out.insert(out.end(), indices.shape.dims().begin(), indices.shape.dims().end());
  out.insert(out.end(), data.dims().begin() + axis + 1, data.dims().end());
  ctx.outputs.push_back({ctx.inputs[0].dtype, Shape(std::move(out))});
  return absl::OkStatus();
}

// out[o, j, i] = data[o, indices[j], i], flattening data to [outer, size, inner] and
// indices to [count]. Every index is checked before anything is read.
absl::Status RunGather(KernelContext& ctx) {
  const Tensor& data = ctx.inputs[0];
  const Tensor& indices = ctx.inputs[1];
  Tensor& y = ctx.outputs[0];
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, data.shape().rank()));
  const int64_t size = data.shape().dim(axis);
  const int64_t count = indices.NumElements();
  std::vector<int64_t> wrapped(count);
  for (int64_t j = 0; j < count; ++j) {
    const int64_t index = indices.GetAsInt64(j);
    const int64_t w = index < 0 ? index + size : index;  // size >= 0: no overflow
    if (w < 0 || w >= size) {
      std::string valid = size == 0 ? std::string("none (the axis is empty)")
                                    : absl::StrCat("[", -size, ", ", size - 1, "]");
      return absl::InvalidArgumentError(absl::StrCat(
          "input 'indices' element ", j, " is ", index, ", out of range for axis ", axis,
          " of input 'data' (size ", size, "); valid indices: ", valid));
    }
    wrapped[j] = w;
  }
  if (y.NumElements() == 0) return absl::OkStatus();
  // The output is non-empty, so outer and inner divide its element count.
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= data.shape().dim(d);
  int64_t inner = 1;
  for (int d = axis + 1; d < data.shape().rank(); ++d) inner *= data.shape().dim(d);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < count; ++j) {
      CopyElements(data, (o * size + wrapped[j]) * inner, y, (o * count + j) * inner, inner);
    }
  }
  return absl::OkStatus();
}

// -------------------------------------------------------------------------------- Pad

enum class PadMode { kConstant, kReflect, kEdge };

struct PadParams {
  std::vector<int64_t> begin;
  std::vector<int64_t> end;
  PadMode mode = PadMode::kConstant;
};

// Validates pads and mode against `in` (unknown dimensions are checked when bound).
absl::StatusOr<PadParams> GetPadParams(const Node& node, const Shape& in) {
  const std::vector<int64_t>& pads = node.ints_attr("pads");
  const int rank = in.rank();
  if (static_cast<int64_t>(pads.size()) != 2 * int64_t{rank}) {
    return AttrError("pads", absl::StrCat("has ", pads.size(), " entries, expected ", 2 * rank,
                                          " (begins then ends of the ", rank,
                                          " dimensions of input 'x')"));
  }
  for (size_t i = 0; i < pads.size(); ++i) {
    if (pads[i] < 0) {
      return AttrError("pads", absl::StrCat("entry ", i, " is ", pads[i],
                                            "; negative pads (cropping) are not supported, "
                                            "use Slice"));
    }
    if (pads[i] > kMaxElements) {
      return AttrError("pads", absl::StrCat("entry ", i, " is ", pads[i], ", which exceeds 2^40"));
    }
  }
  PadParams p;
  p.begin.assign(pads.begin(), pads.begin() + rank);
  p.end.assign(pads.begin() + rank, pads.end());
  const std::string& mode = node.string_attr("mode");
  if (mode == "constant") {
    p.mode = PadMode::kConstant;
  } else if (mode == "reflect") {
    p.mode = PadMode::kReflect;
  } else if (mode == "edge") {
    p.mode = PadMode::kEdge;
  } else {
    return AttrError("mode", absl::StrCat("is \"", mode,
                                          "\", expected \"constant\", \"reflect\" or \"edge\""));
  }
  for (int d = 0; d < rank; ++d) {
    const int64_t size = in.dim(d);
    if (size == kUnknownDim || (p.begin[d] == 0 && p.end[d] == 0)) continue;
    // Reflection mirrors without repeating the edge, so it needs pad <= size - 1.
    if (p.mode == PadMode::kReflect && (p.begin[d] >= size || p.end[d] >= size)) {
      return AttrError("pads", absl::StrCat("pad ", p.begin[d], ", ", p.end[d], " of dimension ",
                                            d, " is too large for reflect mode: each must be ",
                                            "less than the dimension size ", size));
    }
    if (p.mode == PadMode::kEdge && size == 0) {
      return AttrError("pads", absl::StrCat("pads dimension ", d, " in edge mode, but it has ",
                                            "size 0 and so no edge to repeat"));
    }
  }
  return p;
}

absl::Status InferPad(InferContext& ctx) {
  const Shape& in = ctx.inputs[0].shape;
  ASSIGN_OR_RETURN(PadParams p, GetPadParams(ctx.node, in));
  Shape out = in;
  for (int d = 0; d < in.rank(); ++d) {
    // Each term is at most 2^40, so the sum cannot overflow; ValidateShape bounds it.
    if (in.dim(d) != kUnknownDim) out.dim(d) = in.dim(d) + p.begin[d] + p.end[d];
  }
  ctx.outputs.push_back({ctx.inputs[0].dtype, out});
  return absl::OkStatus();
}

// Each output index maps per dimension to p = index - begin; outside [0, size) it takes the
// constant, mirrors around the edge (reflect: -p or 2(size-1)-p), or clamps to it (edge).
absl::Status RunPad(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  Tensor& y = ctx.outputs[0];
  const int64_t total = y.NumElements();
  if (total == 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(PadParams p, GetPadParams(ctx.node, x.shape()));
  ASSIGN_OR_RETURN(Tensor fill, Tensor::Allocate(x.dtype(), Shape{}));
  fill.SetFromDouble(0, ctx.node.float_attr("value"));
  // Non-empty output: every input suffix product is bounded by the output's.
  const std::vector<int64_t> x_strides = RowMajorStrides(x.shape());
  const int rank = x.shape().rank();
  std::vector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < total; ++i) {
    int64_t source = 0;
    bool padding = false;
    for (int d = 0; d < rank && !padding; ++d) {
      const int64_t size = x.shape().dim(d);
      int64_t q = index[d] - p.begin[d];
      if (q < 0 || q >= size) {
        switch (p.mode) {
          case PadMode::kConstant: padding = true; break;
          case PadMode::kReflect: q = q < 0 ? -q : 2 * (size - 1) - q; break;
          case PadMode::kEdge: q = q < 0 ? 0 : size - 1; break;
        }
      }
      source += q * x_strides[d];
    }
    if (padding) {
      CopyElements(fill, 0, y, i, 1);
    } else {
      CopyElements(x, source, y, i, 1);
    }
    for (int d = rank - 1; d >= 0; --d) {
      if (++index[d] < y.shape().dim(d)) break;
      index[d] = 0;
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------- Flatten

absl::Status InferFlatten(InferContext& ctx) {
  const Shape& in = ctx.inputs[0].shape;
  const int64_t axis = ctx.node.int_attr("axis");
  if (axis < -in.rank() || axis > in.rank()) {
    return AttrError("axis", absl::StrCat("is ", axis, ", expected in [", -in.rank(), ", ",
                                          in.rank(), "] for input 'x' of rank ", in.rank()));
  }
  const int split = static_cast<int>(axis < 0 ? axis + in.rank() : axis);
  absl::Span<const int64_t> dims = in.dims();
  ASSIGN_OR_RETURN(int64_t rows, DimProduct(dims.subspan(0, split),
                                            absl::StrCat("input 'x' dimensions before ", split)));
  ASSIGN_OR_RETURN(int64_t cols, DimProduct(dims.subspan(split),
                                            absl::StrCat("input 'x' dimensions from ", split)));
  ctx.outputs.push_back({ctx.inputs[0].dtype, Shape{rows, cols}});
  return absl::OkStatus();
}

}  // namespace

void RegisterShapeOps(OpRegistry& registry) {
  MustRegister(registry, OpDef{
      .name = "Reshape",
      .summary =
          "Reinterprets x's row-major elements with dimensions `shape`: one entry may be -1 "
          "(inferred from the element count) and 0 means a dimension of size 0 (not ONNX's "
          "copy-from-input).",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"shape", AttrType::kInts, std::nullopt}},
      .dtypes = AllTypes(),
      .traits = kDataMovement | kBitcast,
      .infer = InferReshape,
      .reference = CopyAll,
  });

  MustRegister(registry, OpDef{
      .name = "Transpose",
      .summary = "Permutes dimensions: output dimension i is input dimension perm[i].",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"perm", AttrType::kInts, std::nullopt}},
      .dtypes = AllTypes(),
      .traits = kDataMovement,
      .infer = InferTranspose,
      .reference = RunTranspose,
  });

  MustRegister(registry, OpDef{
      .name = "Concat",
      .summary =
          "Joins one or more tensors of one dtype and rank along `axis` (negative counts from "
          "the end); all other dimensions must be equal.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = -1,
      .attrs = {{"axis", AttrType::kInt, std::nullopt}},
      .dtypes = AllTypes(),
      .traits = kDataMovement,
      .infer = InferConcat,
      .reference = RunConcat,
  });

  MustRegister(registry, OpDef{
      .name = "Slice",
      .summary =
          "Takes elements starts[k], starts[k]+steps[k], ... up to (excluding) ends[k] along "
          "axes[k] (default 0..n-1; steps default 1, may be negative, never 0), with ONNX "
          "Slice's rules: negative starts/ends count from the end, then clamp to the "
          "dimension.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"starts", AttrType::kInts, std::nullopt},
                {"ends", AttrType::kInts, std::nullopt},
                {"axes", AttrType::kInts, std::vector<int64_t>{}},
                {"steps", AttrType::kInts, std::vector<int64_t>{}}},
      .dtypes = AllTypes(),
      .traits = kDataMovement,
      .infer = InferSlice,
      .reference = RunSlice,
  });

  MustRegister(registry, OpDef{
      .name = "Gather",
      .summary =
          "Picks entries of `data` along `axis` by i32/i64 `indices` of any rank: output "
          "shape data.shape[:axis] + indices.shape + data.shape[axis+1:]; a negative index "
          "counts from the end; an out-of-range index is a run-time error.",
      .input_names = {"data", "indices"},
      .min_inputs = 2,
      .max_inputs = 2,
      .attrs = {{"axis", AttrType::kInt, int64_t{0}}},
      .dtypes = AllTypes(),
      .traits = kDataMovement,
      .infer = InferGather,
      .reference = RunGather,
  });

  MustRegister(registry, OpDef{
      .name = "Pad",
      .summary =
          "Pads each dimension d by pads[d] before and pads[rank+d] after (non-negative, ONNX "
          "order); mode \"constant\" fills with `value`, \"reflect\" mirrors without repeating "
          "the edge (pad < size), \"edge\" repeats the edge element.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"pads", AttrType::kInts, std::nullopt},
                {"value", AttrType::kFloat, 0.0},
                {"mode", AttrType::kString, std::string("constant")}},
      .dtypes = AllTypes(),
      .traits = kDataMovement,
      .infer = InferPad,
      .reference = RunPad,
  });

  MustRegister(registry, OpDef{
      .name = "Flatten",
      .summary =
          "Reshapes to 2-D: [product of dims[:axis], product of dims[axis:]], with axis in "
          "[-rank, rank].",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"axis", AttrType::kInt, int64_t{1}}},
      .dtypes = AllTypes(),
      .traits = kDataMovement | kBitcast,
      .infer = InferFlatten,
      .reference = CopyAll,
  });
}

}  // namespace kiln
