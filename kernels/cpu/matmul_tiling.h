// How a GEMM-shaped kernel (MatMul, Conv2D) splits its output into workgroup tiles, each
// computed by one SgemmImpl::run call with a private packing-scratch slot.
#ifndef KILN_KERNELS_CPU_MATMUL_TILING_H_
#define KILN_KERNELS_CPU_MATMUL_TILING_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/params.h"
#include "kernels/cpu/prepare_util.h"

namespace kiln::cpu {


// Tiles for `batch` GEMMs of m x n x k: about two per thread of `options.threads` (so a
// pool balances them) and a whole number per thread, but none below
// `options.gemm_tile_flops`: by default 32 MFLOP, where packing B per tile and dispatch
// start to show, and 2 MFLOP with `small_tiles`, when no tile packs what another packs
// too (B prepacked, or at least as many batch elements as tiles, each tile its own):
// SqueezeNet's 1x1 convolutions of 6-12 MFLOP ran on one thread at 8 MFLOP, the whole
// model 13% slower.
MatMulTiling ChooseMatMulTiling(const SgemmImpl& impl, int64_t batch, int64_t m, int64_t n,
                                int64_t k, const CpuKernelOptions& options,
                                bool small_tiles = false);

std::optional<GemmIsa> UsableGemmIsa(GemmIsa requested);

// Whether the indirect GEMM should read A rows whose addresses differ by multiples of
// `row_step_bytes`: not when every such offset is a multiple of 4 KiB, where the tile's
// rows all fall into one set of the L1 cache (8 ways for 12 rows) and evict one another
// on every step; the packing GEMM's contiguous panels avoid that (measured: a 1x1
// convolution over 1024 channels at 0.67 of the FMA peak indirect, 0.83 packed).
bool IndirectRowsFitL1(int64_t row_step_bytes);

// The GEMM implementation the options ask for, or kUnimplemented when the CPU lacks it.
absl::StatusOr<GemmIsa> ResolveGemmIsa(const PrepareContext& ctx);

// The GEMM whose panels a constant weight of `n` columns is packed in, for the ISA the
// options ask for (`requested`, kAuto detects): that ISA's, except that under kAuto a
// weight that would leave at least a quarter of the AVX-512 GEMM's 32-wide panels as
// padding (16 or 48 columns: MobileNet's and SqueezeNet's narrow 1x1 convolutions) goes
// to the AVX2 GEMM's 16-wide panels. On CPUs that split 512-bit FMAs in two, as this
// project's machines do, both run at one FLOP rate, so the padding is pure loss
// (measured: MobileNet-v2's 1x1 convolution of 32 into 16 channels at 112x112, 0.21 ->
// 0.12 ms on 2 threads). nullopt when the CPU has no usable GEMM.
std::optional<GemmIsa> PackedWeightIsa(GemmIsa requested, int64_t n);

// At prepare time, the GEMM that reads a weight packed in panels of `panel` columns: the
// one the options ask for, or AVX2 where PackedWeightIsa chose its panels; else
// kUnimplemented naming the input (`what`) and both widths.
absl::StatusOr<GemmIsa> ResolvePackedGemmIsa(const PrepareContext& ctx, int64_t panel,
                                             absl::string_view what);

}  // namespace kiln::cpu

#endif  // KILN_KERNELS_CPU_MATMUL_TILING_H_
