// Softmax, LayerNorm, BatchNorm (inference) and BiasAdd on float dtypes. f16 and bf16
// compute in f32, f32 in f32 with row sums in double, f64 in f64. Each Softmax/LayerNorm
// row is read from memory once (its further passes hit cache) and written once.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/cpu/cpu_kernel_library.h"
#include "kernels/cpu/fast_math.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/cpu/params.h"
#include "kernels/cpu/row_math.h"

namespace kiln::cpu {
namespace {

// Accumulator of row sums: double for f32 (and f16/bf16), f64 itself.
using Sum = double;

template <typename T>
int32_t SoftmaxKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  using C = ComputeOf<T>;
  // f32/f64 keep exp(x - max) in the output between passes; f16/bf16 would round it, so
  // they compute it again.
  constexpr bool kStoreExp = std::is_same_v<T, C>;
  const SoftmaxParams& p = ParamsOf<SoftmaxParams>(call);
  const T* x = Operand<T>(call, 0);
  T* y = MutableOperand<T>(call, 1);
  const WorkRange range = SplitWork(p.units, workgroup, workgroups);
  const int64_t n = p.s.size;
  if (p.s.inner == 1) {
    for (int64_t r = range.begin; r < range.end; ++r) {
      const T* xr = x + r * n;
      T* yr = y + r * n;
      C max = -std::numeric_limits<C>::infinity();
      for (int64_t j = 0; j < n; ++j) max = MaxNaN(max, Elem<T>::Load(xr[j]));
      Sum sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        const C e = Exp(Elem<T>::Load(xr[j]) - max);
        sum += e;
        if constexpr (kStoreExp) yr[j] = e;
      }
      const C scale = static_cast<C>(1.0 / sum);
      for (int64_t j = 0; j < n; ++j) {
        if constexpr (kStoreExp) {
          yr[j] = yr[j] * scale;
        } else {
          yr[j] = Elem<T>::Store(Exp(Elem<T>::Load(xr[j]) - max) * scale);
        }
      }
    }
    return KILN_KERNEL_OK;
  }
  // Softmax along a strided axis: a block of up to kColumns adjacent columns at a time,
  // each pass reading contiguous runs of the block.
  const int64_t inner = p.s.inner;
  for (int64_t u = range.begin; u < range.end; ++u) {
    const int64_t o = u / p.blocks;
    const int64_t c0 = (u % p.blocks) * kColumns;
    const int64_t cols = std::min(kColumns, inner - c0);
    const T* xb = x + o * n * inner + c0;
    T* yb = y + o * n * inner + c0;
    C max[kColumns];
    Sum sum[kColumns];
    for (int64_t c = 0; c < cols; ++c) {
      max[c] = -std::numeric_limits<C>::infinity();
      sum[c] = 0;
    }
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t c = 0; c < cols; ++c) max[c] = MaxNaN(max[c], Elem<T>::Load(xb[j * inner + c]));
    }
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t c = 0; c < cols; ++c) {
        const C e = Exp(Elem<T>::Load(xb[j * inner + c]) - max[c]);
        sum[c] += e;
        if constexpr (kStoreExp) yb[j * inner + c] = e;
      }
    }
    C scale[kColumns];
    for (int64_t c = 0; c < cols; ++c) scale[c] = static_cast<C>(1.0 / sum[c]);
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t c = 0; c < cols; ++c) {
        if constexpr (kStoreExp) {
          yb[j * inner + c] = yb[j * inner + c] * scale[c];
        } else {
          yb[j * inner + c] =
              Elem<T>::Store(Exp(Elem<T>::Load(xb[j * inner + c]) - max[c]) * scale[c]);
        }
      }
    }
  }
  return KILN_KERNEL_OK;
}

// Mean, then the biased variance from the centred values (two passes over a cached row,
// no cancellation), then y = (x - mean) * inv_std * gamma + beta.
template <typename T>
int32_t LayerNormKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  using C = ComputeOf<T>;
  const LayerNormParams& p = ParamsOf<LayerNormParams>(call);
  const T* x = Operand<T>(call, 0);
  const T* gamma = Operand<T>(call, 1);
  const T* beta = Operand<T>(call, 2);
  T* y = MutableOperand<T>(call, 3);
  const WorkRange range = SplitWork(p.rows, workgroup, workgroups);
  for (int64_t r = range.begin; r < range.end; ++r) {
    const T* xr = x + r * p.n;
    T* yr = y + r * p.n;
    Sum sum = 0;
    for (int64_t j = 0; j < p.n; ++j) sum += Elem<T>::Load(xr[j]);
    const Sum mean = sum / static_cast<Sum>(p.n);
    Sum squares = 0;
    for (int64_t j = 0; j < p.n; ++j) {
      const Sum d = static_cast<Sum>(Elem<T>::Load(xr[j])) - mean;
      squares += d * d;
    }
    const C inv_std = static_cast<C>(1.0 / std::sqrt(squares / static_cast<Sum>(p.n) + p.epsilon));
    const C mean_c = static_cast<C>(mean);
    for (int64_t j = 0; j < p.n; ++j) {
      yr[j] = Elem<T>::Store((Elem<T>::Load(xr[j]) - mean_c) * inv_std * Elem<T>::Load(gamma[j]) +
                             Elem<T>::Load(beta[j]));
    }
  }
  return KILN_KERNEL_OK;
}

