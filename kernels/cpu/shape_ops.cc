// Data movement: Identity/Reshape/Flatten (a copy, or nothing when planned in place),
// Transpose and Slice (a strided gather whose contiguous runs are copied whole), Concat,
// Gather (indices checked as they are used) and Pad. Kernels move element bytes, so one
// instantiation per element size serves every dtype.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/cpu_kernel_library.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/cpu/params.h"

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

// ----------------------------------------------------------------------------- Concat

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

// Data movement does not look at values: kernels by element size ("x32": 32-bit elements).
void AddShapeKernels(SymbolList& list) {
  list.Add<CopyParams>("cpu.copy", &CopyKernel);
  list.AddTrailing<ConcatParams>("cpu.concat", &ConcatKernel);
  list.Add<GatherParams>("cpu.gather.i32", &GatherKernel<int32_t>);
  list.Add<GatherParams>("cpu.gather.i64", &GatherKernel<int64_t>);
  for (int bits : {8, 16, 32, 64}) {
    list.Add<StridedParams>(absl::StrCat("cpu.strided_copy.x", bits), BySize<StridedCopy>(bits / 8));
    list.Add<PadParams>(absl::StrCat("cpu.pad.x", bits), BySize<PadKernel>(bits / 8));
  }
}

}  // namespace kiln::cpu
