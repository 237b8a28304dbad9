// The AVX2 + FMA GEMM (compiled with -mavx2 -mfma; run only where the CPU has them):
// a 6 x 16 register tile, 12 ymm accumulators, 2 B loads and 1 broadcast per step.
#include <immintrin.h>

#include "kernels/cpu/gemm_impl.h"

namespace kiln::cpu {
namespace {

struct Avx2Vec {
  using Reg = __m256;
  static constexpr int kLanes = 8;
  static Reg Zero() { return _mm256_setzero_ps(); }
  static Reg Load(const float* p) { return _mm256_loadu_ps(p); }
  static void Store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static Reg Broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static Reg Fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg Add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg Max(Reg a, Reg b) { return _mm256_max_ps(a, b); }
  static Reg Min(Reg a, Reg b) { return _mm256_min_ps(a, b); }
  static Reg LoadPartial(const float* p, int n) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane));
  }
  static void StorePartial(float* p, Reg v, int n) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_maskstore_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane), v);
  }
};

// kc 256: a 16 KiB B panel stays in L1; mc 144: a 144 KiB A block in L2 (512 KiB on Zen 3);
// nc 2048: a 2 MiB B block in L3.
using Kernel = gemm_internal::PackedGemm<Avx2Vec, 6, 2, 256, 144, 2048>;

}  // namespace

const SgemmImpl& SgemmAvx2() {
  static constexpr SgemmImpl kImpl = {GemmIsa::kAvx2, Kernel::kBlocking, &Kernel::Run,
                                      &Kernel::IndirectRun};
  return kImpl;
}

}  // namespace kiln::cpu