// ---- f32 rows, vectorized (row_math.h): the same math as the kernels above (f32 values,
// row sums in double); only the order of the double additions differs.

template <bool kUnusedTag>
__attribute__((always_inline)) inline int32_t SoftmaxRowsF32Body(const kiln_kernel_call* call,
                                                                int64_t workgroup,
                                                                int64_t workgroups) {
  const SoftmaxParams& p = ParamsOf<SoftmaxParams>(call);
  const float* x = Operand<float>(call, 0);
  float* y = MutableOperand<float>(call, 1);
  const WorkRange range = SplitWork(p.units, workgroup, workgroups);
  const int64_t n = p.s.size;
  for (int64_t r = range.begin; r < range.end; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    SoftmaxRowF32(xr, yr, n);
  }
  return KILN_KERNEL_OK;
}

template <bool kUnusedTag>
__attribute__((always_inline)) inline int32_t LayerNormF32Body(const kiln_kernel_call* call,
                                                              int64_t workgroup,
                                                              int64_t workgroups) {
  const LayerNormParams& p = ParamsOf<LayerNormParams>(call);
  const float* x = Operand<float>(call, 0);
  const float* gamma = Operand<float>(call, 1);
  const float* beta = Operand<float>(call, 2);
  float* y = MutableOperand<float>(call, 3);
  const WorkRange range = SplitWork(p.rows, workgroup, workgroups);
  for (int64_t r = range.begin; r < range.end; ++r) {
    const float* xr = x + r * p.n;
    float* yr = y + r * p.n;
    const Sum mean = RowSumF32<1>(xr, p.n, 0.0) / static_cast<Sum>(p.n);
    const Sum squares = RowSumF32<2>(xr, p.n, mean);
    const float inv_std =
        static_cast<float>(1.0 / std::sqrt(squares / static_cast<Sum>(p.n) + p.epsilon));
    const float mean_f = static_cast<float>(mean);
    for (int64_t j = 0; j < p.n; ++j) yr[j] = (xr[j] - mean_f) * inv_std * gamma[j] + beta[j];
  }
  return KILN_KERNEL_OK;
}

// f32 Softmax: contiguous rows vectorized, a strided axis through the generic loop.
template <bool kUnusedTag>
__attribute__((always_inline)) inline int32_t SoftmaxF32Body(const kiln_kernel_call* call,
                                                            int64_t workgroup,
                                                            int64_t workgroups) {
  if (ParamsOf<SoftmaxParams>(call).s.inner == 1) {
    return SoftmaxRowsF32Body<false>(call, workgroup, workgroups);
  }
  return SoftmaxKernel<float>(call, workgroup, workgroups);
}

// The f32 kernels compiled for AVX2 + FMA, chosen at prepare time where the CPU has them.
__attribute__((target("avx2,fma"))) int32_t SoftmaxF32Avx2(const kiln_kernel_call* call,
                                                           int64_t workgroup,
                                                           int64_t workgroups) {
  return SoftmaxF32Body<false>(call, workgroup, workgroups);
}
__attribute__((target("avx2,fma"))) int32_t LayerNormF32Avx2(const kiln_kernel_call* call,
                                                             int64_t workgroup,
                                                             int64_t workgroups) {
  return LayerNormF32Body<false>(call, workgroup, workgroups);
}

