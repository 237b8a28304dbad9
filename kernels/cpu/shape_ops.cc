// Data movement: Identity/Reshape/Flatten (a copy, or nothing when planned in place),
// Transpose and Slice (a strided gather whose contiguous runs are copied whole), Concat,
// Gather (indices checked as they are used) and Pad. Kernels move element bytes, so one
// instantiation per element size serves every dtype.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/tensor.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/cpu/kernels.h"

namespace kiln::cpu {
namespace {

template <int kSize>
struct Bytes {
  uint8_t b[kSize];
};

template <template <typename> class K>
kiln_kernel_fn BySize(int64_t size) {
  switch (size) {
    case 1: return &K<uint8_t>::Run;
    case 2: return &K<uint16_t>::Run;
    case 4: return &K<uint32_t>::Run;
    case 8: return &K<uint64_t>::Run;
    default: return nullptr;
  }
}

// ---------------------------------------------------------------------------- copies

struct CopyParams {
  int64_t bytes;
};

int32_t CopyKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  const CopyParams& p = ParamsOf<CopyParams>(call);
  const uint8_t* x = Operand<uint8_t>(call, 0);
  uint8_t* y = MutableOperand<uint8_t>(call, 1);
  const WorkRange r = SplitWork(p.bytes, workgroup, workgroups);
  // In place (the planner aliased output and input): nothing to move.
  if (x != y && r.end > r.begin) std::memcpy(y + r.begin, x + r.begin, r.end - r.begin);
  return KILN_KERNEL_OK;
}

// ------------------------------------------------------------- strided gather (Transpose, Slice)

struct StridedParams {
  int64_t total;
  int64_t base;  // element offset of output element 0 in the input
  int32_t rank;
  int32_t unused;
  int64_t dims[kMaxRank];
  int64_t strides[kMaxRank];  // input element stride per output dim
};

template <typename T>
struct StridedCopy {
  static int32_t Run(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
    const StridedParams& p = ParamsOf<StridedParams>(call);
    const WorkRange r = SplitWork(p.total, workgroup, workgroups);
    if (r.begin >= r.end) return KILN_KERNEL_OK;
    const T* x = Operand<T>(call, 0);
    T* y = MutableOperand<T>(call, 1);
    const int last = p.rank - 1;
    const int64_t inner = p.dims[last];
    const int64_t step = p.strides[last];
    int64_t coord[kMaxRank] = {};
    int64_t row = r.begin / inner;
    int64_t col = r.begin % inner;
    int64_t offset = p.base;
    for (int d = last - 1; d >= 0; --d) {
      coord[d] = row % p.dims[d];
      row /= p.dims[d];
      offset += coord[d] * p.strides[d];
    }
    int64_t pos = r.begin;
    while (true) {
      const int64_t n = std::min(inner - col, r.end - pos);
      const T* src = x + offset + col * step;
      if (step == 1) {
        std::memcpy(y + pos, src, n * sizeof(T));
      } else {
        for (int64_t i = 0; i < n; ++i) y[pos + i] = src[i * step];
      }
      pos += n;
      if (pos >= r.end) break;
      col = 0;
      for (int d = last - 1; d >= 0; --d) {
        offset += p.strides[d];
        if (++coord[d] < p.dims[d]) break;
        offset -= p.dims[d] * p.strides[d];
        coord[d] = 0;
      }
    }
    return KILN_KERNEL_OK;
  }
};

// Output dims with input strides, size-1 dims dropped and dims merged where the input is
// contiguous across them.
PrepareResult PrepareStrided(const PrepareContext& ctx, const std::vector<int64_t>& out_dims,
                             const std::vector<int64_t>& in_strides, int64_t base) {
  const DataType dtype = ctx.output().dtype;
  kiln_kernel_fn fn = BySize<StridedCopy>(DataTypeSize(dtype));
  if (fn == nullptr) return UnsupportedDtype(ctx.node, dtype);
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
  return MakeKernel(fn, p, ElementwiseWorkgroups(p.total, DataTypeSize(dtype)),
                    KernelName(ctx.node, dtype));
}

// ----------------------------------------------------------------------------- Concat

// Followed in the params block by `inputs` int64 block sizes (elements per outer index).
struct ConcatParams {
  int64_t outer;
  int64_t out_block;
  int64_t inputs;
  int64_t elem_size;
};

int32_t ConcatKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  const ConcatParams& p = ParamsOf<ConcatParams>(call);
  const int64_t* blocks = reinterpret_cast<const int64_t*>(&p + 1);
  uint8_t* y = MutableOperand<uint8_t>(call, static_cast<int>(p.inputs));
  const WorkRange r = SplitWork(p.outer * p.out_block, workgroup, workgroups);
  int64_t pos = r.begin;
  while (pos < r.end) {
    const int64_t o = pos / p.out_block;
    int64_t off = pos % p.out_block;
    // The input holding column `off` of row o, and where it starts.
    int64_t k = 0;
    int64_t start = 0;
    while (off >= start + blocks[k]) start += blocks[k++];
    const int64_t n = std::min(start + blocks[k] - off, r.end - pos);
    const uint8_t* src = Operand<uint8_t>(call, static_cast<int>(k)) +
                         (o * blocks[k] + off - start) * p.elem_size;
    std::memcpy(y + pos * p.elem_size, src, n * p.elem_size);
    pos += n;
  }
  return KILN_KERNEL_OK;
}

