// The F(4x4, 3x3) and F(2x2, 3x3) Winograd convolution kernel (kernels/cpu/winograd.h) and its filter
// transform. Per workgroup unit (a block of output tiles and a group of output channels):
// the block's input tiles are transformed (V = B^T d B, 36 positions x tiles x channels),
// each of the 36 positions is one GEMM of the tiles' V rows against the prepacked U of that
// position (the indirect GEMM over contiguous rows: no packing of either operand), and each
// tile's 36 products are transformed back (Y = A^T M A) with the bias, residual and clamp
// applied before the single store. NHWC puts channels innermost, so both transforms run
// on vectors of channels; the transforms cost O(36 * C) per tile against the GEMMs'
// O(36 * C * O).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu/cpu_kernel_library.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/cpu/params.h"
#include "kernels/cpu/winograd.h"

namespace kiln::cpu {

namespace {

// G (m + 2 x 3) of F(4x4, 3x3) and F(2x2, 3x3).
constexpr double kG4[6][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};
constexpr double kG2[4][3] = {
    {1, 0, 0},
    {0.5, 0.5, 0.5},
    {0.5, -0.5, 0.5},
    {0, 0, 1},
};

}  // namespace

int64_t WinogradFilterFloats(int m, int64_t c, int64_t o, int64_t nr) {
  return WinogradPositions(m) * PackedBFloats(o, c, nr);
}

void PackWinogradFilter(int m, const float* hwio, int64_t c, int64_t o, int64_t nr, float* dst) {
  const int a_edge = m + 2;
  const double* g_matrix = m == 4 ? &kG4[0][0] : &kG2[0][0];
  auto G = [&](int i, int k) { return g_matrix[i * 3 + k]; };
  // u[xi] is position xi's c x o matrix, row-major, before packing.
  std::vector<float> u(WinogradPositions(m) * c * o);
  for (int64_t ci = 0; ci < c; ++ci) {
    for (int64_t oi = 0; oi < o; ++oi) {
      double g[3][3];
      for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) g[a][b] = hwio[((a * 3 + b) * c + ci) * o + oi];
      }
      double gg[6][3];  // G g
      for (int i = 0; i < a_edge; ++i) {
        for (int b = 0; b < 3; ++b) {
          double s = 0;
          for (int a = 0; a < 3; ++a) s += G(i, a) * g[a][b];
          gg[i][b] = s;
        }
      }
      for (int i = 0; i < a_edge; ++i) {
        for (int j = 0; j < a_edge; ++j) {
          double s = 0;
          for (int b = 0; b < 3; ++b) s += gg[i][b] * G(j, b);
          u[((i * a_edge + j) * c + ci) * o + oi] = static_cast<float>(s);
        }
      }
    }
  }
  const int64_t per_point = PackedBFloats(o, c, nr);
  for (int xi = 0; xi < WinogradPositions(m); ++xi) {
    PackBPanels(u.data() + xi * c * o, o, 1, o, c, nr, dst + xi * per_point);
  }
}