template <typename T, bool kBatchNorm>
int32_t ChannelKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  using C = ComputeOf<T>;
  const ChannelParams& p = ParamsOf<ChannelParams>(call);
  const T* x = Operand<T>(call, 0);
  const T* scale = kBatchNorm ? Operand<T>(call, 1) : nullptr;
  const T* bias = Operand<T>(call, kBatchNorm ? 2 : 1);
  const T* mean = kBatchNorm ? Operand<T>(call, 3) : nullptr;
  const T* variance = kBatchNorm ? Operand<T>(call, 4) : nullptr;
  T* y = MutableOperand<T>(call, kBatchNorm ? 5 : 2);
  // y = (x - m) * s + b per channel (BiasAdd: m = 0, s = 1).
  auto coefficients = [&](int64_t c, C* m, C* s, C* b) {
    *b = Elem<T>::Load(bias[c]);
    if constexpr (kBatchNorm) {
      *m = Elem<T>::Load(mean[c]);
      *s = static_cast<C>(static_cast<double>(Elem<T>::Load(scale[c])) /
                          std::sqrt(static_cast<double>(Elem<T>::Load(variance[c])) + p.epsilon));
    } else {
      *m = 0;
      *s = 1;
    }
  };
  const WorkRange range = SplitWork(p.units, workgroup, workgroups);
  const int64_t inner = p.s.inner;
  if (inner >= kLongRun) {
    for (int64_t u = range.begin; u < range.end; ++u) {
      C m, s, b;
      coefficients(u % p.s.size, &m, &s, &b);
      const T* xr = x + u * inner;
      T* yr = y + u * inner;
      for (int64_t i = 0; i < inner; ++i) {
        if constexpr (kBatchNorm) {
          yr[i] = Elem<T>::Store((Elem<T>::Load(xr[i]) - m) * s + b);
        } else {
          yr[i] = Elem<T>::Store(Elem<T>::Load(xr[i]) + b);
        }
      }
    }
    return KILN_KERNEL_OK;
  }
  const int64_t row = p.s.size * inner;
  for (int64_t c0 = 0; c0 < p.s.size; c0 += kChannelChunk) {
    const int64_t count = std::min(kChannelChunk, p.s.size - c0);
    C m[kChannelChunk], s[kChannelChunk], b[kChannelChunk];
    for (int64_t c = 0; c < count; ++c) coefficients(c0 + c, &m[c], &s[c], &b[c]);
    for (int64_t o = range.begin; o < range.end; ++o) {
      const T* xr = x + o * row + c0 * inner;
      T* yr = y + o * row + c0 * inner;
      if (inner == 1) {
        for (int64_t c = 0; c < count; ++c) {
          if constexpr (kBatchNorm) {
            yr[c] = Elem<T>::Store((Elem<T>::Load(xr[c]) - m[c]) * s[c] + b[c]);
          } else {
            yr[c] = Elem<T>::Store(Elem<T>::Load(xr[c]) + b[c]);
          }
        }
      } else {
        for (int64_t c = 0; c < count; ++c) {
          for (int64_t i = 0; i < inner; ++i) {
            const C v = Elem<T>::Load(xr[c * inner + i]);
            yr[c * inner + i] = Elem<T>::Store(kBatchNorm ? (v - m[c]) * s[c] + b[c] : v + b[c]);
          }
        }
      }
    }
  }
  return KILN_KERNEL_OK;
}

template <template <typename> class K>
kiln_kernel_fn FloatFn(DataType dtype) {
  switch (dtype) {
    case DataType::kF32: return &K<float>::Run;
    case DataType::kF64: return &K<double>::Run;
    case DataType::kF16: return &K<Half>::Run;
    case DataType::kBF16: return &K<BFloat16>::Run;
    default: return nullptr;
  }
}

template <typename T>
struct SoftmaxK {
  static int32_t Run(const kiln_kernel_call* c, int64_t w, int64_t n) {
    if constexpr (std::is_same_v<T, float>) return SoftmaxF32Body<false>(c, w, n);
    return SoftmaxKernel<T>(c, w, n);
  }
};
template <typename T>
struct LayerNormK {
  static int32_t Run(const kiln_kernel_call* c, int64_t w, int64_t n) {
    if constexpr (std::is_same_v<T, float>) return LayerNormF32Body<false>(c, w, n);
    return LayerNormKernel<T>(c, w, n);
  }
};
template <typename T>
struct BatchNormK {
  static int32_t Run(const kiln_kernel_call* c, int64_t w, int64_t n) {
    return ChannelKernel<T, true>(c, w, n);
  }
};
template <typename T>
struct BiasAddK {
  static int32_t Run(const kiln_kernel_call* c, int64_t w, int64_t n) {
    return ChannelKernel<T, false>(c, w, n);
  }
};

}  // namespace

void AddNormalizationKernels(SymbolList& list) {
  list.AddPerType<SoftmaxParams>("softmax", FloatFn<SoftmaxK>);
  list.Add<SoftmaxParams>("cpu.softmax.f32.avx2", &SoftmaxF32Avx2, kCpuAvx2Fma);
  list.AddPerType<LayerNormParams>("layer_norm", FloatFn<LayerNormK>);
  list.Add<LayerNormParams>("cpu.layer_norm.f32.avx2", &LayerNormF32Avx2, kCpuAvx2Fma);
  list.AddPerType<ChannelParams>("batch_norm", FloatFn<BatchNormK>);
  list.AddPerType<ChannelParams>("bias_add", FloatFn<BiasAddK>);
}

}  // namespace kiln::cpu