// ----------------------------------------------------------------------------- Gather

struct GatherParams {
  int64_t outer;
  int64_t size;   // the gathered axis of data
  int64_t count;  // number of indices
  int64_t inner_bytes;
  int64_t axis;   // for error messages
};

// Reports an index outside [-size, size) as the reference kernel words it.
int32_t ReportBadIndex(const kiln_kernel_call* call, int64_t element, int64_t index,
                       int64_t axis, int64_t size) {
  char message[200];
  std::snprintf(message, sizeof(message),
                "input 'indices' element %lld is %lld, out of range for axis %lld of input "
                "'data' (size %lld)",
                static_cast<long long>(element), static_cast<long long>(index),
                static_cast<long long>(axis), static_cast<long long>(size));
  call->env->report(call->env, KILN_KERNEL_INDEX_OUT_OF_RANGE, message);
  return KILN_KERNEL_INDEX_OUT_OF_RANGE;
}

template <typename I>
int32_t GatherKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  const GatherParams& p = ParamsOf<GatherParams>(call);
  const uint8_t* data = Operand<uint8_t>(call, 0);
  const I* indices = Operand<I>(call, 1);
  uint8_t* y = MutableOperand<uint8_t>(call, 2);
  const WorkRange r = SplitWork(p.outer * p.count, workgroup, workgroups);
  for (int64_t u = r.begin; u < r.end; ++u) {
    const int64_t o = u / p.count;
    const int64_t j = u % p.count;
    int64_t index = static_cast<int64_t>(indices[j]);
    if (index < 0) index += p.size;
    if (index < 0 || index >= p.size) {
      return ReportBadIndex(call, j, static_cast<int64_t>(indices[j]), p.axis, p.size);
    }
    if (p.inner_bytes > 0) {
      std::memcpy(y + u * p.inner_bytes, data + (o * p.size + index) * p.inner_bytes,
                  p.inner_bytes);
    }
  }
  return KILN_KERNEL_OK;
}

// -------------------------------------------------------------------------------- Pad

enum PadMode : int32_t { kConstant, kReflect, kEdge };

struct PadParams {
  int64_t rows;  // output rows (all dims but the last)
  int32_t rank;  // >= 1
  int32_t mode;
  int64_t out_dims[kMaxRank];
  int64_t in_dims[kMaxRank];
  int64_t begin[kMaxRank];
  int64_t in_strides[kMaxRank];
  uint64_t fill;  // the constant's bytes in the output dtype
};

