// Converters of ONNX's constants and shape and data-movement ops. Shape-valued inputs
// (Reshape's shape, Slice's starts, ...) must be constants, which constant folding makes
// them whenever the shapes they derive from are static; Shape and Size of tensors with
// static shapes are constants themselves.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/onnx/onnx_converter.h"
#include "graph/onnx/onnx_ops_util.h"
#include "graph/onnx/onnx_tensor.h"
#include "base/status_macros.h"

namespace kiln::onnx_import {

// ------------------------------------------------------------------------- helpers

absl::StatusOr<TensorRef> ReshapeTo(NodeContext& ctx, TensorRef x, std::vector<int64_t> dims) {
  int unknown = 0;
  for (int64_t d : dims) unknown += d == kUnknownDim ? 1 : 0;
  if (unknown > 1) {
    return NodeContext::Unsupported(absl::StrCat(
        "reshaping to [", absl::StrJoin(dims, ","), "] with more than one unknown dimension"));
  }
  if (ctx.ShapeOf(x).dims() == dims) return x;
  return ctx.Emit("Reshape", {x}, {{"shape", std::move(dims)}});
}

absl::StatusOr<std::vector<int64_t>> NormalizeAxes(const std::vector<int64_t>& axes, int rank,
                                                   absl::string_view what) {
  std::vector<int64_t> out;
  std::vector<bool> seen(rank, false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank) {
      return absl::InvalidArgumentError(absl::StrCat(what, " value ", a,
                                                     " is out of range for rank ", rank));
    }
    const int64_t n = a < 0 ? a + rank : a;
    if (seen[n]) return absl::InvalidArgumentError(absl::StrCat(what, " repeats axis ", n));
    seen[n] = true;
    out.push_back(n);
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> AxesAttrOrInput(NodeContext& ctx, int64_t input_opset,
                                                     int input_index) {
  if (ctx.opset() < input_opset) return ctx.Ints("axes");
  if (!ctx.HasInput(input_index)) return std::vector<int64_t>{};
  return ctx.ConstantInts(input_index, "axes");
}

absl::StatusOr<TensorRef> Binary(NodeContext& ctx, absl::string_view op, TensorRef a,
                                 TensorRef b) {
  return ctx.Emit(op, {a, b});
}

absl::StatusOr<TensorRef> BinaryScalar(NodeContext& ctx, absl::string_view op, TensorRef a,
                                       double scalar) {
  ASSIGN_OR_RETURN(TensorRef s, ctx.Scalar(ctx.Dtype(a), scalar));
  return ctx.Emit(op, {a, s});
}

namespace {

// The known dimensions of `x`, or UnimplementedError naming `what`.
absl::StatusOr<std::vector<int64_t>> KnownDims(NodeContext& ctx, TensorRef x, absl::string_view what) {
  const Shape& shape = ctx.ShapeOf(x);
  if (!shape.IsFullyKnown()) {
    return NodeContext::Unsupported(absl::StrCat(what, " of a tensor with unknown dimensions ",
                                                 shape.ToString()));
  }
  return shape.dims();
}

absl::Status CheckTensorLimit(const std::vector<int64_t>& dims, absl::string_view what) {
  absl::Status valid = ValidateShape(Shape(dims));
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", valid.message()));
  for (int64_t d : dims) {
    if (d < 0) return absl::InvalidArgumentError(absl::StrCat(what, " has a negative dimension"));
  }
  return absl::OkStatus();
}

}  // namespace

// ------------------------------------------------------------------------ constants

absl::Status ConvertConstant(NodeContext& ctx) {
  ASSIGN_OR_RETURN(std::optional<Tensor> value, ctx.TensorAttr("value"));
  std::optional<Tensor> t = std::move(value);
  if (ctx.HasAttr("value_float")) {
    ASSIGN_OR_RETURN(double v, ctx.Float("value_float", 0));
    t = Tensor::F32(Shape{}, {static_cast<float>(v)});
  } else if (ctx.HasAttr("value_floats")) {
    ASSIGN_OR_RETURN(std::vector<double> v, ctx.Floats("value_floats"));
    std::vector<float> f(v.begin(), v.end());
    t = Tensor::F32(Shape{static_cast<int64_t>(f.size())}, f);
  } else if (ctx.HasAttr("value_int")) {
    ASSIGN_OR_RETURN(int64_t v, ctx.Int("value_int", 0));
    t = Tensor::I64(Shape{}, {v});
  } else if (ctx.HasAttr("value_ints")) {
    ASSIGN_OR_RETURN(std::vector<int64_t> v, ctx.Ints("value_ints"));
    t = Tensor::I64(Shape{static_cast<int64_t>(v.size())}, v);
  } else if (ctx.HasAttr("value_string") || ctx.HasAttr("value_strings")) {
    return NodeContext::Unsupported("string constants");
  } else if (ctx.HasAttr("sparse_value")) {
    return NodeContext::Unsupported("sparse constants");
  }
  if (!t) return absl::InvalidArgumentError("Constant has no value attribute");
  ASSIGN_OR_RETURN(TensorRef ref, ctx.Constant(*t));
  return ctx.SetOutput(0, ref);
}

absl::Status ConvertConstantOfShape(NodeContext& ctx) {
  ASSIGN_OR_RETURN(std::optional<Tensor> value, ctx.TensorAttr("value"));
  ASSIGN_OR_RETURN(std::vector<int64_t> dims, ctx.ConstantInts(0, "input"));
  RETURN_IF_ERROR(CheckTensorLimit(dims, "input 'input'"));
  DataType dtype = DataType::kF32;
  double fill = 0;
  if (value) {
    if (value->NumElements() != 1) {
      return absl::InvalidArgumentError("attribute 'value' must hold one element");
    }
    dtype = value->dtype();
  }
  // Beyond the constant limit: a one-element constant broadcast by Expand.
  if (Shape(dims).NumElements() > ctx.max_constant_elements()) {
    ASSIGN_OR_RETURN(Tensor one, ctx.AllocateConstant(dtype, Shape{}));
    if (value) std::memcpy(one.raw_data(), value->raw_data(), DataTypeSize(dtype));
    ASSIGN_OR_RETURN(TensorRef scalar, ctx.Constant(one));
    ASSIGN_OR_RETURN(TensorRef expanded, ctx.Emit("Expand", {scalar}, {{"shape", dims}}));
    return ctx.SetOutput(0, expanded);
  }
  ASSIGN_OR_RETURN(Tensor out, ctx.AllocateConstant(dtype, Shape(dims)));
  if (value) {
    const int64_t size = DataTypeSize(dtype);
    for (int64_t i = 0; i < out.NumElements(); ++i) {
      std::memcpy(static_cast<char*>(out.raw_data()) + i * size, value->raw_data(), size);
    }
  } else {
    for (int64_t i = 0; i < out.NumElements(); ++i) out.SetFromDouble(i, fill);
  }
  ASSIGN_OR_RETURN(TensorRef ref, ctx.Constant(out));
  return ctx.SetOutput(0, ref);
}

absl::Status ConvertShape(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  const Shape shape = ctx.ShapeOf(x);
  const int64_t rank = shape.rank();
  int64_t start = 0;
  int64_t end = rank;
  if (ctx.opset() >= 15) {
    ASSIGN_OR_RETURN(start, ctx.Int("start", 0));
    ASSIGN_OR_RETURN(end, ctx.Int("end", rank));
  }
  // Negative values count from the end; both then clamp to [0, rank].
  if (start < 0) start = start < -rank ? 0 : start + rank;
  if (end < 0) end = end < -rank ? 0 : end + rank;
  start = std::min(start, rank);
  end = std::min(end, rank);
  std::vector<int64_t> dims;
  for (int64_t d = start; d < end; ++d) {
    if (shape.dim(static_cast<int>(d)) == kUnknownDim) {
      return NodeContext::Unsupported(absl::StrCat(
          "Shape of a tensor with unknown dimensions ", shape.ToString(),
          " (Kiln folds Shape to a constant)"));
    }
    dims.push_back(shape.dim(static_cast<int>(d)));
  }
  ASSIGN_OR_RETURN(TensorRef ref, ctx.Int64s(dims));
  return ctx.SetOutput(0, ref);
}

absl::Status ConvertSize(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> dims, KnownDims(ctx, x, "Size"));
  ASSIGN_OR_RETURN(TensorRef ref, ctx.Constant(Tensor::I64(Shape{}, {Shape(dims).NumElements()})));
  return ctx.SetOutput(0, ref);
}

// ---------------------------------------------------------------------- reshaping

// ONNX's 0 copies the input's dimension unless allowzero (opset 14); -1 is inferred.
absl::Status ConvertReshape(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> spec, ctx.ConstantInts(1, "shape"));
  int64_t allowzero = 0;
  if (ctx.opset() >= 14) {
    ASSIGN_OR_RETURN(allowzero, ctx.Int("allowzero", 0));
  }
  const Shape in = ctx.ShapeOf(x);
  std::vector<int64_t> dims;
  int inferred = -1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0 && allowzero == 0) {
      if (static_cast<int>(i) >= in.rank()) {
        return absl::InvalidArgumentError(absl::StrCat("shape entry ", i,
                                                       " is 0 (copy), but the input has rank ",
                                                       in.rank()));
      }
      d = in.dim(static_cast<int>(i));
    } else if (d == -1) {
      if (inferred >= 0) return absl::InvalidArgumentError("shape has more than one -1");
      inferred = static_cast<int>(i);
    } else if (d < -1) {
      return absl::InvalidArgumentError(absl::StrCat("shape entry ", i, " is ", d));
    }
    dims.push_back(d);
  }
  ASSIGN_OR_RETURN(TensorRef y, ReshapeTo(ctx, x, dims));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertFlatten(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t axis, ctx.Int("axis", 1));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Flatten", {x}, {{"axis", axis}}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertSqueeze(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> axes, AxesAttrOrInput(ctx, 13, 1));
  const Shape in = ctx.ShapeOf(x);
  ASSIGN_OR_RETURN(axes, NormalizeAxes(axes, in.rank(), "axes"));
  std::vector<bool> drop(in.rank(), false);
  if (axes.empty()) {
    for (int d = 0; d < in.rank(); ++d) {
      if (in.dim(d) == kUnknownDim) {
        return NodeContext::Unsupported("Squeeze without axes of a tensor with unknown dimensions");
      }
      drop[d] = in.dim(d) == 1;
    }
  }
  for (int64_t a : axes) {
    if (in.dim(static_cast<int>(a)) != 1 && in.dim(static_cast<int>(a)) != kUnknownDim) {
      return absl::InvalidArgumentError(absl::StrCat("axis ", a, " of input ", in.ToString(),
                                                     " is not of size 1"));
    }
    drop[a] = true;
  }
  std::vector<int64_t> dims;
  for (int d = 0; d < in.rank(); ++d) {
    if (!drop[d]) dims.push_back(in.dim(d));
  }
  ASSIGN_OR_RETURN(TensorRef y, ReshapeTo(ctx, x, dims));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertUnsqueeze(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  std::vector<int64_t> axes;
  if (ctx.opset() < 13) {
    ASSIGN_OR_RETURN(axes, ctx.Ints("axes"));
  } else {
    ASSIGN_OR_RETURN(axes, ctx.ConstantInts(1, "axes"));
  }
  const Shape in = ctx.ShapeOf(x);
  const int out_rank = in.rank() + static_cast<int>(axes.size());
  ASSIGN_OR_RETURN(axes, NormalizeAxes(axes, out_rank, "axes"));
  std::vector<bool> inserted(out_rank, false);
  for (int64_t a : axes) inserted[a] = true;
  std::vector<int64_t> dims;
  int next = 0;
  for (int d = 0; d < out_rank; ++d) dims.push_back(inserted[d] ? 1 : in.dim(next++));
  ASSIGN_OR_RETURN(TensorRef y, ReshapeTo(ctx, x, dims));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertTranspose(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  const int rank = ctx.ShapeOf(x).rank();
  std::vector<int64_t> reversed;
  for (int d = rank - 1; d >= 0; --d) reversed.push_back(d);
  ASSIGN_OR_RETURN(std::vector<int64_t> perm, ctx.Ints("perm", reversed));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Transpose", {x}, {{"perm", perm}}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertConcat(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t axis, ctx.RequiredInt("axis"));
  std::vector<TensorRef> inputs;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    ASSIGN_OR_RETURN(TensorRef in, ctx.Input(i));
    inputs.push_back(in);
  }
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Concat", inputs, {{"axis", axis}}));
  return ctx.SetOutput(0, y);
}

