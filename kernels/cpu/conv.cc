// Conv2D. f32 with input channels per group > 1 runs as GEMMs: per image and group, the
// weights times an im2col matrix of the input (NCHW: C[O_g x P] = W[O_g x K] col[K x P];
// NHWC: C[P x O_g] = col[P x K] W[K x O_g]), with K = C_g * KH * KW ordered like the
// filter's layout so the filter is read in place through strides, and 1x1 stride-1
// unpadded convolutions reading the input itself as the GEMM operand. Workgroups own
// output tiles (chosen like MatMul's) and build the im2col rows of their own pixels in a
// private scratch slot. Depthwise-like convolutions (one input channel per group) and the
// other float dtypes run a direct loop that accumulates in f32 (f64 for f64).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "kernels/cpu/cpu_kernel_library.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/cpu/params.h"

namespace kiln::cpu {
namespace {

// Index of tap (ci, i, j) within K, in the filter layout's order.
inline int64_t KIndex(const ConvParams& p, int64_t ci, int64_t i, int64_t j) {
  return p.hwio ? (i * p.kw + j) * p.cg + ci : (ci * p.kh + i) * p.kw + j;
}

// Output columns [lo, hi) whose input column ox * stride + offset lies in [0, size).
inline void ValidRange(int64_t offset, int64_t stride, int64_t size, int64_t count,
                       int64_t* lo, int64_t* hi) {
  // ox >= ceil(-offset / stride) and ox <= floor((size - 1 - offset) / stride).
  int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int64_t last = size - 1 - offset < 0 ? -1 : (size - 1 - offset) / stride;
  *lo = std::min(first, count);
  *hi = std::max(*lo, std::min(last + 1, count));
}

// NCHW im2col: col[k][q] for the tile's pixels q = p0 .. p0 + count of image n, group g.
// Per tap and output row, the valid columns are found once; runs are copied (memcpy at
// stride 1) and the padding around them zeroed.
void Im2ColNchw(const ConvParams& p, const float* x, int64_t n, int64_t g, int64_t p0,
                int64_t count, float* col) {
  for (int64_t ci = 0; ci < p.cg; ++ci) {
    const float* plane = x + n * p.xs[0] + (g * p.cg + ci) * p.xs[1];
    for (int64_t i = 0; i < p.kh; ++i) {
      for (int64_t j = 0; j < p.kw; ++j) {
        float* dst = col + KIndex(p, ci, i, j) * count;
        const int64_t ix_offset = j * p.dilation_w - p.pad_left;
        int64_t lo, hi;
        ValidRange(ix_offset, p.stride_w, p.w, p.ow, &lo, &hi);
        int64_t q = 0;
        while (q < count) {
          const int64_t pixel = p0 + q;
          const int64_t oy = pixel / p.ow;
          const int64_t ox0 = pixel % p.ow;
          const int64_t run = std::min(p.ow - ox0, count - q);
          float* d = dst + q - ox0;  // indexed by output column
          const int64_t iy = oy * p.stride_h - p.pad_top + i * p.dilation_h;
          const int64_t end = ox0 + run;
          if (iy < 0 || iy >= p.h) {
            for (int64_t ox = ox0; ox < end; ++ox) d[ox] = 0.0f;
          } else {
            const float* row = plane + iy * p.xs[2] + ix_offset;
            const int64_t a = std::max(ox0, lo);
            const int64_t b = std::min(end, hi);
            for (int64_t ox = ox0; ox < std::min(a, end); ++ox) d[ox] = 0.0f;
            if (b > a) {
              if (p.stride_w == 1) {
                std::memcpy(d + a, row + a, (b - a) * sizeof(float));
              } else {
                for (int64_t ox = a; ox < b; ++ox) d[ox] = row[ox * p.stride_w];
              }
            }
            for (int64_t ox = std::max(b, ox0); ox < end; ++ox) d[ox] = 0.0f;
          }
          q += run;
        }
      }
    }
  }
}

// NHWC im2col: col[q][k] for the tile's pixels; with HWIO filters each tap is a run of
// C_g contiguous channels.
void Im2ColNhwc(const ConvParams& p, const float* x, int64_t n, int64_t g, int64_t p0,
                int64_t count, float* col) {
  const int64_t cg = p.cg;
  for (int64_t q = 0; q < count; ++q) {
    const int64_t pixel = p0 + q;
    const int64_t oy = pixel / p.ow;
    const int64_t ox = pixel % p.ow;
    float* dst = col + q * p.kdim;
    const int64_t ix0 = ox * p.stride_w - p.pad_left;
    // With one group, unit dilation and the whole filter row inside x, the taps of a
    // filter row (HWIO order: kw, then channels) are kw * C contiguous input values.
    const bool row_contiguous = p.hwio && p.groups == 1 && p.dilation_w == 1 && ix0 >= 0 &&
                                ix0 + p.kw <= p.w;
    for (int64_t i = 0; i < p.kh; ++i) {
      const int64_t iy = oy * p.stride_h - p.pad_top + i * p.dilation_h;
      const bool row_inside = iy >= 0 && iy < p.h;
      if (row_inside && row_contiguous) {
        std::memcpy(dst + i * p.kw * cg, x + n * p.xs[0] + iy * p.xs[2] + ix0 * p.xs[3],
                    p.kw * cg * sizeof(float));
        continue;
      }
      for (int64_t j = 0; j < p.kw; ++j) {
        const int64_t ix = ox * p.stride_w - p.pad_left + j * p.dilation_w;
        const bool inside = row_inside && ix >= 0 && ix < p.w;
        const float* src = x + n * p.xs[0] + iy * p.xs[2] + ix * p.xs[3] + g * cg;
        if (p.hwio) {
          float* d = dst + (i * p.kw + j) * cg;
          if (inside) {
            for (int64_t ci = 0; ci < cg; ++ci) d[ci] = src[ci];
          } else {
            for (int64_t ci = 0; ci < cg; ++ci) d[ci] = 0.0f;
          }
        } else {
          for (int64_t ci = 0; ci < cg; ++ci) {
            dst[KIndex(p, ci, i, j)] = inside ? src[ci] : 0.0f;
          }
        }
      }
    }
  }
}

// The indirect GEMM's row table for the tile's pixels p0 .. p0 + count of image n: entry
// q * taps + (i * kw + j) points at the cg input channels tap (i, j) of pixel q reads
// (from x, which the caller offsets to the group's first channel), or at `zeros` where
// the tap falls in the padding.
void IndirectionNhwc(const ConvParams& p, const float* x, int64_t n, int64_t p0, int64_t count,
                     const float* zeros, const float** rows) {
  for (int64_t q = 0; q < count; ++q) {
    const int64_t pixel = p0 + q;
    const int64_t iy0 = (pixel / p.ow) * p.stride_h - p.pad_top;
    const int64_t ix0 = (pixel % p.ow) * p.stride_w - p.pad_left;
    for (int64_t i = 0; i < p.kh; ++i) {
      const int64_t iy = iy0 + i * p.dilation_h;
      const bool row_inside = iy >= 0 && iy < p.h;
      const float* row = x + n * p.xs[0] + iy * p.xs[2];
      for (int64_t j = 0; j < p.kw; ++j) {
        const int64_t ix = ix0 + j * p.dilation_w;
        *rows++ = row_inside && ix >= 0 && ix < p.w ? row + ix * p.xs[3] : zeros;
      }
    }
  }
}

// ConvParams::merged_rows: the input rows that pixels p0 .. p0 + count of image n reach,
// copied into `window` with zeros for the padding (window_w pixels per row, the image's
// columns starting at pad_left), and per pixel and filter row one pointer at the kw * c
// contiguous floats its taps read (HWIO orders a filter row's taps, then channels, the
// same way).
void MergedRowsNhwc(const ConvParams& p, const float* x, int64_t n, int64_t p0, int64_t count,
                    float* window, const float** rows) {
  const int64_t row_floats = p.window_w * p.c;
  const int64_t oy_first = p0 / p.ow;
  const int64_t oy_last = (p0 + count - 1) / p.ow;
  const int64_t iy_lo = oy_first * p.stride_h - p.pad_top;
  const int64_t iy_hi = oy_last * p.stride_h - p.pad_top + (p.kh - 1) * p.dilation_h;
  for (int64_t iy = iy_lo; iy <= iy_hi; ++iy) {
    float* dst = window + (iy - iy_lo) * row_floats;
    if (iy < 0 || iy >= p.h) {
      std::memset(dst, 0, row_floats * sizeof(float));
      continue;
    }
    const int64_t left = p.pad_left * p.c;
    const int64_t inside = p.w * p.c;
    std::memset(dst, 0, left * sizeof(float));
    std::memcpy(dst + left, x + n * p.xs[0] + iy * p.xs[2], inside * sizeof(float));
    std::memset(dst + left + inside, 0, (row_floats - left - inside) * sizeof(float));
  }
  for (int64_t q = 0; q < count; ++q) {
    const int64_t oy = (p0 + q) / p.ow;
    const int64_t ox = (p0 + q) % p.ow;
    for (int64_t i = 0; i < p.kh; ++i) {
      const int64_t iy = oy * p.stride_h - p.pad_top + i * p.dilation_h;
      *rows++ = window + ((iy - iy_lo) * p.window_w + ox * p.stride_w) * p.c;
    }
  }
}

// The operands of a GEMM-path convolution call: x, the filter, the optional bias and
// residual (PackedConv2D; the residual comes with a bias), y and this workgroup's scratch
// slot.
struct ConvGemmOperands {
  const float* x;
  const float* f;
  const float* bias;
  const float* residual;
  float* y;
  char* slot;
};

ConvGemmOperands GemmOperandsOf(const kiln_kernel_call* call, const ConvParams& p,
                                int64_t workgroup) {
  const int out_index = 2 + (p.has_bias ? 1 : 0) + (p.has_residual ? 1 : 0);
  return {Operand<float>(call, 0), Operand<float>(call, 1),
          p.has_bias ? Operand<float>(call, 2) : nullptr,
          p.has_residual ? Operand<float>(call, 3) : nullptr,
          MutableOperand<float>(call, out_index),
          MutableOperand<char>(call, out_index + 1) +
              (workgroup % p.tiling.slots) * p.tiling.slot_bytes};
}

// Grouped NHWC convolution with an HWIO filter through the indirect GEMM. A workgroup
// tile is a range of pixels of one image with every group: its row table is built once
// (pointing at channel 0 of each tap, or at a row of C zeros) and each group reads it at
// its channel offset, with the group's og filter columns packed into the slot.
int32_t ConvGroupedIndirectF32(const kiln_kernel_call* call, int64_t workgroup,
                               int64_t workgroups) {
  const ConvParams& p = ParamsOf<ConvParams>(call);
  const MatMulTiling& t = p.tiling;
  const auto [x, f, bias, residual, y, slot] = GemmOperandsOf(call, p, workgroup);
  const SgemmImpl& impl = GetSgemmImpl(static_cast<GemmIsa>(p.isa));
  const int64_t taps = p.kh * p.kw;
  const float** rows = reinterpret_cast<const float**>(slot);
  float* zeros = reinterpret_cast<float*>(slot + RoundUp(t.tile_m * taps * 8, 64));
  float* panels = zeros + RoundUp(p.c, 16);
  std::memset(zeros, 0, p.c * sizeof(float));
  const int64_t pixels = p.oh * p.ow;
  const WorkRange range = SplitWork(p.batch * t.tiles_m, workgroup, workgroups);
  for (int64_t tile = range.begin; tile < range.end; ++tile) {
    const int64_t n = tile / t.tiles_m;
    const int64_t p0 = (tile % t.tiles_m) * t.tile_m;
    const int64_t pc = std::min(t.tile_m, pixels - p0);
    IndirectionNhwc(p, x, n, p0, pc, zeros, rows);
    for (int64_t g = 0; g < p.groups; ++g) {
      const int64_t first_o = g * p.og;
      PackBPanels(f + first_o, p.o, 1, p.og, p.kdim, impl.blocking.nr, panels);
      IgemmArgs gemm;
      gemm.m = pc;
      gemm.n = p.og;
      gemm.taps = taps;
      gemm.tap_k = p.cg;
      gemm.a_rows = rows;
      gemm.a_offset = g * p.cg;
      gemm.b_packed = panels;
      gemm.c = y + n * p.ys[0] + p0 * p.ys[3] + first_o;
      gemm.ldc = p.o;
      gemm.bias = bias != nullptr ? bias + first_o : nullptr;
      gemm.clamp = p.clamp != 0;
      gemm.clamp_min = p.clamp_min;
      gemm.clamp_max = p.clamp_max;
      impl.igemm(gemm);
    }
  }
  return KILN_KERNEL_OK;
}

// kPackedFilter: operand 1 is the NHWC GEMM's B (the HWIO filter as [K, O]) packed once in
// column panels of the GEMM's nr (PackBPanels); tiles start at multiples of nr channels.
template <bool kPackedFilter>
int32_t ConvGemmF32(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  const ConvParams& p = ParamsOf<ConvParams>(call);
  if (!kPackedFilter && p.indirect) return ConvGroupedIndirectF32(call, workgroup, workgroups);
  const MatMulTiling& t = p.tiling;
  const auto [x, f, bias, residual, y, slot] = GemmOperandsOf(call, p, workgroup);
  float* col = reinterpret_cast<float*>(slot);
  float* gemm_scratch = reinterpret_cast<float*>(slot + p.col_bytes);
  const SgemmImpl& impl = GetSgemmImpl(static_cast<GemmIsa>(p.isa));
  const int64_t pixels = p.oh * p.ow;
  const int64_t per_image = t.tiles_m * t.tiles_n;
  const WorkRange range = SplitWork(p.batch * p.groups * per_image, workgroup, workgroups);
  for (int64_t tile = range.begin; tile < range.end; ++tile) {
    const int64_t ng = tile / per_image;
    const int64_t n = ng / p.groups;
    const int64_t g = ng % p.groups;
    const int64_t rest = tile % per_image;
    const int64_t m0 = (rest / t.tiles_n) * t.tile_m;
    const int64_t n0 = (rest % t.tiles_n) * t.tile_n;
    // GEMM rows are output channels (NCHW) or pixels (NHWC).
    const int64_t o0 = p.nhwc ? n0 : m0;
    const int64_t p0 = p.nhwc ? m0 : n0;
    const int64_t oc = std::min(p.nhwc ? t.tile_n : t.tile_m, p.og - o0);
    const int64_t pc = std::min(p.nhwc ? t.tile_m : t.tile_n, pixels - p0);
    const int64_t first_o = g * p.og + o0;
    // Weights of output channels first_o.. in the GEMM's orientation.
    const float* w = f + first_o * p.fs[0];
    if (kPackedFilter && p.indirect) {
      // The tile's row table: per pixel, a pointer per filter row into a padded copy of
      // the input rows (merged_rows, few channels), or a pointer per tap into x.
      const float** rows = reinterpret_cast<const float**>(slot);
      int64_t taps, tap_k;
      if (p.merged_rows) {
        taps = p.kh;
        tap_k = p.kw * p.c;
        float* window = reinterpret_cast<float*>(slot + RoundUp(t.tile_m * p.kh * 8, 64));
        MergedRowsNhwc(p, x, n, p0, pc, window, rows);
      } else {
        taps = p.kh * p.kw;
        tap_k = p.cg;
        float* zeros = reinterpret_cast<float*>(slot + RoundUp(t.tile_m * taps * 8, 64));
        if (tile == range.begin) std::memset(zeros, 0, p.cg * sizeof(float));  // once a call
        IndirectionNhwc(p, x, n, p0, pc, zeros, rows);
      }
      IgemmArgs gemm;
      gemm.m = pc;
      gemm.n = oc;
      gemm.taps = taps;
      gemm.tap_k = tap_k;
      gemm.a_rows = rows;
      gemm.b_packed = f + (first_o / impl.blocking.nr) * p.kdim * impl.blocking.nr;
      gemm.c = y + n * p.ys[0] + p0 * p.ys[3] + first_o;
      gemm.ldc = p.o;
      gemm.bias = bias != nullptr ? bias + first_o : nullptr;
      gemm.residual = residual != nullptr ? residual + (gemm.c - y) : nullptr;
      gemm.clamp = p.clamp != 0;
      gemm.clamp_min = p.clamp_min;
      gemm.clamp_max = p.clamp_max;
      impl.igemm(gemm);
      continue;
    }
    SgemmArgs gemm;
    gemm.k = p.kdim;
    if (p.nhwc) {
      gemm.m = pc;
      gemm.n = oc;
      gemm.c = y + n * p.ys[0] + p0 * p.ys[3] + first_o;
      gemm.ldc = p.o;
      if (p.pointwise) {
        gemm.a = x + n * p.xs[0] + p0 * p.xs[3] + g * p.cg;
        gemm.a_row = p.xs[3];
      } else {
        Im2ColNhwc(p, x, n, g, p0, pc, col);
        gemm.a = col;
        gemm.a_row = p.kdim;
      }
      gemm.a_col = 1;
      if constexpr (kPackedFilter) {
        gemm.b_packed = f + (first_o / impl.blocking.nr) * p.kdim * impl.blocking.nr;
      } else {
        gemm.b = w;
        gemm.b_row = p.hwio ? p.o : 1;
        gemm.b_col = p.hwio ? 1 : p.kdim;
      }
    } else {
      gemm.m = oc;
      gemm.n = pc;
      gemm.c = y + n * p.ys[0] + first_o * p.ys[1] + p0;
      gemm.ldc = pixels;
      gemm.a = w;
      gemm.a_row = p.hwio ? 1 : p.kdim;
      gemm.a_col = p.hwio ? p.o : 1;
      if (p.pointwise) {
        gemm.b = x + n * p.xs[0] + g * p.cg * p.xs[1] + p0;
        gemm.b_row = p.xs[1];
      } else {
        Im2ColNchw(p, x, n, g, p0, pc, col);
        gemm.b = col;
        gemm.b_row = pc;
      }
      gemm.b_col = 1;
    }
    if (bias != nullptr) {
      // Start from the bias and accumulate the product onto it.
      for (int64_t r = 0; r < gemm.m; ++r) {
        float* row = gemm.c + r * gemm.ldc;
        if (p.nhwc) {
          for (int64_t q = 0; q < gemm.n; ++q) row[q] = bias[first_o + q];
        } else {
          const float b = bias[first_o + r];
          for (int64_t q = 0; q < gemm.n; ++q) row[q] = b;
        }
      }
      gemm.accumulate = true;
    }
    impl.run(gemm, gemm_scratch);
    if (p.clamp || residual != nullptr) {
      EpilogueRows(gemm.c, gemm.m, gemm.n, gemm.ldc,
                   residual != nullptr ? residual + (gemm.c - y) : nullptr, p.clamp != 0,
                   p.clamp_min, p.clamp_max);
    }
  }
  return KILN_KERNEL_OK;
}

// Direct convolution: each unit is one output row (n, o, oy) of ow pixels.
template <typename T>
int32_t ConvDirect(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  using Acc = ComputeOf<T>;
  const ConvParams& p = ParamsOf<ConvParams>(call);
  const T* x = Operand<T>(call, 0);
  const T* f = Operand<T>(call, 1);
  const T* bias = p.has_bias ? Operand<T>(call, 2) : nullptr;
  T* y = MutableOperand<T>(call, p.has_bias ? 3 : 2);
  const WorkRange range = SplitWork(p.batch * p.o * p.oh, workgroup, workgroups);
  for (int64_t unit = range.begin; unit < range.end; ++unit) {
    const int64_t oy = unit % p.oh;
    const int64_t o = (unit / p.oh) % p.o;
    const int64_t n = unit / (p.oh * p.o);
    const int64_t first_c = (o / p.og) * p.cg;
    // Filter rows whose input row lies inside x.
    const int64_t iy0 = oy * p.stride_h - p.pad_top;
    for (int64_t ox = 0; ox < p.ow; ++ox) {
      const int64_t ix0 = ox * p.stride_w - p.pad_left;
      Acc acc = bias != nullptr ? Elem<T>::Load(bias[o]) : Acc{0};
      for (int64_t ci = 0; ci < p.cg; ++ci) {
        const T* xc = x + n * p.xs[0] + (first_c + ci) * p.xs[1];
        const T* fc = f + o * p.fs[0] + ci * p.fs[1];
        for (int64_t i = 0; i < p.kh; ++i) {
          const int64_t iy = iy0 + i * p.dilation_h;
          if (iy < 0 || iy >= p.h) continue;
          for (int64_t j = 0; j < p.kw; ++j) {
            const int64_t ix = ix0 + j * p.dilation_w;
            if (ix < 0 || ix >= p.w) continue;
            acc += Elem<T>::Load(xc[iy * p.xs[2] + ix * p.xs[3]]) *
                   Elem<T>::Load(fc[i * p.fs[2] + j * p.fs[3]]);
          }
        }
      }
      if (p.clamp) {
        acc = ClampKeepingNaN(acc, static_cast<Acc>(p.clamp_min), static_cast<Acc>(p.clamp_max));
      }
      y[n * p.ys[0] + o * p.ys[1] + oy * p.ys[2] + ox * p.ys[3]] = Elem<T>::Store(acc);
    }
  }
  return KILN_KERNEL_OK;
}

// Depthwise convolution (one input and one output channel per group) in NHWC with an
// HWIO filter, f32: channels are innermost in x, the filter and y, so every tap is a
// contiguous multiply-add over a block of channels, which vectorizes. Each unit is one
// output row (n, oy). The sums run in ConvDirect's order (bias, then the taps row by row).
//
// The same loop runs groups of kGroup = 2, 4 or 8 input and output channels (ResNeXt's
// 32 groups of 4 and 8): output channel k of a vector reads input channel
// (k / kGroup) * kGroup + c for each c < kGroup, which lies in the same 8 channels, so
// each tap is kGroup multiply-adds of an in-register shuffle of one input vector (a
// broadcast within each group) by the filter's row c. The indirect GEMM ran these at 4 of
// the AVX2 panel's 16 columns (ResNeXt's 56x56 groups of 4: 1.6 ms on 2 threads).
//
// The channel block is a compile-time kDepthwiseBlock wide (its accumulators stay in
// registers), and pixels whose taps all lie inside the row horizontally go kPix at a time:
// each filter vector then serves kPix pixels, and the kPix x block accumulators are
// independent chains, enough to hide the FMA latency.
constexpr int64_t kDepthwiseBlock = 16;

// 8 floats as one vector (a ymm register in the AVX2 build, two xmm otherwise), and its
// unaligned, aliasing view for loads and stores.
typedef float Float8 __attribute__((vector_size(32)));
typedef float Float8U __attribute__((vector_size(32), aligned(4), may_alias));

// acc += the input channel kC of each lane's group (lane k reads channel
// (k / kGroup) * kGroup + kC of `in`, a constant shuffle) times the filter's row kC at
// `row`, for every kC in the sequence.
template <int kGroup, int... kC>
__attribute__((always_inline)) inline void GroupTaps(Float8& acc, const Float8& in,
                                                     const float* row, int64_t c_stride,
                                                     std::integer_sequence<int, kC...>) {
  ((acc += __builtin_shufflevector(in, in, 0 / kGroup * kGroup + kC, 1 / kGroup * kGroup + kC,
                                   2 / kGroup * kGroup + kC, 3 / kGroup * kGroup + kC,
                                   4 / kGroup * kGroup + kC, 5 / kGroup * kGroup + kC,
                                   6 / kGroup * kGroup + kC, 7 / kGroup * kGroup + kC) *
          *reinterpret_cast<const Float8U*>(row + kC * c_stride)),
   ...);
}

// Output pixels ox .. ox + kPix - 1 of row (n, oy), channels [c0, c0 + cols) with cols
// == kDepthwiseBlock when kFull (then in explicit vectors, so the accumulators are
// registers whatever the auto-vectorizer makes of the loop). kCheck: test each tap's
// column against the row.
template <int kGroup, int kPix, bool kFull, bool kCheck>
__attribute__((always_inline)) inline void DepthwisePixels(const ConvParams& p, const float* x,
                                                          const float* f, const float* bias,
                                                          float* y, int64_t n, int64_t oy,
                                                          int64_t ox, int64_t c0, int64_t cols) {
  constexpr int kVecs = kDepthwiseBlock / 8;
  constexpr int64_t kBlock = kDepthwiseBlock;
  const int64_t iy0 = oy * p.stride_h - p.pad_top;
  if constexpr (kFull) {
    Float8 acc[kPix][kVecs];
#pragma GCC unroll 8
    for (int v = 0; v < kVecs; ++v) {
      const Float8 init = bias != nullptr ? *reinterpret_cast<const Float8U*>(bias + c0 + 8 * v)
                                          : Float8{};
#pragma GCC unroll 8
      for (int q = 0; q < kPix; ++q) acc[q][v] = init;
    }
    for (int64_t i = 0; i < p.kh; ++i) {
      const int64_t iy = iy0 + i * p.dilation_h;
      if (iy < 0 || iy >= p.h) continue;
      const float* xrow = x + n * p.xs[0] + iy * p.xs[2] + c0;
      for (int64_t j = 0; j < p.kw; ++j) {
        const float* fp = f + i * p.fs[2] + j * p.fs[3] + c0;
        Float8 w[kVecs];
        if constexpr (kGroup == 1) {
#pragma GCC unroll 8
          for (int v = 0; v < kVecs; ++v) w[v] = *reinterpret_cast<const Float8U*>(fp + 8 * v);
        }
#pragma GCC unroll 8
        for (int q = 0; q < kPix; ++q) {
          const int64_t ix = (ox + q) * p.stride_w - p.pad_left + j * p.dilation_w;
          if (kCheck && (ix < 0 || ix >= p.w)) continue;
          const float* xp = xrow + ix * p.xs[3];
#pragma GCC unroll 8
          for (int v = 0; v < kVecs; ++v) {
            const Float8 in = *reinterpret_cast<const Float8U*>(xp + 8 * v);
            if constexpr (kGroup == 1) {
              acc[q][v] += in * w[v];
            } else {
              GroupTaps<kGroup>(acc[q][v], in, fp + 8 * v, p.fs[1],
                                std::make_integer_sequence<int, kGroup>());
            }
          }
        }
      }
    }
    if (p.clamp) {
      const Float8 lo = Float8{} + p.clamp_min;
      const Float8 hi = Float8{} + p.clamp_max;
#pragma GCC unroll 8
      for (int q = 0; q < kPix; ++q) {
#pragma GCC unroll 8
        for (int v = 0; v < kVecs; ++v) acc[q][v] = ClampKeepingNaN(acc[q][v], lo, hi);
      }
    }
#pragma GCC unroll 8
    for (int q = 0; q < kPix; ++q) {
      float* yp = y + n * p.ys[0] + oy * p.ys[2] + (ox + q) * p.ys[3] + c0;
#pragma GCC unroll 8
      for (int v = 0; v < kVecs; ++v) *reinterpret_cast<Float8U*>(yp + 8 * v) = acc[q][v];
    }
  } else {
    float acc[kPix][kBlock];
    for (int q = 0; q < kPix; ++q) {
      for (int64_t k = 0; k < cols; ++k) acc[q][k] = bias != nullptr ? bias[c0 + k] : 0.0f;
    }
    for (int64_t i = 0; i < p.kh; ++i) {
      const int64_t iy = iy0 + i * p.dilation_h;
      if (iy < 0 || iy >= p.h) continue;
      const float* xrow = x + n * p.xs[0] + iy * p.xs[2] + c0;
      for (int64_t j = 0; j < p.kw; ++j) {
        const float* fp = f + i * p.fs[2] + j * p.fs[3] + c0;
        for (int q = 0; q < kPix; ++q) {
          const int64_t ix = (ox + q) * p.stride_w - p.pad_left + j * p.dilation_w;
          if (kCheck && (ix < 0 || ix >= p.w)) continue;
          const float* xp = xrow + ix * p.xs[3];
          for (int64_t k = 0; k < cols; ++k) {
            const int64_t first = k / kGroup * kGroup;
            for (int c = 0; c < kGroup; ++c) acc[q][k] += xp[first + c] * fp[c * p.fs[1] + k];
          }
        }
      }
    }
    for (int q = 0; q < kPix; ++q) {
      float* yp = y + n * p.ys[0] + oy * p.ys[2] + (ox + q) * p.ys[3] + c0;
      for (int64_t k = 0; k < cols; ++k) {
        yp[k] = p.clamp ? ClampKeepingNaN(acc[q][k], p.clamp_min, p.clamp_max) : acc[q][k];
      }
    }
  }
}

// Every channel block of kPix pixels.
template <int kGroup, int kPix, bool kCheck>
__attribute__((always_inline)) inline void DepthwiseChannels(const ConvParams& p, const float* x,
                                                            const float* f, const float* bias,
                                                            float* y, int64_t n, int64_t oy,
                                                            int64_t ox) {
  int64_t c0 = 0;
  for (; c0 + kDepthwiseBlock <= p.o; c0 += kDepthwiseBlock) {
    DepthwisePixels<kGroup, kPix, true, kCheck>(p, x, f, bias, y, n, oy, ox, c0,
                                                kDepthwiseBlock);
  }
  if (c0 < p.o) {
    DepthwisePixels<kGroup, kPix, false, kCheck>(p, x, f, bias, y, n, oy, ox, c0, p.o - c0);
  }
}

template <int kGroup>
__attribute__((always_inline)) inline int32_t DepthwiseNhwcBody(const kiln_kernel_call* call,
                                                                int64_t workgroup,
                                                                int64_t workgroups) {
  constexpr int kPix = 4;
  const ConvParams& p = ParamsOf<ConvParams>(call);
  const float* x = Operand<float>(call, 0);
  const float* f = Operand<float>(call, 1);
  const float* bias = p.has_bias ? Operand<float>(call, 2) : nullptr;
  float* y = MutableOperand<float>(call, p.has_bias ? 3 : 2);
  // Output columns whose first and last taps both lie inside the row.
  int64_t first_lo, first_hi, last_lo, last_hi;
  ValidRange(-p.pad_left, p.stride_w, p.w, p.ow, &first_lo, &first_hi);
  ValidRange(-p.pad_left + (p.kw - 1) * p.dilation_w, p.stride_w, p.w, p.ow, &last_lo, &last_hi);
  const int64_t inner_lo = std::max(first_lo, last_lo);
  const int64_t inner_hi = std::max(inner_lo, std::min(first_hi, last_hi));
  const WorkRange range = SplitWork(p.batch * p.oh, workgroup, workgroups);
  for (int64_t unit = range.begin; unit < range.end; ++unit) {
    const int64_t n = unit / p.oh;
    const int64_t oy = unit % p.oh;
    int64_t ox = 0;
    for (; ox < inner_lo; ++ox) DepthwiseChannels<kGroup, 1, true>(p, x, f, bias, y, n, oy, ox);
    for (; ox + kPix <= inner_hi; ox += kPix) {
      DepthwiseChannels<kGroup, kPix, false>(p, x, f, bias, y, n, oy, ox);
    }
    for (; ox < inner_hi; ++ox) DepthwiseChannels<kGroup, 1, false>(p, x, f, bias, y, n, oy, ox);
    for (; ox < p.ow; ++ox) DepthwiseChannels<kGroup, 1, true>(p, x, f, bias, y, n, oy, ox);
  }
  return KILN_KERNEL_OK;
}

// Groups of 2, 4 or 8 channels in and out (prepare checks it).
__attribute__((always_inline)) inline int32_t SmallGroupNhwcBody(const kiln_kernel_call* call,
                                                                 int64_t workgroup,
                                                                 int64_t workgroups) {
  switch (ParamsOf<ConvParams>(call).cg) {
    case 2: return DepthwiseNhwcBody<2>(call, workgroup, workgroups);
    case 4: return DepthwiseNhwcBody<4>(call, workgroup, workgroups);
    case 8: return DepthwiseNhwcBody<8>(call, workgroup, workgroups);
    default: return KILN_KERNEL_INTERNAL;
  }
}

int32_t DepthwiseNhwcF32(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  return DepthwiseNhwcBody<1>(call, workgroup, workgroups);
}

int32_t SmallGroupNhwcF32(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  return SmallGroupNhwcBody(call, workgroup, workgroups);
}

// The same loops compiled for AVX2 + FMA, chosen at prepare time where the CPU has them.
__attribute__((target("avx2,fma"))) int32_t DepthwiseNhwcF32Avx2(const kiln_kernel_call* call,
                                                                 int64_t workgroup,
                                                                 int64_t workgroups) {
  return DepthwiseNhwcBody<1>(call, workgroup, workgroups);
}

__attribute__((target("avx2,fma"))) int32_t SmallGroupNhwcF32Avx2(const kiln_kernel_call* call,
                                                                  int64_t workgroup,
                                                                  int64_t workgroups) {
  return SmallGroupNhwcBody(call, workgroup, workgroups);
}

kiln_kernel_fn DirectFn(DataType dtype) {
  switch (dtype) {
    case DataType::kF32: return &ConvDirect<float>;
    case DataType::kF64: return &ConvDirect<double>;
    case DataType::kF16: return &ConvDirect<Half>;
    case DataType::kBF16: return &ConvDirect<BFloat16>;
    default: return nullptr;
  }
}

}  // namespace

// "cpu.conv2d.f32.<isa>": im2col (or none, pointwise) and the packed GEMM;
// "cpu.conv2d_direct.<dtype>": the direct loop (other dtypes, depthwise, empty outputs).
void AddConvKernels(SymbolList& list) {
  for (GemmIsa isa : kGemmIsas) {
    list.Add<ConvParams>(GemmSymbolName("conv2d", isa), &ConvGemmF32<false>,
                         GemmIsaCpuFeatures(isa));
    list.Add<ConvParams>(GemmSymbolName("packed_conv2d", isa), &ConvGemmF32<true>,
                         GemmIsaCpuFeatures(isa));
  }
  list.AddPerType<ConvParams>("conv2d_direct", DirectFn);
  list.Add<ConvParams>("cpu.depthwise_conv2d_nhwc.f32", &DepthwiseNhwcF32);
  list.Add<ConvParams>("cpu.depthwise_conv2d_nhwc.f32.avx2", &DepthwiseNhwcF32Avx2, kCpuAvx2Fma);
  list.Add<ConvParams>("cpu.small_group_conv2d_nhwc.f32", &SmallGroupNhwcF32);
  list.Add<ConvParams>("cpu.small_group_conv2d_nhwc.f32.avx2", &SmallGroupNhwcF32Avx2,
                       kCpuAvx2Fma);
}

}  // namespace kiln::cpu
