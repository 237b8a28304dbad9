// The instruction sets of the f32 GEMM microkernel and what the running CPU supports.
#ifndef KILN_KERNELS_CPU_GEMM_ISA_H_
#define KILN_KERNELS_CPU_GEMM_ISA_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace kiln {

// Instruction sets of the f32 GEMM microkernel (MatMul and Conv2D). kAuto picks the best
// the running CPU supports (HostCpuFeatures); the others force one, for tests and
// benchmarks, and Prepare fails with kUnimplemented when the CPU lacks it.
enum class GemmIsa : int32_t {
  kAuto = 0,
  kPortable = 1,       // plain C++ 4x16 tile, any x86-64 (SSE2)
  kAvx2 = 2,           // AVX2 + FMA, 6x16 tile
  kAvx512 = 3,         // AVX-512F + FMA, 12x32 tile
  kPortableWide = 4,   // plain C++ 12x32 tile: the AVX-512 blocking, testable anywhere
};

// The GEMM microkernel kAuto resolves to on this CPU.
GemmIsa DetectGemmIsa();
// True when the running CPU can execute `isa`'s microkernel (HostCpuFeatures has every
// feature its kernels are registered with).
bool GemmIsaSupported(GemmIsa isa);
absl::string_view GemmIsaName(GemmIsa isa);

}  // namespace kiln

#endif  // KILN_KERNELS_CPU_GEMM_ISA_H_