// Split into slices along `axis`: sizes from 'split' (attribute before opset 13, input
// after), or equal parts.
absl::Status ConvertSplit(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t axis_attr, ctx.Int("axis", 0));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  const Shape in = ctx.ShapeOf(x);
  ASSIGN_OR_RETURN(std::vector<int64_t> axes, NormalizeAxes({axis_attr}, in.rank(), "axis"));
  const int axis = static_cast<int>(axes[0]);
  const int64_t size = in.dim(axis);
  if (size == kUnknownDim) return NodeContext::Unsupported("Split of an unknown dimension");
  std::vector<int64_t> split;
  if (ctx.opset() < 13) {
    ASSIGN_OR_RETURN(split, ctx.Ints("split"));
  } else if (ctx.HasInput(1)) {
    ASSIGN_OR_RETURN(split, ctx.ConstantInts(1, "split"));
  }
  const int n = ctx.num_outputs();
  if (split.empty()) {
    if (n == 0 || size % n != 0) {
      return absl::InvalidArgumentError(absl::StrCat("dimension ", axis, " of size ", size,
                                                     " does not split into ", n, " equal parts"));
    }
    split.assign(n, size / n);
  }
  if (static_cast<int>(split.size()) != n) {
    return absl::InvalidArgumentError(absl::StrCat("'split' has ", split.size(),
                                                   " entries for ", n, " outputs"));
  }
  int64_t start = 0;
  for (int i = 0; i < n; ++i) {
    if (split[i] < 0 || split[i] > size - start) {
      return absl::InvalidArgumentError(absl::StrCat("'split' entries [", absl::StrJoin(split, ","),
                                                     "] do not fit dimension size ", size));
    }
    ASSIGN_OR_RETURN(TensorRef part, ctx.Emit("Slice", {x}, {{"starts", std::vector<int64_t>{start}},
                                                             {"ends", std::vector<int64_t>{start + split[i]}},
                                                             {"axes", std::vector<int64_t>{axis}}}));
    RETURN_IF_ERROR(ctx.SetOutput(i, part));
    start += split[i];
  }
  if (start != size) {
    return absl::InvalidArgumentError(absl::StrCat("'split' entries sum to ", start,
                                                   ", not the dimension size ", size));
  }
  return absl::OkStatus();
}

