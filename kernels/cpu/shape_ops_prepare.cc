// Prepare half of the data-movement kernels (shape_ops.cc): copies, strided copies
// (Transpose, Slice), Concat, Gather and Pad.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/tensor.h"
#include "kernels/cpu/kernels.h"

namespace kiln::cpu {
namespace {

// Output dims with input strides, size-1 dims dropped and dims merged where the input is
// contiguous across them.
PrepareResult PrepareStrided(const PrepareContext& ctx, const std::vector<int64_t>& out_dims,
                             const std::vector<int64_t>& in_strides, int64_t base) {
  const DataType dtype = ctx.output().dtype;
  StridedParams p{};
  p.total = ctx.output().shape.NumElements();
  p.base = p.total == 0 ? 0 : base;
  std::vector<int64_t> dims;
  std::vector<int64_t> strides;
  for (size_t d = 0; d < out_dims.size(); ++d) {
    if (out_dims[d] == 1) continue;
    if (!dims.empty() && strides.back() == in_strides[d] * out_dims[d]) {
      dims.back() *= out_dims[d];
      strides.back() = in_strides[d];
    } else {
      dims.push_back(out_dims[d]);
      strides.push_back(in_strides[d]);
    }
  }
  if (dims.empty()) {
    dims.push_back(1);
    strides.push_back(1);
  }
  p.rank = static_cast<int32_t>(dims.size());
  for (int d = 0; d < p.rank; ++d) {
    p.dims[d] = dims[d];
    p.strides[d] = strides[d];
  }
  return MakeKernel(ctx, absl::StrCat("cpu.strided_copy.x", 8 * DataTypeSize(dtype)), p,
                    ElementwiseWorkgroups(p.total, DataTypeSize(dtype)), dtype);
}

}  // namespace

PrepareResult PrepareCopy(const PrepareContext& ctx) {
  const TensorType& out = ctx.output();
  CopyParams p{out.shape.NumElements() * DataTypeSize(out.dtype)};
  ASSIGN_OR_RETURN(PreparedKernel kernel,
                   MakeKernel(ctx, "cpu.copy", p, ElementwiseWorkgroups(p.bytes, 1)));
  kernel.inplace_input = 0;
  return kernel;
}

PrepareResult PrepareTranspose(const PrepareContext& ctx) {
  const Shape& x = ctx.inputs[0].shape;
  const std::vector<int64_t>& perm = ctx.node.ints_attr("perm");
  const std::vector<int64_t> x_strides = Strides(x);
  std::vector<int64_t> dims(perm.size());
  std::vector<int64_t> strides(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) {
    dims[k] = x.dim(static_cast<int>(perm[k]));
    strides[k] = x_strides[perm[k]];
  }
  return PrepareStrided(ctx, dims, strides, 0);
}

PrepareResult PrepareSlice(const PrepareContext& ctx) {
  // The output shape fixes each dim's size; starts and steps follow ONNX Slice's rules,
  // resolved exactly as the shape function resolves them.
  const Shape& x = ctx.inputs[0].shape;
  const Shape& y = ctx.output().shape;
  const int rank = x.rank();
  const std::vector<int64_t>& starts = ctx.node.ints_attr("starts");
  const std::vector<int64_t>& axes = ctx.node.ints_attr("axes");
  const std::vector<int64_t>& steps = ctx.node.ints_attr("steps");
  const std::vector<int64_t> x_strides = Strides(x);
  std::vector<int64_t> start(rank, 0);
  std::vector<int64_t> step(rank, 1);
  for (size_t k = 0; k < starts.size(); ++k) {
    const int64_t a = axes.empty() ? static_cast<int64_t>(k) : axes[k];
    const int axis = static_cast<int>(a < 0 ? a + rank : a);
    const int64_t d = x.dim(axis);
    const int64_t s = steps.empty() ? 1 : steps[k];
    int64_t b = starts[k];
    if (b < 0) b += d;
    if (d == 0) {
      b = 0;
    } else if (s > 0) {
      b = std::clamp<int64_t>(b, 0, d);
    } else {
      b = std::clamp<int64_t>(b, 0, d - 1);
    }
    start[axis] = b;
    step[axis] = y.dim(axis) >= 2 ? s : 1;
  }
  std::vector<int64_t> dims(y.dims());
  std::vector<int64_t> strides(rank);
  int64_t base = 0;
  for (int d = 0; d < rank; ++d) {
    base += start[d] * x_strides[d];
    strides[d] = step[d] * x_strides[d];
  }
  return PrepareStrided(ctx, dims, strides, base);
}

PrepareResult PrepareConcat(const PrepareContext& ctx) {
  const TensorType& out = ctx.output();
  const int rank = out.shape.rank();
  const int64_t a = ctx.node.int_attr("axis");
  const int axis = static_cast<int>(a < 0 ? a + rank : a);
  ConcatParams p{};
  p.outer = 1;
  for (int d = 0; d < axis; ++d) p.outer *= out.shape.dim(d);
  int64_t inner = 1;
  for (int d = axis + 1; d < rank; ++d) inner *= out.shape.dim(d);
  p.out_block = out.shape.dim(axis) * inner;
  p.inputs = static_cast<int64_t>(ctx.inputs.size());
  p.elem_size = DataTypeSize(out.dtype);
  if (out.shape.NumElements() == 0) {
    p.outer = 0;  // nothing to copy (and inner may be a product past a zero)
    p.out_block = 1;
  }
  std::vector<int64_t> blocks;
  for (const TensorType& in : ctx.inputs) {
    blocks.push_back(out.shape.NumElements() == 0 ? 0 : in.shape.dim(axis) * inner);
  }
  ASSIGN_OR_RETURN(PreparedKernel kernel,
                   MakeKernel(ctx, "cpu.concat", p,
                              ElementwiseWorkgroups(out.shape.NumElements(), p.elem_size)));
  const auto* bytes = reinterpret_cast<const uint8_t*>(blocks.data());
  kernel.params.insert(kernel.params.end(), bytes, bytes + blocks.size() * sizeof(int64_t));
  return kernel;
}

PrepareResult PrepareGather(const PrepareContext& ctx) {
  const Shape& data = ctx.inputs[0].shape;
  const TensorType& out = ctx.output();
  const int rank = data.rank();
  const int64_t a = ctx.node.int_attr("axis");
  const int axis = static_cast<int>(a < 0 ? a + rank : a);
  GatherParams p{};
  p.outer = 1;
  for (int d = 0; d < axis; ++d) p.outer *= data.dim(d);
  int64_t inner = 1;
  for (int d = axis + 1; d < rank; ++d) inner *= data.dim(d);
  p.size = data.dim(axis);
  p.axis = axis;
  p.count = ctx.inputs[1].shape.NumElements();
  p.inner_bytes = inner * DataTypeSize(out.dtype);
  if (out.shape.NumElements() == 0) {
    // Indices are still checked (an out-of-range index is an error even when nothing is
    // copied), one pass with a single outer index and no bytes.
    p.outer = p.count == 0 ? 0 : 1;
    p.inner_bytes = 0;
  }
  const int64_t units = p.outer * p.count;
  const int64_t per_group =
      std::max<int64_t>(1, kMinWorkgroupBytes / std::max<int64_t>(p.inner_bytes, 1));
  return MakeKernel(ctx, SymbolName("gather", ctx.inputs[1].dtype), p,
                    WorkgroupsFor(units, per_group), ctx.inputs[1].dtype);
}

PrepareResult PreparePad(const PrepareContext& ctx) {
  const Shape& x = ctx.inputs[0].shape;
  const TensorType& out = ctx.output();
  const std::vector<int64_t>& pads = ctx.node.ints_attr("pads");
  const std::string& mode = ctx.node.string_attr("mode");
  PadParams p{};
  p.mode = mode == "reflect" ? kReflect : mode == "edge" ? kEdge : kConstant;
  const int rank = x.rank();
  const std::vector<int64_t> strides = Strides(x);
  // A scalar pads like a one-element vector with no padding.
  p.rank = std::max(rank, 1);
  for (int d = 0; d < p.rank; ++d) {
    p.out_dims[d] = rank == 0 ? 1 : out.shape.dim(d);
    p.in_dims[d] = rank == 0 ? 1 : x.dim(d);
    p.begin[d] = rank == 0 ? 0 : pads[d];
    p.in_strides[d] = rank == 0 ? 1 : strides[d];
  }
  // The fill value in the output dtype, converted exactly as the reference converts it.
  Tensor fill = Tensor::Allocate(out.dtype, Shape{}).value();
  fill.SetFromDouble(0, ctx.node.float_attr("value"));
  std::memcpy(&p.fill, fill.raw_data(), DataTypeSize(out.dtype));
  const int64_t total = out.shape.NumElements();
  const int64_t width = p.out_dims[p.rank - 1];
  p.rows = total == 0 ? 0 : total / width;
  const int64_t per_group = std::max<int64_t>(
      1, kMinWorkgroupBytes / std::max<int64_t>(1, width * DataTypeSize(out.dtype)));
  return MakeKernel(ctx, absl::StrCat("cpu.pad.x", 8 * DataTypeSize(out.dtype)), p,
                    WorkgroupsFor(p.rows, per_group), out.dtype);
}

}  // namespace kiln::cpu
