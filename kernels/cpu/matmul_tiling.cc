#include "kernels/cpu/matmul_tiling.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace kiln::cpu {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

MatMulTiling ChooseMatMulTiling(const SgemmImpl& impl, int64_t batch, int64_t m, int64_t n,
                                int64_t k, const CpuKernelOptions& options, bool small_tiles) {
  const GemmBlocking& bl = impl.blocking;
  const double min_tile_flops = options.gemm_tile_flops > 0 ? options.gemm_tile_flops
                                : small_tiles              ? 2.0 * (1 << 20)
                                                           : 32.0 * (1 << 20);
  const int64_t threads = options.threads > 0
                              ? options.threads
                              : std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t max_tiles = 2 * threads;
  MatMulTiling t{};
  t.tile_m = std::max<int64_t>(m, 1);
  t.tile_n = std::max<int64_t>(n, 1);
  const double flops = 2.0 * static_cast<double>(batch) * static_cast<double>(m) *
                       static_cast<double>(n) * static_cast<double>(std::max<int64_t>(k, 1));
  // A whole number of tiles per thread: 3 tiles on 2 threads leave one thread idle for
  // a third of the time (measured: a 1x1 convolution at 0.58 of the peak on 2 threads
  // against 0.87 on 1).
  const double tiles = flops / min_tile_flops;
  int64_t want =
      tiles < 1.0 ? 1
                  : std::min(max_tiles, CeilDiv(static_cast<int64_t>(std::ceil(tiles)), threads) *
                                            threads);
  // A prepacked weight of a MiB or more with few rows against it (a classifier's GEMV)
  // streams from memory whatever its FLOPs: every thread takes a share of the stream.
  if (small_tiles && static_cast<double>(n) * static_cast<double>(k) * 4 >= (1 << 20)) {
    want = std::max(want, std::min(max_tiles, threads));
  }
  const int64_t per_batch = CeilDiv(want, std::max<int64_t>(batch, 1));
  t.tiles_m = CeilDiv(m, t.tile_m);
  t.tiles_n = CeilDiv(n, t.tile_n);
  while (t.tiles_m * t.tiles_n < per_batch) {
    // Halve the longer side (square tiles pack the least per flop) while it still holds
    // two register tiles.
    const bool can_m = t.tile_m >= 2 * bl.mr;
    const bool can_n = t.tile_n >= 2 * bl.nr;
    if (can_m && (t.tile_m >= t.tile_n || !can_n)) {
      t.tile_m = CeilDiv(CeilDiv(t.tile_m, 2), bl.mr) * bl.mr;
    } else if (can_n) {
      t.tile_n = CeilDiv(CeilDiv(t.tile_n, 2), bl.nr) * bl.nr;
    } else {
      break;
    }
    t.tiles_m = CeilDiv(m, t.tile_m);
    t.tiles_n = CeilDiv(n, t.tile_n);
  }
  const int64_t total = batch * t.tiles_m * t.tiles_n;
  t.slots = std::clamp<int64_t>(total, 1, want);
  t.slot_bytes = SgemmScratchBytes(impl, t.tile_m, t.tile_n, k);
  return t;
}

std::optional<GemmIsa> UsableGemmIsa(GemmIsa requested) {
  const GemmIsa isa = requested == GemmIsa::kAuto ? DetectGemmIsa() : requested;
  if (!GemmIsaSupported(isa)) return std::nullopt;
  return isa;
}

bool IndirectRowsFitL1(int64_t row_step_bytes) { return row_step_bytes % 4096 != 0; }

absl::StatusOr<GemmIsa> ResolveGemmIsa(const PrepareContext& ctx) {
  std::optional<GemmIsa> isa = UsableGemmIsa(ctx.options.gemm_isa);
  if (!isa.has_value()) {
    return NodeError(absl::StatusCode::kUnimplemented, ctx.node,
                     absl::StrCat("the GEMM microkernel '", GemmIsaName(ctx.options.gemm_isa),
                                  "' needs instructions this CPU lacks"));
  }
  return *isa;
}

namespace {

// Whether a weight may go to the AVX2 GEMM's narrower panels: the ISA was detected (not
// named) as AVX-512 and the CPU runs AVX2 too.
bool NarrowPanelsAllowed(GemmIsa requested, GemmIsa resolved) {
  return requested == GemmIsa::kAuto && resolved == GemmIsa::kAvx512 &&
         GemmIsaSupported(GemmIsa::kAvx2);
}

}  // namespace

std::optional<GemmIsa> PackedWeightIsa(GemmIsa requested, int64_t n) {
  const std::optional<GemmIsa> isa = UsableGemmIsa(requested);
  if (!isa.has_value()) return std::nullopt;
  const int64_t wide = GetSgemmImpl(GemmIsa::kAvx512).blocking.nr;
  const int64_t narrow = GetSgemmImpl(GemmIsa::kAvx2).blocking.nr;
  if (NarrowPanelsAllowed(requested, *isa) && n > 0 &&
      4 * CeilDiv(n, narrow) * narrow <= 3 * CeilDiv(n, wide) * wide) {
    return GemmIsa::kAvx2;
  }
  return isa;
}

absl::StatusOr<GemmIsa> ResolvePackedGemmIsa(const PrepareContext& ctx, int64_t panel,
                                             absl::string_view what) {
  ASSIGN_OR_RETURN(GemmIsa isa, ResolveGemmIsa(ctx));
  if (panel == GetSgemmImpl(isa).blocking.nr) return isa;
  if (NarrowPanelsAllowed(ctx.options.gemm_isa, isa) &&
      panel == GetSgemmImpl(GemmIsa::kAvx2).blocking.nr) {
    return GemmIsa::kAvx2;
  }
  return NodeError(absl::StatusCode::kUnimplemented, ctx.node,
                   absl::StrCat("input '", what, "' has panels of ", panel, " columns; the '",
                                GemmIsaName(isa), "' GEMM reads ",
                                GetSgemmImpl(isa).blocking.nr));
}

}  // namespace kiln::cpu