// Slice-10+ takes starts, ends, axes and steps as inputs; Slice-1 as attributes.
absl::Status ConvertSlice(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset() < 10) {
    ASSIGN_OR_RETURN(starts, ctx.Ints("starts"));
    ASSIGN_OR_RETURN(ends, ctx.Ints("ends"));
    ASSIGN_OR_RETURN(axes, ctx.Ints("axes"));
  } else {
    ASSIGN_OR_RETURN(starts, ctx.ConstantInts(1, "starts"));
    ASSIGN_OR_RETURN(ends, ctx.ConstantInts(2, "ends"));
    if (ctx.HasInput(3)) {
      ASSIGN_OR_RETURN(axes, ctx.ConstantInts(3, "axes"));
    }
    if (ctx.HasInput(4)) {
      ASSIGN_OR_RETURN(steps, ctx.ConstantInts(4, "steps"));
    }
  }
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Slice", {x}, {{"starts", starts},
                                                        {"ends", ends},
                                                        {"axes", axes},
                                                        {"steps", steps}}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertGather(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t axis, ctx.Int("axis", 0));
  ASSIGN_OR_RETURN(TensorRef data, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef indices, ctx.Input(1));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit(ctx.node().op_type() == "GatherElements" ? "GatherElements" : "Gather",
                                         {data, indices}, {{"axis", axis}}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertGatherElements(NodeContext& ctx) { return ConvertGather(ctx); }

// Pad-11+: pads (and the constant value) are inputs; Pad-2: attributes.
absl::Status ConvertPad(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::string mode, ctx.String("mode", "constant"));
  std::vector<int64_t> pads;
  double value = 0;
  if (ctx.opset() < 11) {
    ASSIGN_OR_RETURN(pads, ctx.Ints("pads"));
    ASSIGN_OR_RETURN(value, ctx.Float("value", 0.0));
  } else {
    ASSIGN_OR_RETURN(pads, ctx.ConstantInts(1, "pads"));
    if (ctx.HasInput(2)) {
      ASSIGN_OR_RETURN(Tensor v, ctx.ConstantInput(2, "constant_value"));
      if (v.NumElements() != 1) {
        return absl::InvalidArgumentError("input 'constant_value' must hold one value");
      }
      value = v.GetAsDouble(0);
    }
  }
  for (int64_t p : pads) {
    if (p < 0) return NodeContext::Unsupported("negative pads (cropping)");
  }
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Pad", {x}, {{"pads", pads}, {"value", value}, {"mode", mode}}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertExpand(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> shape, ctx.ConstantInts(1, "shape"));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Expand", {x}, {{"shape", shape}}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertTile(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> repeats, ctx.ConstantInts(1, "repeats"));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Tile", {x}, {{"repeats", repeats}}));
  return ctx.SetOutput(0, y);
}

