// The packed GEMM driver and register-blocked microkernel, as templates over a vector
// traits type V. Included only by the per-isa files, each compiled with its own target
// flags and instantiating these templates with a traits type of internal linkage, so no
// instruction-set-specific code is shared between those files (no inline function here
// outside the templates, no standard-library templates).
//
// V provides: Reg, kLanes, Zero(), Load(const float*), Store(float*, Reg) (unaligned),
// Broadcast(const float*), Fma(a, b, c) = a * b + c, Add(a, b), Max(a, b) = a > b ? a : b,
// Min(a, b) = a < b ? a : b (so Min(hi, Max(lo, x)) clamps x and keeps NaN, as the
// reference's clamp and ReLU do), StorePartial(float*, Reg, n) and LoadPartial(const
// float*, n): the first n (0 < n < kLanes) lanes only, touching no memory past them
// (the other lanes load as zero).
#ifndef KILN_KERNELS_CPU_GEMM_IMPL_H_
#define KILN_KERNELS_CPU_GEMM_IMPL_H_

#include <cstdint>

#include "kernels/cpu/gemm.h"

namespace kiln::cpu::gemm_internal {

template <typename V, int kMr, int kNv, int kKc, int kMc, int kNc>
struct PackedGemm {
  static constexpr int kLanes = V::kLanes;
  static constexpr int kNr = kNv * kLanes;
  static_assert(kMc % kMr == 0 && kNc % kNr == 0, "cache blocks must hold whole tiles");
  using Reg = typename V::Reg;

  static int64_t Min(int64_t a, int64_t b) { return a < b ? a : b; }
  static int64_t RoundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

  // c[0..kMr) x [0..kNr) (row stride ldc) = (or +=) the product of an A panel (kc steps of
  // kMr values) and a B panel (kc steps of kNr values). C is read only when accumulating,
  // so it may hold garbage (NaN) otherwise.
  static void Micro(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                    bool accumulate) {
    MicroRows<kMr>(kc, a, b, c, ldc, accumulate);
  }

  // Micro for the first kRows rows of the A panel (which still holds kMr values per step):
  // the bottom edge of C without a local tile.
  template <int kRows>
  static void MicroRows(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                        bool accumulate) {
    // C's rows are far apart (ldc) and cold; fetch them while the k loop runs.
#pragma GCC unroll 32
    for (int i = 0; i < kRows; ++i) {
      __builtin_prefetch(c + i * ldc, 1, 3);
      __builtin_prefetch(c + i * ldc + kNr - 1, 1, 3);
    }
    Reg acc[kRows][kNv];
#pragma GCC unroll 32
    for (int i = 0; i < kRows; ++i) {
#pragma GCC unroll 8
      for (int j = 0; j < kNv; ++j) acc[i][j] = V::Zero();
    }
    for (int64_t p = 0; p < kc; ++p) {
      Reg bv[kNv];
#pragma GCC unroll 8
      for (int j = 0; j < kNv; ++j) bv[j] = V::Load(b + j * kLanes);
#pragma GCC unroll 32
      for (int i = 0; i < kRows; ++i) {
        const Reg av = V::Broadcast(a + i);
#pragma GCC unroll 8
        for (int j = 0; j < kNv; ++j) acc[i][j] = V::Fma(av, bv[j], acc[i][j]);
      }
      a += kMr;
      b += kNr;
    }
#pragma GCC unroll 32
    for (int i = 0; i < kRows; ++i) {
#pragma GCC unroll 8
      for (int j = 0; j < kNv; ++j) {
        float* cp = c + i * ldc + j * kLanes;
        V::Store(cp, accumulate ? V::Add(acc[i][j], V::Load(cp)) : acc[i][j]);
      }
    }
  }