// Source coordinate of output coordinate `i` along a dim, or -1 for constant padding.
inline int64_t SourceIndex(int64_t i, int64_t begin, int64_t size, int32_t mode) {
  int64_t q = i - begin;
  if (q >= 0 && q < size) return q;
  switch (mode) {
    case kReflect: return q < 0 ? -q : 2 * (size - 1) - q;
    case kEdge: return q < 0 ? 0 : size - 1;
    default: return -1;
  }
}

template <typename T>
struct PadKernel {
  static int32_t Run(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
    const PadParams& p = ParamsOf<PadParams>(call);
    const T* x = Operand<T>(call, 0);
    T* y = MutableOperand<T>(call, 1);
    T fill;
    std::memcpy(&fill, &p.fill, sizeof(T));
    const int last = p.rank - 1;
    const int64_t width = p.out_dims[last];
    const int64_t in_width = p.in_dims[last];
    const int64_t lead = p.begin[last];
    const WorkRange r = SplitWork(p.rows, workgroup, workgroups);
    for (int64_t row = r.begin; row < r.end; ++row) {
      T* out = y + row * width;
      // The input row this output row reads, or none (constant padding).
      int64_t offset = 0;
      bool padding = false;
      int64_t rest = row;
      for (int d = last - 1; d >= 0; --d) {
        const int64_t i = rest % p.out_dims[d];
        rest /= p.out_dims[d];
        const int64_t q = SourceIndex(i, p.begin[d], p.in_dims[d], p.mode);
        if (q < 0) {
          padding = true;
          break;
        }
        offset += q * p.in_strides[d];
      }
      if (padding) {
        for (int64_t i = 0; i < width; ++i) out[i] = fill;
        continue;
      }
      const T* in = x + offset;
      const int64_t copy_end = std::min(width, lead + in_width);
      for (int64_t i = 0; i < lead && i < width; ++i) {
        const int64_t q = SourceIndex(i, lead, in_width, p.mode);
        out[i] = q < 0 ? fill : in[q];
      }
      if (copy_end > lead) std::memcpy(out + lead, in, (copy_end - lead) * sizeof(T));
      for (int64_t i = std::max(copy_end, lead); i < width; ++i) {
        const int64_t q = SourceIndex(i, lead, in_width, p.mode);
        out[i] = q < 0 ? fill : in[q];
      }
    }
    return KILN_KERNEL_OK;
  }
};

}  // namespace

PrepareResult PrepareCopy(const PrepareContext& ctx) {
  const TensorType& out = ctx.output();
  CopyParams p{out.shape.NumElements() * DataTypeSize(out.dtype)};
  PreparedKernel kernel = MakeKernel(&CopyKernel, p, ElementwiseWorkgroups(p.bytes, 1),
                                     KernelName(ctx.node, out.dtype));
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
  PreparedKernel kernel = MakeKernel(&ConcatKernel, p,
                                     ElementwiseWorkgroups(out.shape.NumElements(), p.elem_size),
                                     KernelName(ctx.node, out.dtype));
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
  kiln_kernel_fn fn = ctx.inputs[1].dtype == DataType::kI32 ? &GatherKernel<int32_t>
                                                            : &GatherKernel<int64_t>;
  const int64_t units = p.outer * p.count;
  const int64_t per_group =
      std::max<int64_t>(1, kMinWorkgroupBytes / std::max<int64_t>(p.inner_bytes, 1));
  return MakeKernel(fn, p, WorkgroupsFor(units, per_group), KernelName(ctx.node, out.dtype));
}

PrepareResult PreparePad(const PrepareContext& ctx) {
  const Shape& x = ctx.inputs[0].shape;
  const TensorType& out = ctx.output();
  kiln_kernel_fn fn = BySize<PadKernel>(DataTypeSize(out.dtype));
  if (fn == nullptr) return UnsupportedDtype(ctx.node, out.dtype);
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
  return MakeKernel(fn, p, WorkgroupsFor(p.rows, per_group), KernelName(ctx.node, out.dtype));
}

}  // namespace kiln::cpu