// Range's length depends on its inputs' values, so they must be constants; the values
// are computed as ONNX's reference does: start + i * delta.
absl::Status ConvertRange(NodeContext& ctx) {
  ASSIGN_OR_RETURN(Tensor start, ctx.ConstantInput(0, "start"));
  ASSIGN_OR_RETURN(Tensor limit, ctx.ConstantInput(1, "limit"));
  ASSIGN_OR_RETURN(Tensor delta, ctx.ConstantInput(2, "delta"));
  if (start.NumElements() != 1 || limit.NumElements() != 1 || delta.NumElements() != 1) {
    return absl::InvalidArgumentError("start, limit and delta must be scalars");
  }
  const DataType dtype = start.dtype();
  const double s = start.GetAsDouble(0), l = limit.GetAsDouble(0), d = delta.GetAsDouble(0);
  if (d == 0 || !std::isfinite(s) || !std::isfinite(l) || !std::isfinite(d)) {
    return absl::InvalidArgumentError("delta must be non-zero and all values finite");
  }
  const double count = std::max(std::ceil((l - s) / d), 0.0);
  if (count > static_cast<double>(kMaxElements)) {
    return absl::InvalidArgumentError("Range has more than 2^40 elements");
  }
  const int64_t n = static_cast<int64_t>(count);
  ASSIGN_OR_RETURN(Tensor out, ctx.AllocateConstant(dtype, Shape{n}));
  for (int64_t i = 0; i < n; ++i) {
    if (IsFloating(dtype)) {
      out.SetFromDouble(i, s + static_cast<double>(i) * d);
    } else {
      // In uint64 so a hostile delta wraps instead of overflowing (undefined behaviour).
      const uint64_t v = static_cast<uint64_t>(start.GetAsInt64(0)) +
                         static_cast<uint64_t>(i) * static_cast<uint64_t>(delta.GetAsInt64(0));
      out.SetFromInt64(i, static_cast<int64_t>(v));
    }
  }
  ASSIGN_OR_RETURN(TensorRef ref, ctx.Constant(out));
  return ctx.SetOutput(0, ref);
}