  // The bottom edge (rows < kMr, full columns): MicroRows<rows>, one instantiation per
  // row count, instead of a whole tile computed into a local buffer.
  template <int kRows = 1>
  static void MicroBottom(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                          bool accumulate, int64_t rows) {
    if constexpr (kRows < kMr) {
      if (rows == kRows) {
        MicroRows<kRows>(kc, a, b, c, ldc, accumulate);
      } else {
        MicroBottom<kRows + 1>(kc, a, b, c, ldc, accumulate, rows);
      }
    }
  }

  // A partial tile (rows < kMr or cols < kNr): computed whole into a local tile (the
  // packed panels are zero-padded), then only the valid part is written.
  static void MicroEdge(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                        bool accumulate, int64_t rows, int64_t cols) {
    alignas(64) float tile[kMr * kNr];
    Micro(kc, a, b, tile, kNr, false);
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) {
        c[i * ldc + j] = accumulate ? c[i * ldc + j] + tile[i * kNr + j] : tile[i * kNr + j];
      }
    }
  }

  // out[q * out_step + r] = in[r * in_step + q] for r, q < 4: four rows of four values
  // (any alignment) transposed through 16-byte vectors.
  static void Transpose4(const float* in, int64_t in_step, float* out, int64_t out_step) {
    typedef float F4 __attribute__((vector_size(16)));
    F4 r[4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) __builtin_memcpy(&r[i], in + i * in_step, sizeof(F4));
    const F4 lo01 = __builtin_shufflevector(r[0], r[1], 0, 4, 1, 5);
    const F4 hi01 = __builtin_shufflevector(r[0], r[1], 2, 6, 3, 7);
    const F4 lo23 = __builtin_shufflevector(r[2], r[3], 0, 4, 1, 5);
    const F4 hi23 = __builtin_shufflevector(r[2], r[3], 2, 6, 3, 7);
    const F4 c[4] = {__builtin_shufflevector(lo01, lo23, 0, 1, 4, 5),
                     __builtin_shufflevector(lo01, lo23, 2, 3, 6, 7),
                     __builtin_shufflevector(hi01, hi23, 0, 1, 4, 5),
                     __builtin_shufflevector(hi01, hi23, 2, 3, 6, 7)};
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) __builtin_memcpy(out + q * out_step, &c[q], sizeof(F4));
  }

  // A (mc x kc, element (i, p) at a[i * a_row + p * a_col]) into panels of kMr rows, each
  // kc steps of kMr values; rows past mc are zero.
  static void PackA(int64_t mc, int64_t kc, const float* a, int64_t a_row, int64_t a_col,
                    float* dst) {
    for (int64_t i0 = 0; i0 < mc; i0 += kMr) {
      const int64_t rows = Min(kMr, mc - i0);
      const float* src = a + i0 * a_row;
      if (rows == kMr && a_row == 1) {
        // Transposed A: each step's kMr values are contiguous.
        for (int64_t p = 0; p < kc; ++p) {
          const float* s = src + p * a_col;
          for (int i = 0; i < kMr; ++i) dst[p * kMr + i] = s[i];
        }
      } else if (rows == kMr && a_col == 1 && kMr % 4 == 0) {
        // Row-major A. Each row's kc values are a short run (1 KiB at kc 256) that the
        // hardware prefetcher barely starts on before the next row: fetch the same run of
        // the next panel's rows now, a panel's packing ahead of its use, into L2 (rows a
        // multiple of 4 KiB apart share one L1 set; a prefetch never faults, so rows past
        // A's end are harmless). Then 4 x 4 blocks transposed in registers, half the
        // instructions of a scalar copy. Packing took 12% of a 2048^3 GEMM, now 5%.
        for (int i = 0; i < kMr; ++i) {
          const float* ahead = src + (kMr + i) * a_row;
          for (int64_t p = 0; p < kc; p += 16) __builtin_prefetch(ahead + p, 0, 2);
        }
        int64_t p = 0;
        for (; p + 4 <= kc; p += 4) {
#pragma GCC unroll 8
          for (int i = 0; i < kMr; i += 4) {
            Transpose4(src + i * a_row + p, a_row, dst + p * kMr + i, kMr);
          }
        }
        for (; p < kc; ++p) {
          for (int i = 0; i < kMr; ++i) dst[p * kMr + i] = src[i * a_row + p];
        }
      } else {
        for (int64_t i = 0; i < kMr; ++i) {
          if (i < rows) {
            const float* row = src + i * a_row;
            for (int64_t p = 0; p < kc; ++p) dst[p * kMr + i] = row[p * a_col];
          } else {
            for (int64_t p = 0; p < kc; ++p) dst[p * kMr + i] = 0.0f;
          }
        }
      }
      dst += kMr * kc;
    }
  }

  // B (kc x nc, element (p, j) at b[p * b_row + j * b_col]) into panels of kNr columns,
  // each kc steps of kNr values; columns past nc are zero.
  static void PackB(int64_t kc, int64_t nc, const float* b, int64_t b_row, int64_t b_col,
                    float* dst) {
    const int64_t full = nc / kNr * kNr;
    if (b_col == 1) {
      // Row-major B: read each row once, front to back (one stream the hardware
      // prefetcher follows, rather than kc streams), scattering it over the panels.
      for (int64_t p = 0; p < kc; ++p) {
        const float* row = b + p * b_row;
        float* d = dst + p * kNr;
        for (int64_t j0 = 0; j0 < full; j0 += kNr) {
#pragma GCC unroll 8
          for (int v = 0; v < kNv; ++v) V::Store(d + v * kLanes, V::Load(row + j0 + v * kLanes));
          d += kNr * kc;
        }
      }
    } else if (b_row == 1 && kNr % 4 == 0) {
      // Transposed B with contiguous columns (attention's keys, read in place): 4 x 4
      // blocks transposed in registers, as PackA does for row-major A.
      float* panel = dst;
      for (int64_t j0 = 0; j0 < full; j0 += kNr) {
        int64_t p = 0;
        for (; p + 4 <= kc; p += 4) {
#pragma GCC unroll 8
          for (int64_t j = 0; j < kNr; j += 4) {
            Transpose4(b + (j0 + j) * b_col + p, b_col, panel + p * kNr + j, kNr);
          }
        }
        for (; p < kc; ++p) {
          for (int64_t j = 0; j < kNr; ++j) panel[p * kNr + j] = b[(j0 + j) * b_col + p];
        }
        panel += kNr * kc;
      }
    } else {
      // Transposed B: read along each column, write with stride kNr.
      float* panel = dst;
      for (int64_t j0 = 0; j0 < full; j0 += kNr) {
        for (int64_t j = 0; j < kNr; ++j) {
          const float* col = b + (j0 + j) * b_col;
          for (int64_t p = 0; p < kc; ++p) panel[p * kNr + j] = col[p * b_row];
        }
        panel += kNr * kc;
      }
    }
    if (full < nc) {
      float* panel = dst + full * kc;
      const int64_t cols = nc - full;
      for (int64_t p = 0; p < kc; ++p) {
        for (int64_t j = 0; j < kNr; ++j) {
          panel[p * kNr + j] = j < cols ? b[p * b_row + (full + j) * b_col] : 0.0f;
        }
      }
    }
  }

  // The BLIS loop nest: columns of B in nc blocks (packed once per kc step, kept in L3),
  // rows of A in mc blocks (packed, kept in L2), then kNr-wide B panels (L1) against every
  // kMr-high A panel. The scratch layout matches SgemmScratchBytes.
  static void Run(const SgemmArgs& g, float* scratch) {
    if (g.m <= 0 || g.n <= 0) return;
    if (g.k <= 0) {
      if (!g.accumulate) {
        for (int64_t i = 0; i < g.m; ++i) {
          for (int64_t j = 0; j < g.n; ++j) g.c[i * g.ldc + j] = 0.0f;
        }
      }
      return;
    }
    const int64_t kc_max = Min(g.k, kKc);
    float* a_pack = scratch;
    float* b_pack = scratch + RoundUp(RoundUp(Min(g.m, kMc), kMr) * kc_max, 16);
    for (int64_t jc = 0; jc < g.n; jc += kNc) {
      const int64_t nc = Min(kNc, g.n - jc);
      for (int64_t pc = 0; pc < g.k; pc += kKc) {
        const int64_t kc = Min(kKc, g.k - pc);
        const bool accumulate = g.accumulate || pc > 0;
        // Prepacked panels are k deep: panel q's rows [pc, pc + kc) are contiguous.
        const int64_t panel_stride = g.b_packed != nullptr ? g.k * kNr : kc * kNr;
        const float* b_block =
            g.b_packed != nullptr ? g.b_packed + (jc / kNr) * panel_stride + pc * kNr : b_pack;
        if (g.b_packed == nullptr) {
          PackB(kc, nc, g.b + pc * g.b_row + jc * g.b_col, g.b_row, g.b_col, b_pack);
        }
        for (int64_t ic = 0; ic < g.m; ic += kMc) {
          const int64_t mc = Min(kMc, g.m - ic);
          PackA(mc, kc, g.a + ic * g.a_row + pc * g.a_col, g.a_row, g.a_col, a_pack);
          for (int64_t jr = 0; jr < nc; jr += kNr) {
            const int64_t cols = Min(kNr, nc - jr);
            const float* bp = b_block + (jr / kNr) * panel_stride;
            for (int64_t ir = 0; ir < mc; ir += kMr) {
              const int64_t rows = Min(kMr, mc - ir);
              const float* ap = a_pack + ir * kc;
              float* cp = g.c + (ic + ir) * g.ldc + jc + jr;
              if (rows == kMr && cols == kNr) {
                Micro(kc, ap, bp, cp, g.ldc, accumulate);
              } else if (cols == kNr) {
                MicroBottom(kc, ap, bp, cp, g.ldc, accumulate, rows);
              } else {
                MicroEdge(kc, ap, bp, cp, g.ldc, accumulate, rows, cols);
              }
            }
          }
        }
      }
    }
  }

  // ---- Indirect GEMM (IgemmArgs): A's rows through pointers, B prepacked, C written once.

  // The first kRows rows of the kMr-row tile at row i0 against one B panel, over k in
  // [k0, k1) (taps and offsets within them). The accumulators start from C when
  // `accumulate` (an earlier k block), else from the bias (kNr values, padded) or zero;
  // `last`: the block ends k, so the clamp is applied in registers before the store.
  // `cols` < kNr: C's right edge, stored through masks (then k must be whole: an edge
  // tile never accumulates).
  template <int kRows>
  static void IndirectTile(const IgemmArgs& g, int64_t i0, int64_t k0, int64_t k1,
                           const float* panel, const float* bias, bool accumulate, bool last,
                           float* c, int64_t ldc, int64_t cols) {
    // C's rows, and the residual's, are far apart and cold (a row tile takes 128 bytes of
    // each, the next tile of the same rows comes a panel later): fetch them before the k
    // loop, whose FMAs hide the memory's latency.
    const float* residual =
        last && g.residual != nullptr ? g.residual + (c - g.c) : nullptr;
#pragma GCC unroll 32
    for (int i = 0; i < kRows; ++i) {
      __builtin_prefetch(c + i * ldc, 1, 3);
      __builtin_prefetch(c + i * ldc + kNr - 1, 1, 3);
      if (residual != nullptr) {
        __builtin_prefetch(residual + i * ldc, 0, 3);
        __builtin_prefetch(residual + i * ldc + kNr - 1, 0, 3);
      }
    }
    Reg acc[kRows][kNv];
    if (accumulate) {
#pragma GCC unroll 32
      for (int i = 0; i < kRows; ++i) {
#pragma GCC unroll 8
        for (int j = 0; j < kNv; ++j) acc[i][j] = V::Load(c + i * ldc + j * kLanes);
      }
    } else {
#pragma GCC unroll 8
      for (int j = 0; j < kNv; ++j) {
        const Reg init = bias != nullptr ? V::Load(bias + j * kLanes) : V::Zero();
#pragma GCC unroll 32
        for (int i = 0; i < kRows; ++i) acc[i][j] = init;
      }
    }
    const float* b = panel + k0 * kNr;
    int64_t t = k0 > 0 && g.tap_k > 0 ? k0 / g.tap_k : 0;  // no division for a first block
    int64_t p0 = k0 - t * g.tap_k;
    for (int64_t k = k0; k < k1; ++t, p0 = 0) {
      const int64_t p1 = Min(g.tap_k, p0 + (k1 - k));
      k += p1 - p0;
      const float* ap[kRows];
#pragma GCC unroll 32
      for (int i = 0; i < kRows; ++i) {
        ap[i] = g.a_rows != nullptr ? g.a_rows[(i0 + i) * g.taps + t] + g.a_offset
                                    : g.a + (i0 + i) * g.a_row + t * g.tap_k;
      }
      for (int64_t p = p0; p < p1; ++p) {
        Reg bv[kNv];
#pragma GCC unroll 8
        for (int j = 0; j < kNv; ++j) bv[j] = V::Load(b + j * kLanes);
#pragma GCC unroll 32
        for (int i = 0; i < kRows; ++i) {
          const Reg av = V::Broadcast(ap[i] + p);
#pragma GCC unroll 8
          for (int j = 0; j < kNv; ++j) acc[i][j] = V::Fma(av, bv[j], acc[i][j]);
        }
        b += kNr;
      }
    }
    if (residual != nullptr) {
      const float* r = residual;  // C's position in the residual
#pragma GCC unroll 32
      for (int i = 0; i < kRows; ++i) {
#pragma GCC unroll 8
        for (int j = 0; j < kNv; ++j) {
          const int64_t valid = cols - j * kLanes;
          if (valid >= kLanes) {
            acc[i][j] = V::Add(acc[i][j], V::Load(r + i * ldc + j * kLanes));
          } else if (valid > 0) {
            acc[i][j] = V::Add(acc[i][j], V::LoadPartial(r + i * ldc + j * kLanes,
                                                         static_cast<int>(valid)));
          }
        }
      }
    }
    if (last && g.clamp) {
      const Reg lo = V::Broadcast(&g.clamp_min);
      const Reg hi = V::Broadcast(&g.clamp_max);
#pragma GCC unroll 32
      for (int i = 0; i < kRows; ++i) {
#pragma GCC unroll 8
        for (int j = 0; j < kNv; ++j) acc[i][j] = V::Min(hi, V::Max(lo, acc[i][j]));
      }
    }
    if (cols >= kNr) {
#pragma GCC unroll 32
      for (int i = 0; i < kRows; ++i) {
#pragma GCC unroll 8
        for (int j = 0; j < kNv; ++j) V::Store(c + i * ldc + j * kLanes, acc[i][j]);
      }
      return;
    }
    // Unrolled, as every loop over acc, so that the accumulators stay in registers.
#pragma GCC unroll 32
    for (int i = 0; i < kRows; ++i) {
#pragma GCC unroll 8
      for (int j = 0; j < kNv; ++j) {
        const int64_t valid = cols - j * kLanes;
        if (valid >= kLanes) {
          V::Store(c + i * ldc + j * kLanes, acc[i][j]);
        } else if (valid > 0) {
          V::StorePartial(c + i * ldc + j * kLanes, acc[i][j], static_cast<int>(valid));
        }
      }
    }
  }

  // IndirectTile for `rows` (1..kMr) rows: one instantiation per row count.
  template <int kRows = 1>
  static void IndirectRows(const IgemmArgs& g, int64_t i0, int64_t rows, int64_t k0,
                           int64_t k1, const float* panel, const float* bias, bool accumulate,
                           bool last, float* c, int64_t ldc, int64_t cols) {
    if constexpr (kRows <= kMr) {
      if (rows == kRows) {
        IndirectTile<kRows>(g, i0, k0, k1, panel, bias, accumulate, last, c, ldc, cols);
      } else {
        IndirectRows<kRows + 1>(g, i0, rows, k0, k1, panel, bias, accumulate, last, c, ldc,
                                cols);
      }
    }
  }

  // Rows in blocks of kMc (the block's rows of A, and of C and the residual, stay in L2
  // while every panel passes over them), then column panels; within a panel, k in blocks
  // of kIndirectKc (the block's slice of B, streamed from L2 by every row tile of the
  // block, accumulating in C between blocks), row tiles inner.
  //
  // When k fits one block and all of B fits in half of L2 (a 1x1 convolution of few
  // channels: k 64, 256 columns), row tiles go outer instead: a tile's A (kMr x k) stays
  // in L1 while it passes every panel, and C's rows are written whole, front to back, in
  // place of 128 bytes of each row a panel apart, which the hardware prefetcher does not
  // follow (ResNet-50's 64 -> 256 convolutions at batch 16 ran at 40% of the FMA peak).
  // The indirect GEMM's k block: 3 kKc. A k x kNr slice of B larger than L1 streams well
  // from L2 (kNr floats a step, in order), and each block boundary costs a load and a
  // store of every C tile: BERT b8's 768-deep feed-forward GEMMs ran 6% faster in one
  // block than in three, MLP b64 8%, ResNet-50's convolutions the same.
  static constexpr int64_t kIndirectKc = 3 * kKc;

  static void IndirectRun(const IgemmArgs& g) {
    if (g.m <= 0 || g.n <= 0) return;
    const int64_t k = g.taps * g.tap_k;
    const int64_t panels = (g.n + kNr - 1) / kNr;
    alignas(64) float bias_edge[kNr];
    const float* edge_bias = nullptr;
    if (g.bias != nullptr && g.n % kNr != 0) {
      // The right edge's bias, padded with zeros as its panel is.
      const int64_t cols = g.n % kNr;
      for (int64_t j = 0; j < kNr; ++j) bias_edge[j] = j < cols ? g.bias[g.n - cols + j] : 0.0f;
      edge_bias = bias_edge;
    }
    // Row tile [ir, ir + rows) against panel q over k [k0, k1).
    auto tile = [&](int64_t ir, int64_t rows, int64_t q, int64_t k0, int64_t k1) {
      const int64_t jr = q * kNr;
      const int64_t cols = Min(kNr, g.n - jr);
      const float* bias = g.bias == nullptr ? nullptr : cols < kNr ? edge_bias : g.bias + jr;
      IndirectRows(g, ir, rows, k0, k1, g.b_packed + q * k * kNr, bias, k0 > 0, k1 == k,
                   g.c + ir * g.ldc + jr, g.ldc, cols);
    };
    const bool rows_outer = k <= kKc && panels * kNr * k * 4 <= 512 * 1024;
    for (int64_t ic = 0; ic < g.m; ic += kMc) {
      const int64_t rows_end = Min(g.m, ic + kMc);
      if (rows_outer) {
        for (int64_t ir = ic; ir < rows_end; ir += kMr) {
          for (int64_t q = 0; q < panels; ++q) tile(ir, Min(kMr, rows_end - ir), q, 0, k);
        }
        continue;
      }
      for (int64_t q = 0; q < panels; ++q) {
        // The right edge (the panel's padding columns are zero; its valid columns are
        // stored through masks) takes all of k at once.
        const int64_t k_block = q * kNr + kNr > g.n ? k : kIndirectKc;
        int64_t k0 = 0;
        do {
          const int64_t k1 = Min(k, k0 + k_block);
          for (int64_t ir = ic; ir < rows_end; ir += kMr) {
            tile(ir, Min(kMr, rows_end - ir), q, k0, k1);
          }
          k0 = k1;
        } while (k0 < k);
      }
    }
  }

  static constexpr GemmBlocking kBlocking = {kMr, kNr, kKc, kMc, kNc};
};

}  // namespace kiln::cpu::gemm_internal

#endif  // KILN_KERNELS_CPU_GEMM_IMPL_H_
