// The AVX-512 GEMM (compiled with -mavx512f -mfma; run only where the CPU has them): a
// 12 x 32 register tile, 24 zmm accumulators, 2 B loads and 1 broadcast per step. The same
// template as every other isa, so its logic is tested through the portable 12 x 32 build
// (GemmIsa::kPortableWide) on machines without AVX-512.
#include <immintrin.h>

#include "kernels/cpu/gemm_impl.h"

namespace kiln::cpu {
namespace {

struct Avx512Vec {
  using Reg = __m512;
  static constexpr int kLanes = 16;
  static Reg Zero() { return _mm512_setzero_ps(); }
  static Reg Load(const float* p) { return _mm512_loadu_ps(p); }
  static void Store(float* p, Reg v) { _mm512_storeu_ps(p, v); }
  static Reg Broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static Reg Fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg Add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  // Through the zero-masking forms with every lane selected (the same vmaxps/vminps):
  // GCC 12's _mm512_max_ps passes _mm512_undefined_ps(), which it then warns may be used
  // uninitialized wherever it inlines the call into unrolled code.
  static Reg Max(Reg a, Reg b) { return _mm512_maskz_max_ps(static_cast<__mmask16>(-1), a, b); }
  static Reg Min(Reg a, Reg b) { return _mm512_maskz_min_ps(static_cast<__mmask16>(-1), a, b); }
  static Reg LoadPartial(const float* p, int n) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
  }
  static void StorePartial(float* p, Reg v, int n) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
  }
};

// kc 256: a 32 KiB B panel in L1 (48 KiB on Zen 5); mc 240: a 240 KiB A block in L2
// (1 MiB); nc 3072: a 3 MiB B block in L3.
using Kernel = gemm_internal::PackedGemm<Avx512Vec, 12, 2, 256, 240, 3072>;

}  // namespace

const SgemmImpl& SgemmAvx512() {
  static constexpr SgemmImpl kImpl = {GemmIsa::kAvx512, Kernel::kBlocking, &Kernel::Run,
                                      &Kernel::IndirectRun};
  return kImpl;
}

}  // namespace kiln::cpu
