// MaxPool, AvgPool and GlobalAvgPool on float dtypes, NCHW or NHWC. Windows are clipped
// to the input once per output row and column, so the taps loop has no bounds checks.
// NCHW walks each output row of a channel plane; NHWC accumulates whole channel vectors
// (contiguous) per window tap. Sums accumulate in double; maxima propagate NaN.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/cpu/cpu_kernel_provider.h"
#include "kernels/cpu/fast_math.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/cpu/kernels.h"

namespace kiln::cpu {
namespace {

constexpr int64_t kChannelBlock = 128;

struct PoolParams {
  int64_t n, c, h, w, oh, ow;
  int64_t kh, kw, stride_h, stride_w, pad_top, pad_left;
  int32_t nhwc;
  int32_t include_pad;
  int64_t xs[4];  // strides of n, c, h, w
  int64_t ys[4];
  int64_t units;
  int64_t blocks;  // NHWC channel blocks
};

// Clipped window [begin, end) of output position `o` along one dim.
inline void Window(int64_t o, int64_t stride, int64_t pad, int64_t kernel, int64_t size,
                   int64_t* begin, int64_t* end) {
  const int64_t start = o * stride - pad;
  *begin = std::max<int64_t>(start, 0);
  *end = std::min<int64_t>(start + kernel, size);
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
      if constexpr (kMax) {
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

struct GlobalPoolParams {
  int64_t n, c, pixels;
  int32_t nhwc;
  int32_t unused;
  int64_t units;
  int64_t blocks;
};

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

void Layout(const Shape& s, bool nhwc, int64_t out[4]) {
  const std::vector<int64_t> st = Strides(s);
  out[0] = st[0];
  out[1] = st[nhwc ? 3 : 1];
  out[2] = st[nhwc ? 1 : 2];
  out[3] = st[nhwc ? 2 : 3];
}

}  // namespace

PrepareResult PreparePool(const PrepareContext& ctx) {
  const DataType dtype = ctx.inputs[0].dtype;
  const bool is_max = ctx.variant == kMaxPool;
  kiln_kernel_fn fn = is_max ? PoolFn<true>(dtype) : PoolFn<false>(dtype);
  if (fn == nullptr) return UnsupportedDtype(ctx.node, dtype);
  const Shape& x = ctx.inputs[0].shape;
  const Shape& y = ctx.output().shape;
  PoolParams p{};
  p.nhwc = ctx.node.string_attr("data_format") == "NHWC";
  const int c = p.nhwc ? 3 : 1, h = p.nhwc ? 1 : 2, w = p.nhwc ? 2 : 3;
  p.n = x.dim(0);
  p.c = x.dim(c);
  p.h = x.dim(h);
  p.w = x.dim(w);
  p.oh = y.dim(h);
  p.ow = y.dim(w);
  const std::vector<int64_t>& kernel = ctx.node.ints_attr("kernel");
  const std::vector<int64_t>& strides = ctx.node.ints_attr("strides");
  const std::vector<int64_t>& pads = ctx.node.ints_attr("pads");
  p.kh = kernel[0];
  p.kw = kernel[1];
  p.stride_h = strides[0];
  p.stride_w = strides[1];
  p.pad_top = pads[0];
  p.pad_left = pads[1];
  p.include_pad = !is_max && ctx.node.bool_attr("count_include_pad");
  Layout(x, p.nhwc, p.xs);
  Layout(y, p.nhwc, p.ys);
  p.blocks = (p.c + kChannelBlock - 1) / kChannelBlock;
  p.units = p.nhwc ? p.n * p.oh * p.blocks : p.n * p.c * p.oh;
  const int64_t unit_work = std::max<int64_t>(
      1, p.ow * p.kh * p.kw * (p.nhwc ? std::min(p.c, kChannelBlock) : 1));
  const int64_t groups = y.NumElements() == 0 ? 1 : WorkgroupsFor(p.units, (int64_t{1} << 15) / unit_work + 1);
  return MakeKernel(fn, p, groups, KernelName(ctx.node, dtype));
}

PrepareResult PrepareGlobalAvgPool(const PrepareContext& ctx) {
  const DataType dtype = ctx.inputs[0].dtype;
  kiln_kernel_fn fn = nullptr;
  switch (dtype) {
    case DataType::kF32: fn = &GlobalAvgPoolKernel<float>; break;
    case DataType::kF64: fn = &GlobalAvgPoolKernel<double>; break;
    case DataType::kF16: fn = &GlobalAvgPoolKernel<Half>; break;
    case DataType::kBF16: fn = &GlobalAvgPoolKernel<BFloat16>; break;
    default: return UnsupportedDtype(ctx.node, dtype);
  }
  const Shape& x = ctx.inputs[0].shape;
  GlobalPoolParams p{};
  p.nhwc = ctx.node.string_attr("data_format") == "NHWC";
  p.n = x.dim(0);
  p.c = x.dim(p.nhwc ? 3 : 1);
  p.pixels = x.dim(p.nhwc ? 1 : 2) * x.dim(p.nhwc ? 2 : 3);
  p.blocks = (p.c + kChannelBlock - 1) / kChannelBlock;
  p.units = p.nhwc ? p.n * p.blocks : p.n * p.c;
  const int64_t unit_work = std::max<int64_t>(1, p.pixels * (p.nhwc ? std::min(p.c, kChannelBlock) : 1));
  const int64_t groups =
      x.NumElements() == 0 ? 1 : WorkgroupsFor(p.units, (int64_t{1} << 15) / unit_work + 1);
  return MakeKernel(fn, p, groups, KernelName(ctx.node, dtype));
}

}  // namespace kiln::cpu
