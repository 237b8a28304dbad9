#include "kernels/cpu/gemm.h"

#include "kernels/cpu/cpu_kernel_library.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/kernel_library.h"

namespace kiln::cpu {
namespace {

int64_t Min(int64_t a, int64_t b) { return a < b ? a : b; }
int64_t RoundUpTo(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

}  // namespace

const SgemmImpl& GetSgemmImpl(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kAvx512: return SgemmAvx512();
    case GemmIsa::kAvx2: return SgemmAvx2();
    case GemmIsa::kPortableWide: return SgemmPortableWide();
    case GemmIsa::kAuto:
    case GemmIsa::kPortable: break;
  }
  return SgemmPortable();
}

int64_t SgemmScratchBytes(const SgemmImpl& impl, int64_t m, int64_t n, int64_t k,
                          bool b_prepacked) {
  const GemmBlocking& b = impl.blocking;
  const int64_t kc = Min(k < 1 ? 1 : k, b.kc);
  const int64_t a_floats = RoundUpTo(Min(m < 1 ? 1 : m, b.mc), b.mr) * kc;
  const int64_t b_floats = RoundUpTo(Min(n < 1 ? 1 : n, b.nc), b.nr) * kc;
  return RoundUpTo(a_floats * 4, 64) + (b_prepacked ? 0 : RoundUpTo(b_floats * 4, 64));
}

void EpilogueRows(float* c, int64_t rows, int64_t cols, int64_t ldc, const float* residual,
                  bool clamp, float lo, float hi) {
  for (int64_t i = 0; i < rows; ++i) {
    float* row = c + i * ldc;
    const float* add = residual != nullptr ? residual + i * ldc : nullptr;
    for (int64_t j = 0; j < cols; ++j) {
      const float v = add != nullptr ? row[j] + add[j] : row[j];
      row[j] = clamp ? ClampKeepingNaN(v, lo, hi) : v;
    }
  }
}

int64_t PackedBFloats(int64_t n, int64_t k, int64_t nr) { return RoundUpTo(n, nr) * k; }

void PackBPanels(const float* b, int64_t b_row, int64_t b_col, int64_t n, int64_t k,
                 int64_t nr, float* dst) {
  for (int64_t q = 0; q * nr < n; ++q) {
    for (int64_t p = 0; p < k; ++p) {
      for (int64_t j = 0; j < nr; ++j) {
        const int64_t col = q * nr + j;
        *dst++ = col < n ? b[p * b_row + col * b_col] : 0.0f;
      }
    }
  }
}

}  // namespace kiln::cpu

namespace kiln {

GemmIsa DetectGemmIsa() {
  if (GemmIsaSupported(GemmIsa::kAvx512)) return GemmIsa::kAvx512;
  if (GemmIsaSupported(GemmIsa::kAvx2)) return GemmIsa::kAvx2;
  return GemmIsa::kPortable;
}

bool GemmIsaSupported(GemmIsa isa) {
  // The features the kernels built for `isa` are registered with: one detection for both.
  const uint32_t needed = cpu::GemmIsaCpuFeatures(isa);
  return (HostCpuFeatures() & needed) == needed;
}

absl::string_view GemmIsaName(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kAuto: return "auto";
    case GemmIsa::kPortable: return "portable";
    case GemmIsa::kAvx2: return "avx2";
    case GemmIsa::kAvx512: return "avx512";
    case GemmIsa::kPortableWide: return "portable-wide";
  }
  return "unknown";
}

}  // namespace kiln
