// ReduceSum, ReduceMean and ReduceMax over any axes. At prepare time the input's dims are
// merged into runs of reduced and kept dims (size-1 dims dropped). When the innermost run
// is reduced, each output is a sum over contiguous runs; when it is kept, blocks of
// adjacent outputs accumulate together over contiguous slices. Floating sums accumulate
// in double (8 independent lanes, so the loop vectorizes without reassociation flags);
// integer sums wrap in 64 bits, integer means divide an exact 128-bit sum.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/cpu/cpu_kernel_library.h"
#include "kernels/cpu/fast_math.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/cpu/params.h"

namespace kiln::cpu {
namespace {

// Floating types: double accumulators.
template <typename T, int kKind>
struct FloatReducer {
  using Acc = double;
  static Acc Init() {
    return kKind == kReduceMax ? -std::numeric_limits<double>::infinity() : 0.0;
  }
  static Acc Combine(Acc a, Acc v) {
    if constexpr (kKind == kReduceMax) {
      return MaxNaN(a, v);
    } else {
      return a + v;
    }
  }
  static Acc Load(T v) { return static_cast<double>(Elem<T>::Load(v)); }
  static T Finish(Acc a, int64_t count) {
    double v = kKind == kReduceMean ? a / static_cast<double>(count) : a;
    if constexpr (std::is_same_v<T, double>) return v;
    else return Elem<T>::Store(static_cast<float>(v));
  }
};

// Integers: wrapping 64-bit sums, exact 128-bit sums for means, int64 maxima.
template <typename T, int kKind>
struct IntReducer {
  using Acc = std::conditional_t<kKind == kReduceMean, __int128,
                                 std::conditional_t<kKind == kReduceSum, uint64_t, int64_t>>;
  static Acc Init() {
    if constexpr (kKind == kReduceMax) return std::numeric_limits<int64_t>::min();
    else return 0;
  }
  static Acc Load(T v) {
    if constexpr (kKind == kReduceSum) return static_cast<uint64_t>(static_cast<int64_t>(v));
    else return static_cast<int64_t>(v);
  }
  static Acc Combine(Acc a, Acc v) {
    if constexpr (kKind == kReduceMax) return v > a ? v : a;
    else return a + v;
  }
  static T Finish(Acc a, int64_t count) {
    if constexpr (kKind == kReduceMean) {
      return count == 0 ? T{0} : static_cast<T>(static_cast<int64_t>(a / count));
    } else {
      return static_cast<T>(a);
    }
  }
};

template <typename T, int kKind>
using ReducerOf = std::conditional_t<kIsFloatElem<T>, FloatReducer<T, kKind>, IntReducer<T, kKind>>;

// Reduction of one contiguous run with 8 independent lanes.
template <typename R, typename T>
typename R::Acc ReduceRun(const T* x, int64_t n, typename R::Acc acc) {
  typename R::Acc lanes[8];
  for (int k = 0; k < 8; ++k) lanes[k] = R::Init();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) lanes[k] = R::Combine(lanes[k], R::Load(x[i + k]));
  }
  for (; i < n; ++i) lanes[0] = R::Combine(lanes[0], R::Load(x[i]));
  for (int k = 0; k < 8; ++k) acc = R::Combine(acc, lanes[k]);
  return acc;
}

// Offset of the `index`-th combination of `rank` dims (last fastest).
inline int64_t OffsetOf(int64_t index, int rank, const int64_t* dims, const int64_t* strides) {
  int64_t offset = 0;
  for (int d = rank - 1; d >= 0; --d) {
    offset += (index % dims[d]) * strides[d];
    index /= dims[d];
  }
  return offset;
}

template <typename T, int kKind>
int32_t ReduceKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  using R = ReducerOf<T, kKind>;
  using Acc = typename R::Acc;
  const ReduceParams& p = ParamsOf<ReduceParams>(call);
  const T* x = Operand<T>(call, 0);
  T* y = MutableOperand<T>(call, 1);
  const WorkRange range = SplitWork(p.units, workgroup, workgroups);
  int64_t reduced_total = 1;
  for (int d = 0; d < p.reduced_rank; ++d) reduced_total *= p.reduced_dims[d];
  if (p.inner_reduced) {
    for (int64_t o = range.begin; o < range.end; ++o) {
      const int64_t base = OffsetOf(o, p.kept_rank, p.kept_dims, p.kept_strides);
      Acc acc = R::Init();
      for (int64_t r = 0; r < reduced_total; ++r) {
        const int64_t off = base + OffsetOf(r, p.reduced_rank, p.reduced_dims, p.reduced_strides);
        acc = ReduceRun<R>(x + off, p.inner, acc);
      }
      y[o] = R::Finish(acc, p.count);
    }
    return KILN_KERNEL_OK;
  }
  for (int64_t u = range.begin; u < range.end; ++u) {
    const int64_t q = u / p.blocks;
    const int64_t c0 = (u % p.blocks) * kBlock;
    const int64_t cols = std::min(kBlock, p.inner - c0);
    const int64_t base = OffsetOf(q, p.kept_rank, p.kept_dims, p.kept_strides) + c0;
    Acc acc[kBlock];
    for (int64_t c = 0; c < cols; ++c) acc[c] = R::Init();
    for (int64_t r = 0; r < reduced_total; ++r) {
      const T* src = x + base + OffsetOf(r, p.reduced_rank, p.reduced_dims, p.reduced_strides);
      for (int64_t c = 0; c < cols; ++c) acc[c] = R::Combine(acc[c], R::Load(src[c]));
    }
    T* dst = y + q * p.inner + c0;
    for (int64_t c = 0; c < cols; ++c) dst[c] = R::Finish(acc[c], p.count);
  }
  return KILN_KERNEL_OK;
}

template <int kKind>
kiln_kernel_fn ReduceFn(DataType dtype) {
  switch (dtype) {
    case DataType::kF32: return &ReduceKernel<float, kKind>;
    case DataType::kF64: return &ReduceKernel<double, kKind>;
    case DataType::kF16: return &ReduceKernel<Half, kKind>;
    case DataType::kBF16: return &ReduceKernel<BFloat16, kKind>;
    case DataType::kI8: return &ReduceKernel<int8_t, kKind>;
    case DataType::kU8: return &ReduceKernel<uint8_t, kKind>;
    case DataType::kI32: return &ReduceKernel<int32_t, kKind>;
    case DataType::kI64: return &ReduceKernel<int64_t, kKind>;
    default: return nullptr;
  }
}

}  // namespace

void AddReductionKernels(SymbolList& list) {
  list.AddPerType<ReduceParams>("reduce_sum", ReduceFn<kReduceSum>);
  list.AddPerType<ReduceParams>("reduce_mean", ReduceFn<kReduceMean>);
  list.AddPerType<ReduceParams>("reduce_max", ReduceFn<kReduceMax>);
}

}  // namespace kiln::cpu