// EyeLike of a static 2-D shape is a constant.
absl::Status ConvertEyeLike(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(int64_t k, ctx.Int("k", 0));
  DataType dtype = ctx.Dtype(x);
  if (ctx.HasAttr("dtype")) {
    ASSIGN_OR_RETURN(int64_t onnx_type, ctx.Int("dtype", 0));
    ASSIGN_OR_RETURN(dtype, DataTypeFromOnnx(static_cast<int>(onnx_type)));
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> dims, KnownDims(ctx, x, "EyeLike"));
  if (dims.size() != 2) return absl::InvalidArgumentError("EyeLike needs a 2-D input");
  ASSIGN_OR_RETURN(Tensor out, ctx.AllocateConstant(dtype, Shape(dims)));
  for (int64_t r = 0; r < dims[0]; ++r) {
    // k is compared, never added, so a huge k cannot overflow.
    for (int64_t c = 0; c < dims[1]; ++c) {
      if (c - r == k) out.SetFromInt64(r * dims[1] + c, 1);
    }
  }
  ASSIGN_OR_RETURN(TensorRef ref, ctx.Constant(out));
  return ctx.SetOutput(0, ref);
}

absl::Status ConvertTrilu(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t upper, ctx.Int("upper", 1));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  int64_t k = 0;
  if (ctx.HasInput(1)) {
    ASSIGN_OR_RETURN(std::vector<int64_t> kv, ctx.ConstantInts(1, "k"));
    if (kv.size() != 1) return absl::InvalidArgumentError("input 'k' must hold one value");
    k = kv[0];
  }
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Trilu", {x}, {{"upper", upper != 0}, {"k", k}}));
  return ctx.SetOutput(0, y);
}

