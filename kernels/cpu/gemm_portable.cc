// Portable GEMMs in plain C++ with GCC/Clang vector extensions (SSE2 on x86-64, NEON
// elsewhere): a 4 x 8 tile that fits 16 registers, and a 12 x 32 tile with the AVX-512
// blocking so that blocking is tested on machines without AVX-512.
#include "kernels/cpu/gemm_impl.h"

namespace kiln::cpu {
namespace {

struct PortableVec {
  typedef float Reg __attribute__((vector_size(16)));
  // Unaligned, aliasing view for loads and stores of C and the source matrices.
  typedef float RegU __attribute__((vector_size(16), aligned(4), may_alias));
  static constexpr int kLanes = 4;
  static Reg Zero() { return Reg{0.0f, 0.0f, 0.0f, 0.0f}; }
  static Reg Load(const float* p) { return *reinterpret_cast<const RegU*>(p); }
  static void Store(float* p, Reg v) { *reinterpret_cast<RegU*>(p) = v; }
  static Reg Broadcast(const float* p) { return Reg{*p, *p, *p, *p}; }
  static Reg Fma(Reg a, Reg b, Reg c) { return a * b + c; }
  static Reg Add(Reg a, Reg b) { return a + b; }
  static Reg Max(Reg a, Reg b) { return a > b ? a : b; }
  static Reg Min(Reg a, Reg b) { return a < b ? a : b; }
  static Reg LoadPartial(const float* p, int n) {
    Reg v = Zero();
    for (int i = 0; i < n; ++i) v[i] = p[i];
    return v;
  }
  static void StorePartial(float* p, Reg v, int n) {
    for (int i = 0; i < n; ++i) p[i] = v[i];
  }
};

using Kernel = gemm_internal::PackedGemm<PortableVec, 4, 2, 256, 128, 1024>;
using WideKernel = gemm_internal::PackedGemm<PortableVec, 12, 8, 256, 240, 3072>;

}  // namespace

const SgemmImpl& SgemmPortable() {
  static constexpr SgemmImpl kImpl = {GemmIsa::kPortable, Kernel::kBlocking, &Kernel::Run,
                                      &Kernel::IndirectRun};
  return kImpl;
}

const SgemmImpl& SgemmPortableWide() {
  static constexpr SgemmImpl kImpl = {GemmIsa::kPortableWide, WideKernel::kBlocking,
                                      &WideKernel::Run, &WideKernel::IndirectRun};
  return kImpl;
}

}  // namespace kiln::cpu
