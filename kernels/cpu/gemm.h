// Single-threaded f32 GEMM over strided matrices, BLIS-style: B is packed into KC x NR
// panels and A into MR x KC panels in caller-provided scratch, and a register-blocked
// microkernel computes each MR x NR tile of C. One implementation per instruction set
// (gemm_portable.cc, gemm_avx2.cc, gemm_avx512.cc), chosen at prepare time.
#ifndef KILN_KERNELS_CPU_GEMM_H_
#define KILN_KERNELS_CPU_GEMM_H_

#include <cstdint>

#include "kernels/cpu/gemm_isa.h"

namespace kiln::cpu {

// C = A * B (C += A * B when `accumulate`), with A m x k, B k x n and C m x n. Element
// (i, p) of A is a[i * a_row + p * a_col]; B and C likewise (C's columns are contiguous).
// Any stride pattern works; packing reads transposed operands efficiently.
struct SgemmArgs {
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  const float* a = nullptr;
  int64_t a_row = 0;
  int64_t a_col = 0;
  const float* b = nullptr;
  int64_t b_row = 0;
  int64_t b_col = 0;
  float* c = nullptr;
  int64_t ldc = 0;
  bool accumulate = false;
  // When set, op(B) packed once by PackBPanels with the implementation's nr, starting at
  // the panel of this GEMM's first column (a multiple of nr): the driver packs no B, and
  // b, b_row and b_col are unused.
  const float* b_packed = nullptr;
};

// The indirect GEMM: C (m x n) = A * B (+ bias per column, + a residual, then a clamp
// when asked) where
// A's k = taps * tap_k columns come tap by tap through row pointers: row i's values for
// tap t are the tap_k contiguous floats at a_rows[i * taps + t] (or, without a table, at
// a + i * a_row + t * tap_k). A convolution's taps are its filter positions, each pointing
// into the input (or at zeros for padding), so no im2col copy and no packing of A happen;
// a MatMul is one tap. B comes packed by PackBPanels (k deep, panels of nr from this
// call's first column). C is written once, with the epilogue applied in registers.
struct IgemmArgs {
  int64_t m = 0;
  int64_t n = 0;
  int64_t taps = 1;
  int64_t tap_k = 0;
  const float* const* a_rows = nullptr;
  int64_t a_offset = 0;  // floats added to every pointer of a_rows (a group's channels)
  const float* a = nullptr;
  int64_t a_row = 0;
  const float* b_packed = nullptr;
  float* c = nullptr;
  int64_t ldc = 0;
  const float* bias = nullptr;  // n values, or null
  // Added to C's tile in registers before the clamp (a residual connection): laid out as
  // C, row stride ldc; or null.
  const float* residual = nullptr;
  // When set, every result is clamped to [clamp_min, clamp_max] in registers (max, then
  // min, keeping NaN): a folded ReLU (0, inf) or ReLU6 (0, 6).
  bool clamp = false;
  float clamp_min = 0.0f;
  float clamp_max = 0.0f;
};

// C's rows x cols block (row stride ldc) plus `residual` (the same layout, or null), then
// clamped to [lo, hi] when `clamp`, as IgemmArgs does: what the packing GEMM's callers
// apply to a tile after it.
void EpilogueRows(float* c, int64_t rows, int64_t cols, int64_t ldc, const float* residual,
                  bool clamp, float lo, float hi);

// Register tile (mr x nr) and cache blocks (kc deep, mc rows of A, nc columns of B).
struct GemmBlocking {
  int64_t mr;
  int64_t nr;
  int64_t kc;
  int64_t mc;
  int64_t nc;
};

struct SgemmImpl {
  GemmIsa isa;
  GemmBlocking blocking;
  // Computes one GEMM on the calling thread; `scratch` is 64-byte aligned and holds
  // SgemmScratchBytes(impl, m, n, k) bytes. Never allocates.
  void (*run)(const SgemmArgs& args, float* scratch);
  // Computes one indirect GEMM on the calling thread. Never allocates.
  void (*igemm)(const IgemmArgs& args);
};

// The implementation for a concrete isa (not kAuto).
const SgemmImpl& GetSgemmImpl(GemmIsa isa);
// Packing scratch for a GEMM of at most m x n x k, a multiple of 64 bytes; A's panels only
// when B comes prepacked (SgemmArgs::b_packed).
int64_t SgemmScratchBytes(const SgemmImpl& impl, int64_t m, int64_t n, int64_t k,
                          bool b_prepacked = false);

// B (k x n, element (p, j) at b[p * b_row + j * b_col]) in column panels of nr: panel q
// holds columns [q * nr, q * nr + nr) as k rows of nr values, columns past n zero. The
// layout a constant weight is packed in once, at compile time (SgemmArgs::b_packed).
int64_t PackedBFloats(int64_t n, int64_t k, int64_t nr);
void PackBPanels(const float* b, int64_t b_row, int64_t b_col, int64_t n, int64_t k,
                 int64_t nr, float* dst);

// Defined by the per-isa files.
const SgemmImpl& SgemmPortable();
const SgemmImpl& SgemmPortableWide();
const SgemmImpl& SgemmAvx2();
const SgemmImpl& SgemmAvx512();

}  // namespace kiln::cpu

#endif  // KILN_KERNELS_CPU_GEMM_H_