// OneHot: Equal(indices (wrapped, with a unit axis), ramp 0..depth-1) selects on/off.
absl::Status ConvertOneHot(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t axis_attr, ctx.Int("axis", -1));
  ASSIGN_OR_RETURN(TensorRef indices, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor depth_t, ctx.ConstantInput(1, "depth"));
  ASSIGN_OR_RETURN(TensorRef values, ctx.Input(2));
  if (depth_t.NumElements() != 1) return absl::InvalidArgumentError("input 'depth' must hold one value");
  const double depth_d = depth_t.GetAsDouble(0);
  if (!(depth_d >= 1) || depth_d > static_cast<double>(kMaxElements)) {
    return absl::InvalidArgumentError(absl::StrCat("depth is ", depth_d));
  }
  const int64_t depth = static_cast<int64_t>(depth_d);
  const Shape in = ctx.ShapeOf(indices);
  const int out_rank = in.rank() + 1;
  ASSIGN_OR_RETURN(std::vector<int64_t> axes, NormalizeAxes({axis_attr}, out_rank, "axis"));
  const int axis = static_cast<int>(axes[0]);
  ASSIGN_OR_RETURN(TensorRef idx, ctx.Emit("Cast", {indices}, {{"to", DataType::kI64}}));
  // Negative indices count from the end: idx + depth where idx < 0.
  ASSIGN_OR_RETURN(TensorRef neg, BinaryScalar(ctx, "Less", idx, 0));
  ASSIGN_OR_RETURN(TensorRef wrapped, BinaryScalar(ctx, "Add", idx, static_cast<double>(depth)));
  ASSIGN_OR_RETURN(idx, ctx.Emit("Where", {neg, wrapped, idx}));
  std::vector<int64_t> dims = in.dims();
  dims.insert(dims.begin() + axis, 1);
  ASSIGN_OR_RETURN(idx, ReshapeTo(ctx, idx, dims));
  std::vector<int64_t> ramp_dims(out_rank - axis, 1);
  ramp_dims[0] = depth;
  ASSIGN_OR_RETURN(Tensor ramp, ctx.AllocateConstant(DataType::kI64, Shape(ramp_dims)));
  for (int64_t i = 0; i < depth; ++i) ramp.SetFromInt64(i, i);
  ASSIGN_OR_RETURN(TensorRef ramp_ref, ctx.Constant(ramp));
  ASSIGN_OR_RETURN(TensorRef hit, ctx.Emit("Equal", {idx, ramp_ref}));
  ASSIGN_OR_RETURN(TensorRef zero, ctx.Constant(Tensor::I64(Shape{}, {0})));
  ASSIGN_OR_RETURN(TensorRef one, ctx.Constant(Tensor::I64(Shape{}, {1})));
  ASSIGN_OR_RETURN(TensorRef off, ctx.Emit("Gather", {values, zero}));
  ASSIGN_OR_RETURN(TensorRef on, ctx.Emit("Gather", {values, one}));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Where", {hit, on, off}));
  return ctx.SetOutput(0, y);
}

// DepthToSpace and SpaceToDepth as Reshape -> Transpose -> Reshape.
absl::Status ConvertDepthToSpace(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t b, ctx.RequiredInt("blocksize"));
  ASSIGN_OR_RETURN(std::string mode, ctx.String("mode", "DCR"));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> d, KnownDims(ctx, x, "DepthToSpace"));
  if (d.size() != 4 || b < 1 || b > 4096 || d[1] % (b * b) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("blocksize ", b, " does not divide the channels of ",
                                                   ctx.ShapeOf(x).ToString()));
  }
  const int64_t c = d[1] / (b * b);
  std::vector<int64_t> split, perm;
  if (mode == "DCR") {
    split = {d[0], b, b, c, d[2], d[3]};
    perm = {0, 3, 4, 1, 5, 2};
  } else if (mode == "CRD") {
    split = {d[0], c, b, b, d[2], d[3]};
    perm = {0, 1, 4, 2, 5, 3};
  } else {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'mode' is '", mode, "'"));
  }
  ASSIGN_OR_RETURN(TensorRef t, ReshapeTo(ctx, x, split));
  ASSIGN_OR_RETURN(t, ctx.Emit("Transpose", {t}, {{"perm", perm}}));
  ASSIGN_OR_RETURN(t, ReshapeTo(ctx, t, {d[0], c, d[2] * b, d[3] * b}));
  return ctx.SetOutput(0, t);
}