namespace {

// 4, 8 and 16 floats as one vector, each the native width of the build that uses it
// (SSE2, AVX2, AVX-512: no vector wider than the target's registers to split, which also
// keeps the compile fast), and their unaligned, aliasing views for loads and stores.
typedef float Float4 __attribute__((vector_size(16)));
typedef float Float4U __attribute__((vector_size(16), aligned(4), may_alias));
typedef float Float8 __attribute__((vector_size(32)));
typedef float Float8U __attribute__((vector_size(32), aligned(4), may_alias));
typedef float Float16 __attribute__((vector_size(64)));
typedef float Float16U __attribute__((vector_size(64), aligned(4), may_alias));

template <typename T>
constexpr int64_t kLanesOf = sizeof(T) / sizeof(float);

// Loads and stores of a channel vector (T = Float4, Float8, Float16) or of one channel
// (T = float).
template <typename T>
__attribute__((always_inline)) inline T LoadAt(const float* p) {
  if constexpr (sizeof(T) == sizeof(float)) {
    return *p;
  } else if constexpr (sizeof(T) == 16) {
    return *reinterpret_cast<const Float4U*>(p);
  } else if constexpr (sizeof(T) == 32) {
    return *reinterpret_cast<const Float8U*>(p);
  } else {
    return *reinterpret_cast<const Float16U*>(p);
  }
}
template <typename T>
__attribute__((always_inline)) inline void StoreAt(float* p, T v) {
  if constexpr (sizeof(T) == sizeof(float)) {
    *p = v;
  } else if constexpr (sizeof(T) == 16) {
    *reinterpret_cast<Float4U*>(p) = v;
  } else if constexpr (sizeof(T) == 32) {
    *reinterpret_cast<Float8U*>(p) = v;
  } else {
    *reinterpret_cast<Float16U*>(p) = v;
  }
}

// t = B^T d for one column of kM + 2 values (B^T's rows written out: no multiplications by
// zero, which would cost time and turn an infinity into NaN in more places).
template <int kM, typename T>
__attribute__((always_inline)) inline void InputTransform(const T* d, T* t) {
  if constexpr (kM == 4) {
    const T four = T{} + 4.0f;
    const T two = T{} + 2.0f;
    const T five = T{} + 5.0f;
    t[0] = four * d[0] - five * d[2] + d[4];
    t[1] = (d[3] + d[4]) - four * (d[1] + d[2]);
    t[2] = (d[4] - d[3]) + four * (d[1] - d[2]);
    t[3] = (d[4] - d[2]) + two * (d[3] - d[1]);
    t[4] = (d[4] - d[2]) - two * (d[3] - d[1]);
    t[5] = four * d[1] - five * d[3] + d[5];
  } else {
    t[0] = d[0] - d[2];
    t[1] = d[1] + d[2];
    t[2] = d[2] - d[1];
    t[3] = d[1] - d[3];
  }
}

// y = A^T m for one column of kM + 2 products.
template <int kM, typename T>
__attribute__((always_inline)) inline void OutputTransform(const T* m, T* y) {
  if constexpr (kM == 4) {
    const T two = T{} + 2.0f;
    const T four = T{} + 4.0f;
    const T eight = T{} + 8.0f;
    const T a = m[1] + m[2];
    const T b = m[1] - m[2];
    const T c = m[3] + m[4];
    const T d = m[3] - m[4];
    y[0] = m[0] + a + c;
    y[1] = b + two * d;
    y[2] = a + four * c;
    y[3] = b + eight * d + m[5];
  } else {
    y[0] = m[0] + m[1] + m[2];
    y[1] = m[1] - m[2] - m[3];
  }
}

// The geometry of one output tile: its image, the input tile's top-left corner, which of
// its input rows and columns lie inside the image, and how many output rows and columns
// lie inside the output.
struct TileGeometry {
  int64_t n;
  int64_t iy0;
  int64_t ix0;
  int64_t oy0;
  int64_t ox0;
  uint32_t row_mask;
  uint32_t col_mask;
  int rows;
  int cols;
};

template <int kM>
TileGeometry GeometryOf(const WinogradParams& p, int64_t tile) {
  const int64_t per_image = p.tiles_h * p.tiles_w;
  TileGeometry g;
  g.n = tile / per_image;
  const int64_t rest = tile % per_image;
  g.oy0 = (rest / p.tiles_w) * kM;
  g.ox0 = (rest % p.tiles_w) * kM;
  g.iy0 = g.oy0 - p.pad_top;
  g.ix0 = g.ox0 - p.pad_left;
  g.row_mask = 0;
  g.col_mask = 0;
  for (int i = 0; i < kM + 2; ++i) {
    if (g.iy0 + i >= 0 && g.iy0 + i < p.h) g.row_mask |= 1u << i;
    if (g.ix0 + i >= 0 && g.ix0 + i < p.w) g.col_mask |= 1u << i;
  }
  g.rows = static_cast<int>(std::min<int64_t>(kM, p.oh - g.oy0));
  g.cols = static_cast<int>(std::min<int64_t>(kM, p.ow - g.ox0));
  return g;
}

// V's rows of one tile for channels [c0, c0 + width of T): position xi at
// v + xi * point_stride + c0.
template <int kM, typename T, bool kInside>
__attribute__((always_inline)) inline void TransformInputChannels(const WinogradParams& p,
                                                                  const float* x,
                                                                  const TileGeometry& g,
                                                                  int64_t c0, float* v,
                                                                  int64_t point_stride) {
  constexpr int kA = kM + 2;
  T d[kA][kA];
#pragma GCC unroll 6
  for (int i = 0; i < kA; ++i) {
    const float* row = x + ((g.n * p.h + g.iy0 + i) * p.w + g.ix0) * p.c + c0;
#pragma GCC unroll 6
    for (int j = 0; j < kA; ++j) {
      if (kInside || ((g.row_mask >> i) & (g.col_mask >> j) & 1u) != 0) {
        d[i][j] = LoadAt<T>(row + j * p.c);
      } else {
        d[i][j] = T{};
      }
    }
  }
  // Columns, then rows: V = (B^T d) B.
  T t[kA][kA];
#pragma GCC unroll 6
  for (int j = 0; j < kA; ++j) {
    T column[kA], out[kA];
#pragma GCC unroll 6
    for (int i = 0; i < kA; ++i) column[i] = d[i][j];
    InputTransform<kM>(column, out);
#pragma GCC unroll 6
    for (int i = 0; i < kA; ++i) t[i][j] = out[i];
  }
#pragma GCC unroll 6
  for (int i = 0; i < kA; ++i) {
    T out[kA];
    InputTransform<kM>(t[i], out);
#pragma GCC unroll 6
    for (int j = 0; j < kA; ++j) StoreAt<T>(v + (i * kA + j) * point_stride + c0, out[j]);
  }
}

template <int kM, typename Vec, bool kInside>
__attribute__((always_inline)) inline void TransformInputTile(const WinogradParams& p,
                                                              const float* x,
                                                              const TileGeometry& g, float* v,
                                                              int64_t point_stride) {
  int64_t c0 = 0;
  for (; c0 + kLanesOf<Vec> <= p.c; c0 += kLanesOf<Vec>) {
    TransformInputChannels<kM, Vec, kInside>(p, x, g, c0, v, point_stride);
  }
  for (; c0 < p.c; ++c0) {
    TransformInputChannels<kM, float, kInside>(p, x, g, c0, v, point_stride);
  }
}

// The output tile of `g` for channels [o0 + c0, + width of T) from the products of
// M's row (tile q; position xi at m + xi * point_stride + c0), plus bias and residual,
// clamped, stored where the tile lies inside the output.
template <int kM, typename T, bool kFull>
__attribute__((always_inline)) inline void TransformOutputChannels(
    const WinogradParams& p, const TileGeometry& g, const float* m, int64_t point_stride,
    int64_t c0, int64_t o0, const float* bias, const float* residual, float* y) {
  constexpr int kA = kM + 2;
  T s[kM][kA];  // A^T M
#pragma GCC unroll 6
  for (int j = 0; j < kA; ++j) {
    T column[kA], out[kM];
#pragma GCC unroll 6
    for (int i = 0; i < kA; ++i) column[i] = LoadAt<T>(m + (i * kA + j) * point_stride + c0);
    OutputTransform<kM>(column, out);
#pragma GCC unroll 4
    for (int r = 0; r < kM; ++r) s[r][j] = out[r];
  }
  const int64_t channel = o0 + c0;
  const T b = bias != nullptr ? LoadAt<T>(bias + channel) : T{};
  const T lo = T{} + p.clamp_min;
  const T hi = T{} + p.clamp_max;
#pragma GCC unroll 4
  for (int r = 0; r < kM; ++r) {
    if (!kFull && r >= g.rows) break;
    T out[kM];
    OutputTransform<kM>(s[r], out);
    const int64_t offset = ((g.n * p.oh + g.oy0 + r) * p.ow + g.ox0) * p.o + channel;
#pragma GCC unroll 4
    for (int q = 0; q < kM; ++q) {
      if (!kFull && q >= g.cols) break;
      T v = out[q] + b;
      if (residual != nullptr) v += LoadAt<T>(residual + offset + q * p.o);
      if (p.clamp) v = ClampKeepingNaN(v, lo, hi);
      StoreAt<T>(y + offset + q * p.o, v);
    }
  }
}

template <int kM, typename Vec, bool kFull>
__attribute__((always_inline)) inline void TransformOutputTile(
    const WinogradParams& p, const TileGeometry& g, const float* m, int64_t point_stride,
    int64_t o0, int64_t oc, const float* bias, const float* residual, float* y) {
  int64_t c0 = 0;
  for (; c0 + kLanesOf<Vec> <= oc; c0 += kLanesOf<Vec>) {
    TransformOutputChannels<kM, Vec, kFull>(p, g, m, point_stride, c0, o0, bias, residual, y);
  }
  for (; c0 < oc; ++c0) {
    TransformOutputChannels<kM, float, kFull>(p, g, m, point_stride, c0, o0, bias, residual, y);
  }
}

// Operands: x, U (packed), [bias], [residual], y, scratch. Vec: the build's vector.
template <int kM, typename Vec>
__attribute__((always_inline)) inline int32_t WinogradBody(const kiln_kernel_call* call,
                                                           int64_t workgroup,
                                                           int64_t workgroups) {
  constexpr int kPositions = WinogradPositions(kM);
  constexpr uint32_t kAllInside = (1u << (kM + 2)) - 1;
  const WinogradParams& p = ParamsOf<WinogradParams>(call);
  // An empty output has no scratch operand either.
  if (p.blocks == 0) return KILN_KERNEL_OK;
  const float* x = Operand<float>(call, 0);
  const float* u = Operand<float>(call, 1);
  const float* bias = p.has_bias ? Operand<float>(call, 2) : nullptr;
  const float* residual = p.has_residual ? Operand<float>(call, 3) : nullptr;
  const int out_index = 2 + p.has_bias + p.has_residual;
  float* y = MutableOperand<float>(call, out_index);
  char* slot =
      MutableOperand<char>(call, out_index + 1) + (workgroup % p.slots) * p.slot_bytes;
  const SgemmImpl& impl = GetSgemmImpl(static_cast<GemmIsa>(p.isa));
  const int64_t nr = impl.blocking.nr;
  float* v = reinterpret_cast<float*>(slot);
  const int64_t v_point = p.block_tiles * p.v_stride;
  float* m = v + RoundUp(kPositions * v_point, 16);
  const int64_t m_point = p.block_tiles * p.o_chunk;
  const int64_t u_point = PackedBFloats(p.o, p.c, nr);
  const int64_t total_tiles = p.batch * p.tiles_h * p.tiles_w;
  const WorkRange range = SplitWork(p.blocks * p.o_groups, workgroup, workgroups);
  int64_t transformed_block = -1;
  for (int64_t unit = range.begin; unit < range.end; ++unit) {
    const int64_t block = unit / p.o_groups;
    const int64_t group = unit % p.o_groups;
    const int64_t first_tile = block * p.block_tiles;
    const int64_t tiles = std::min(p.block_tiles, total_tiles - first_tile);
    if (block != transformed_block) {
      for (int64_t q = 0; q < tiles; ++q) {
        const TileGeometry g = GeometryOf<kM>(p, first_tile + q);
        if (g.row_mask == kAllInside && g.col_mask == kAllInside) {
          TransformInputTile<kM, Vec, true>(p, x, g, v + q * p.v_stride, v_point);
        } else {
          TransformInputTile<kM, Vec, false>(p, x, g, v + q * p.v_stride, v_point);
        }
      }
      transformed_block = block;
    }
    const int64_t group_end = std::min(p.o, (group + 1) * p.o_per_group);
    for (int64_t o0 = group * p.o_per_group; o0 < group_end; o0 += p.o_chunk) {
      const int64_t oc = std::min(p.o_chunk, group_end - o0);
      for (int xi = 0; xi < kPositions; ++xi) {
        IgemmArgs gemm;
        gemm.m = tiles;
        gemm.n = oc;
        gemm.taps = 1;
        gemm.tap_k = p.c;
        gemm.a = v + xi * v_point;
        gemm.a_row = p.v_stride;
        gemm.b_packed = u + xi * u_point + (o0 / nr) * p.c * nr;
        gemm.c = m + xi * m_point;
        gemm.ldc = p.o_chunk;
        impl.igemm(gemm);
      }
      for (int64_t q = 0; q < tiles; ++q) {
        const TileGeometry g = GeometryOf<kM>(p, first_tile + q);
        if (g.rows == kM && g.cols == kM) {
          TransformOutputTile<kM, Vec, true>(p, g, m + q * p.o_chunk, m_point, o0, oc, bias,
                                             residual, y);
        } else {
          TransformOutputTile<kM, Vec, false>(p, g, m + q * p.o_chunk, m_point, o0, oc, bias,
                                              residual, y);
        }
      }
    }
  }
  return KILN_KERNEL_OK;
}

template <typename Vec>
__attribute__((always_inline)) inline int32_t WinogradDispatch(const kiln_kernel_call* call,
                                                               int64_t workgroup,
                                                               int64_t workgroups) {
  return ParamsOf<WinogradParams>(call).tile == 4
             ? WinogradBody<4, Vec>(call, workgroup, workgroups)
             : WinogradBody<2, Vec>(call, workgroup, workgroups);
}

int32_t WinogradConvF32(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  return WinogradDispatch<Float4>(call, workgroup, workgroups);
}

// The same loops compiled for AVX2 + FMA and for AVX-512, chosen at prepare time where
// the CPU has them (the GEMMs dispatch on their own through the params' isa).
__attribute__((target("avx2,fma"))) int32_t WinogradConvF32Avx2(const kiln_kernel_call* call,
                                                                int64_t workgroup,
                                                                int64_t workgroups) {
  return WinogradDispatch<Float8>(call, workgroup, workgroups);
}

__attribute__((target("avx512f,avx2,fma"))) int32_t WinogradConvF32Avx512(
    const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  return WinogradDispatch<Float16>(call, workgroup, workgroups);
}

}  // namespace

void AddWinogradKernels(SymbolList& list) {
  list.Add<WinogradParams>("cpu.winograd_conv2d.f32", &WinogradConvF32);
  list.Add<WinogradParams>("cpu.winograd_conv2d.f32.avx2", &WinogradConvF32Avx2, kCpuAvx2Fma);
  list.Add<WinogradParams>("cpu.winograd_conv2d.f32.avx512", &WinogradConvF32Avx512,
                           kCpuAvx512);
}

}  // namespace kiln::cpu
