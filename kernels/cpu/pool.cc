// MaxPool, AvgPool and GlobalAvgPool on float dtypes, NCHW or NHWC. Windows are clipped
// to the input once per output row and column, so the taps loop has no bounds checks.
// NCHW walks each output row of a channel plane; NHWC accumulates whole channel vectors
// (contiguous) per window tap. Sums accumulate in double; maxima propagate NaN.
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

// Clipped window [begin, end) of output position `o` along one dim.
inline void Window(int64_t o, int64_t stride, int64_t pad, int64_t kernel, int64_t size,
                   int64_t* begin, int64_t* end) {
  const int64_t start = o * stride - pad;
  *begin = std::max<int64_t>(start, 0);
  *end = std::min<int64_t>(start + kernel, size);
}

// y[c] = the maximum (MaxNaN's: NaN wins) over the window [y0, y1) x [x0, x1) of x's
// channel c, c < cols, for f32 in NHWC: 4-lane vectors (GCC's vector extensions, one SSE
// register in the baseline build), four per pass over the taps. Each tap is a maxps
// (`m > v ? m : v`, which drops a NaN already in m) and an OR of v's NaN lanes into a
// mask that makes those lanes NaN at the end: 3 operations where MaxNaN's select takes 7
// without SSE4's blend.
void MaxWindowF32(const float* x, int64_t row_step, int64_t col_step, int64_t y0, int64_t y1,
                  int64_t x0, int64_t x1, int64_t cols, float* y) {
  typedef float F4 __attribute__((vector_size(16)));
  typedef int32_t I4 __attribute__((vector_size(16)));
  constexpr float kLowest = -std::numeric_limits<float>::infinity();
  constexpr int kVectors = 4;
  int64_t c = 0;
  for (; c + 4 * kVectors <= cols; c += 4 * kVectors) {
    F4 m[kVectors];
    I4 nan[kVectors];
#pragma GCC unroll 4
    for (int q = 0; q < kVectors; ++q) {
      m[q] = F4{} + kLowest;
      nan[q] = I4{};
    }
    for (int64_t iy = y0; iy < y1; ++iy) {
      for (int64_t ix = x0; ix < x1; ++ix) {
        const float* v = x + iy * row_step + ix * col_step + c;
#pragma GCC unroll 4
        for (int q = 0; q < kVectors; ++q) {
          F4 in;
          __builtin_memcpy(&in, v + 4 * q, sizeof(F4));
          nan[q] |= in != in;
          m[q] = m[q] > in ? m[q] : in;
        }
      }
    }
#pragma GCC unroll 4
    for (int q = 0; q < kVectors; ++q) {
      const F4 out = reinterpret_cast<F4>(reinterpret_cast<I4>(m[q]) | nan[q]);  // all ones: NaN
      __builtin_memcpy(y + c + 4 * q, &out, sizeof(F4));
    }
  }
  for (; c < cols; ++c) {
    float m = kLowest;
    for (int64_t iy = y0; iy < y1; ++iy) {
      for (int64_t ix = x0; ix < x1; ++ix) m = MaxNaN(m, x[iy * row_step + ix * col_step + c]);
    }
    y[c] = m;
  }
}

template <typename T, bool kMax>
int32_t PoolKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  using C = ComputeOf<T>;
  const PoolParams& p = ParamsOf<PoolParams>(call);
  const T* x = Operand<T>(call, 0);
  T* y = MutableOperand<T>(call, 1);
  const WorkRange range = SplitWork(p.units, workgroup, workgroups);
  const double full = static_cast<double>(p.kh * p.kw);
  if (!p.nhwc) {
    // Unit: one output row (n, c, oy).
    for (int64_t u = range.begin; u < range.end; ++u) {
      const int64_t oy = u % p.oh;
      const int64_t c = (u / p.oh) % p.c;
      const int64_t n = u / (p.oh * p.c);
      int64_t y0, y1;
      Window(oy, p.stride_h, p.pad_top, p.kh, p.h, &y0, &y1);
      const T* plane = x + n * p.xs[0] + c * p.xs[1];
      T* out = y + n * p.ys[0] + c * p.ys[1] + oy * p.ys[2];
      for (int64_t ox = 0; ox < p.ow; ++ox) {
        int64_t x0, x1;
        Window(ox, p.stride_w, p.pad_left, p.kw, p.w, &x0, &x1);
        if constexpr (kMax) {
          C m = -std::numeric_limits<C>::infinity();
          for (int64_t iy = y0; iy < y1; ++iy) {
            for (int64_t ix = x0; ix < x1; ++ix) m = MaxNaN(m, Elem<T>::Load(plane[iy * p.xs[2] + ix]));
          }
          out[ox] = Elem<T>::Store(m);
        } else {
          double s = 0;
          for (int64_t iy = y0; iy < y1; ++iy) {
            for (int64_t ix = x0; ix < x1; ++ix) s += Elem<T>::Load(plane[iy * p.xs[2] + ix]);
          }
          const double divisor = p.include_pad ? full : static_cast<double>((y1 - y0) * (x1 - x0));
          out[ox] = Elem<T>::Store(static_cast<C>(s / divisor));
        }
      }
    }
    return KILN_KERNEL_OK;
  }
  // NHWC unit: one output row (n, oy) for one block of channels.
  for (int64_t u = range.begin; u < range.end; ++u) {
    const int64_t c0 = (u % p.blocks) * kChannelBlock;
    const int64_t cols = std::min(kChannelBlock, p.c - c0);
    const int64_t oy = (u / p.blocks) % p.oh;
    const int64_t n = u / (p.blocks * p.oh);
    int64_t y0, y1;
    Window(oy, p.stride_h, p.pad_top, p.kh, p.h, &y0, &y1);
    const T* image = x + n * p.xs[0] + c0;
    for (int64_t ox = 0; ox < p.ow; ++ox) {
      int64_t x0, x1;
      Window(ox, p.stride_w, p.pad_left, p.kw, p.w, &x0, &x1);
      T* out = y + n * p.ys[0] + oy * p.ys[2] + ox * p.ys[3] + c0;
      if constexpr (kMax && std::is_same_v<T, float>) {
        MaxWindowF32(image, p.xs[2], p.xs[3], y0, y1, x0, x1, cols, out);
      } else if constexpr (kMax) {
        C m[kChannelBlock];
        for (int64_t c = 0; c < cols; ++c) m[c] = -std::numeric_limits<C>::infinity();
        for (int64_t iy = y0; iy < y1; ++iy) {
          for (int64_t ix = x0; ix < x1; ++ix) {
            const T* v = image + iy * p.xs[2] + ix * p.xs[3];
            for (int64_t c = 0; c < cols; ++c) m[c] = MaxNaN(m[c], Elem<T>::Load(v[c]));
          }
        }
        for (int64_t c = 0; c < cols; ++c) out[c] = Elem<T>::Store(m[c]);
      } else {
        double s[kChannelBlock];
        for (int64_t c = 0; c < cols; ++c) s[c] = 0;
        for (int64_t iy = y0; iy < y1; ++iy) {
          for (int64_t ix = x0; ix < x1; ++ix) {
            const T* v = image + iy * p.xs[2] + ix * p.xs[3];
            for (int64_t c = 0; c < cols; ++c) s[c] += Elem<T>::Load(v[c]);
          }
        }
        const double divisor = p.include_pad ? full : static_cast<double>((y1 - y0) * (x1 - x0));
        for (int64_t c = 0; c < cols; ++c) out[c] = Elem<T>::Store(static_cast<C>(s[c] / divisor));
      }
    }
  }
  return KILN_KERNEL_OK;
}