absl::Status ConvertSpaceToDepth(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t b, ctx.RequiredInt("blocksize"));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> d, KnownDims(ctx, x, "SpaceToDepth"));
  if (d.size() != 4 || b < 1 || b > 4096 || d[2] % b != 0 || d[3] % b != 0 ||
      d[1] > kMaxElements / (b * b)) {
    return absl::InvalidArgumentError(absl::StrCat("blocksize ", b, " does not divide the spatial size of ",
                                                   ctx.ShapeOf(x).ToString()));
  }
  ASSIGN_OR_RETURN(TensorRef t, ReshapeTo(ctx, x, {d[0], d[1], d[2] / b, b, d[3] / b, b}));
  ASSIGN_OR_RETURN(t, ctx.Emit("Transpose", {t}, {{"perm", std::vector<int64_t>{0, 3, 5, 1, 2, 4}}}));
  ASSIGN_OR_RETURN(t, ReshapeTo(ctx, t, {d[0], d[1] * b * b, d[2] / b, d[3] / b}));
  return ctx.SetOutput(0, t);
}

}  // namespace kiln::onnx_import

namespace kiln::onnx_import {

absl::Status ConvertGatherND(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t batch_dims, ctx.Int("batch_dims", 0));
  ASSIGN_OR_RETURN(TensorRef data, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef indices, ctx.Input(1));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("GatherND", {data, indices}, {{"batch_dims", batch_dims}}));
  return ctx.SetOutput(0, y);
}

// ScatterElements (and the deprecated Scatter-9/10, the same op) and ScatterND.
absl::Status ConvertScatter(NodeContext& ctx) {
  const bool nd = ctx.node().op_type() == "ScatterND";
  AttrMap attrs;
  if (!nd) {
    ASSIGN_OR_RETURN(int64_t axis, ctx.Int("axis", 0));
    attrs["axis"] = axis;
  }
  std::string reduction = "none";
  if (ctx.opset() >= 16) {
    ASSIGN_OR_RETURN(reduction, ctx.String("reduction", "none"));
  }
  attrs["reduction"] = reduction;
  ASSIGN_OR_RETURN(TensorRef data, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef indices, ctx.Input(1));
  ASSIGN_OR_RETURN(TensorRef updates, ctx.Input(2));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit(nd ? "ScatterND" : "ScatterElements", {data, indices, updates},
                                         std::move(attrs)));
  return ctx.SetOutput(0, y);
}

// TopK-10+: k is a constant input (an attribute before); the output is always sorted.
absl::Status ConvertTopK(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t axis, ctx.Int("axis", -1));
  ASSIGN_OR_RETURN(int64_t largest, ctx.Int("largest", 1));
  ASSIGN_OR_RETURN(int64_t sorted, ctx.Int("sorted", 1));
  (void)sorted;  // an unsorted result may be in any order; sorted is one of them
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> k, ctx.ConstantInts(1, "k"));
  if (k.size() != 1) return absl::InvalidArgumentError("input 'k' must hold one value");
  ASSIGN_OR_RETURN(std::vector<TensorRef> y, ctx.EmitMulti("TopK", {x}, {{"k", k[0]},
                                                                         {"axis", axis},
                                                                         {"largest", largest != 0}}));
  RETURN_IF_ERROR(ctx.SetOutput(0, y[0]));
  return ctx.SetOutput(1, y[1]);
}

// Upsample-9 (deprecated): Resize with the asymmetric transform, nearest rounding down.
absl::Status ConvertUpsample(NodeContext& ctx) {
  ASSIGN_OR_RETURN(std::string mode, ctx.String("mode", "nearest"));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor scales_t, ctx.ConstantInput(1, "scales"));
  const Shape in = ctx.ShapeOf(x);
  if (scales_t.NumElements() != in.rank() || !in.IsFullyKnown()) {
    return absl::InvalidArgumentError(absl::StrCat("'scales' has ", scales_t.NumElements(),
                                                   " values for input ", in.ToString()));
  }
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  for (int d = 0; d < in.rank(); ++d) {
    const double s = scales_t.GetAsDouble(d);
    if (!(s >= 1) || s > 4096) return absl::InvalidArgumentError(absl::StrCat("scale ", s, " is out of range"));
    scales.push_back(s);
    sizes.push_back(static_cast<int64_t>(std::floor(s * static_cast<double>(in.dim(d)))));
  }
  if (mode != "nearest" && mode != "linear") {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'mode' is '", mode, "'"));
  }
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Resize", {x}, {{"sizes", sizes},
                                                         {"scales", scales},
                                                         {"mode", mode},
                                                         {"coordinate_transformation_mode", std::string("asymmetric")},
                                                         {"nearest_mode", std::string("floor")}}));
  return ctx.SetOutput(0, y);
}

}  // namespace kiln::onnx_import

namespace kiln::onnx_import {

// BlackmanWindow, HannWindow, HammingWindow of a constant size: constants
// a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), N = size (periodic) or size - 1.
absl::Status ConvertWindow(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t periodic, ctx.Int("periodic", 1));
  ASSIGN_OR_RETURN(int64_t out_type, ctx.Int("output_datatype", onnx::TensorProto::FLOAT));
  ASSIGN_OR_RETURN(DataType dtype, DataTypeFromOnnx(static_cast<int>(out_type)));
  ASSIGN_OR_RETURN(std::vector<int64_t> size, ctx.ConstantInts(0, "size"));
  if (size.size() != 1 || size[0] < 0) return absl::InvalidArgumentError("input 'size' must be one value >= 0");
  const std::string& op = ctx.node().op_type();
  double a0 = 0.5, a1 = 0.5, a2 = 0;  // Hann
  if (op == "HammingWindow") {
    a0 = 25.0 / 46.0;
    a1 = 21.0 / 46.0;
  } else if (op == "BlackmanWindow") {
    a0 = 0.42;
    a1 = 0.5;
    a2 = 0.08;
  }
  ASSIGN_OR_RETURN(Tensor w, ctx.AllocateConstant(dtype, Shape{size[0]}));
  const double n_total = static_cast<double>(periodic != 0 ? size[0] : size[0] - 1);
  const double pi = 3.14159265358979323846;
  for (int64_t n = 0; n < size[0]; ++n) {
    const double t = n_total == 0 ? 0 : static_cast<double>(n) / n_total;
    w.SetFromDouble(n, a0 - a1 * std::cos(2 * pi * t) + a2 * std::cos(4 * pi * t));
  }
  ASSIGN_OR_RETURN(TensorRef ref, ctx.Constant(w));
  return ctx.SetOutput(0, ref);
}

}  // namespace kiln::onnx_import

namespace kiln::onnx_import {

// ReverseSequence with constant sequence_lens: GatherElements along the time axis with a
// constant index tensor that reverses the first len[b] steps of each batch entry.
absl::Status ConvertReverseSequence(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t batch_axis, ctx.Int("batch_axis", 1));
  ASSIGN_OR_RETURN(int64_t time_axis, ctx.Int("time_axis", 0));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> lens, ctx.ConstantInts(1, "sequence_lens"));
  ASSIGN_OR_RETURN(std::vector<int64_t> dims, KnownDims(ctx, x, "ReverseSequence"));
  const int rank = static_cast<int>(dims.size());
  if (rank < 2 || (batch_axis != 0 && batch_axis != 1) || time_axis != 1 - batch_axis) {
    return absl::InvalidArgumentError("batch_axis and time_axis must be 0 and 1 (either order)");
  }
  if (static_cast<int64_t>(lens.size()) != dims[batch_axis]) {
    return absl::InvalidArgumentError(absl::StrCat("sequence_lens has ", lens.size(), " entries for a batch of ",
                                                   dims[batch_axis]));
  }
  for (int64_t len : lens) {
    if (len < 0 || len > dims[time_axis]) return absl::InvalidArgumentError(absl::StrCat("sequence length ", len, " is out of range"));
  }
  ASSIGN_OR_RETURN(Tensor idx, ctx.AllocateConstant(DataType::kI64, Shape(dims)));
  const std::vector<int64_t> strides = RowMajorStrides(Shape(dims));
  for (int64_t i = 0; i < idx.NumElements(); ++i) {
    const int64_t b = (i / strides[batch_axis]) % dims[batch_axis];
    const int64_t t = (i / strides[time_axis]) % dims[time_axis];
    idx.SetFromInt64(i, t < lens[b] ? lens[b] - 1 - t : t);
  }
  ASSIGN_OR_RETURN(TensorRef idx_ref, ctx.Constant(idx));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("GatherElements", {x, idx_ref}, {{"axis", time_axis}}));
  return ctx.SetOutput(0, y);
}

}  // namespace kiln::onnx_import