template <typename T>
int32_t GlobalAvgPoolKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  using C = ComputeOf<T>;
  const GlobalPoolParams& p = ParamsOf<GlobalPoolParams>(call);
  const T* x = Operand<T>(call, 0);
  T* y = MutableOperand<T>(call, 1);
  const WorkRange range = SplitWork(p.units, workgroup, workgroups);
  const double count = static_cast<double>(p.pixels);
  if (!p.nhwc) {
    // Unit: one channel plane (n, c), contiguous; 8 lanes so the sum vectorizes.
    for (int64_t u = range.begin; u < range.end; ++u) {
      const T* plane = x + u * p.pixels;
      double lanes[8] = {};
      int64_t i = 0;
      for (; i + 8 <= p.pixels; i += 8) {
        for (int k = 0; k < 8; ++k) lanes[k] += Elem<T>::Load(plane[i + k]);
      }
      for (; i < p.pixels; ++i) lanes[0] += Elem<T>::Load(plane[i]);
      double s = 0;
      for (int k = 0; k < 8; ++k) s += lanes[k];
      y[u] = Elem<T>::Store(static_cast<C>(s / count));
    }
    return KILN_KERNEL_OK;
  }
  // Unit: one block of channels of image n.
  for (int64_t u = range.begin; u < range.end; ++u) {
    const int64_t n = u / p.blocks;
    const int64_t c0 = (u % p.blocks) * kChannelBlock;
    const int64_t cols = std::min(kChannelBlock, p.c - c0);
    double s[kChannelBlock];
    for (int64_t c = 0; c < cols; ++c) s[c] = 0;
    const T* image = x + n * p.pixels * p.c + c0;
    for (int64_t q = 0; q < p.pixels; ++q) {
      const T* v = image + q * p.c;
      for (int64_t c = 0; c < cols; ++c) s[c] += Elem<T>::Load(v[c]);
    }
    for (int64_t c = 0; c < cols; ++c) y[n * p.c + c0 + c] = Elem<T>::Store(static_cast<C>(s[c] / count));
  }
  return KILN_KERNEL_OK;
}

template <bool kMax>
kiln_kernel_fn PoolFn(DataType dtype) {
  switch (dtype) {
    case DataType::kF32: return &PoolKernel<float, kMax>;
    case DataType::kF64: return &PoolKernel<double, kMax>;
    case DataType::kF16: return &PoolKernel<Half, kMax>;
    case DataType::kBF16: return &PoolKernel<BFloat16, kMax>;
    default: return nullptr;
  }
}

kiln_kernel_fn GlobalAvgPoolFn(DataType dtype) {
  switch (dtype) {
    case DataType::kF32: return &GlobalAvgPoolKernel<float>;
    case DataType::kF64: return &GlobalAvgPoolKernel<double>;
    case DataType::kF16: return &GlobalAvgPoolKernel<Half>;
    case DataType::kBF16: return &GlobalAvgPoolKernel<BFloat16>;
    default: return nullptr;
  }
}

}  // namespace

void AddPoolKernels(SymbolList& list) {
  list.AddPerType<PoolParams>("max_pool", PoolFn<true>);
  list.AddPerType<PoolParams>("avg_pool", PoolFn<false>);
  list.AddPerType<GlobalPoolParams>("global_avg_pool", GlobalAvgPoolFn);
}

}  // namespace kiln::cpu
