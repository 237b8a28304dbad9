// The portable CPU kernel library: a KernelProvider whose kernels are plain C++17 (GCC
// auto-vectorized) plus hand-written GEMM microkernels chosen for the host at prepare time.
// It is the baseline and the fallback of generated MLIR kernels. See docs/kernels.md.
#ifndef KILN_KERNELS_CPU_CPU_KERNEL_PROVIDER_H_
#define KILN_KERNELS_CPU_CPU_KERNEL_PROVIDER_H_

#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"
#include "kernels/cpu/gemm_isa.h"
#include "kernels/kernel_provider.h"

namespace kiln {

struct CpuKernelOptions {
  GemmIsa gemm_isa = GemmIsa::kAuto;
  // Floating-point operations per GEMM workgroup tile (MatMul, Conv2D) below which the
  // output is not split further; 0 means the tuned default (32 MFLOP). Tests lower it to
  // exercise tile boundaries on small problems.
  double gemm_tile_flops = 0;
  // Threads the runtime will spread workgroups over (0: the machine's hardware threads).
  // GEMM-shaped kernels split into about two tiles per thread: every tile repacks its
  // operands, so more tiles than that only add packing.
  int threads = 0;
  // Pack constant f32 MatMul weights once at compile time into the GEMM's panels
  // (PackGemmWeight), so no call packs them.
  bool pack_weights = true;
  // Prepacked GEMMs whose A rows can be read in place (PackedMatMul with contiguous rows
  // of A; PackedConv2D, through a table of row pointers into the input)
  // run the indirect GEMM (gemm.h, IgemmArgs), which neither copies nor packs A; false
  // keeps them on the packing GEMM (for tests and benchmarks that compare the two).
  bool indirect_gemm = true;
  // 3x3 stride-1 NHWC convolutions whose shapes pay for it (kernels/cpu/winograd.h) run
  // through Winograd's F(4x4, 3x3), their filters transformed at compile time
  // (PackWinogradFilter); false keeps them on the GEMM (for tests and benchmarks).
  bool winograd = true;
  // Grouped NHWC convolutions with 2, 4 or 8 channels per group in and out run the
  // depthwise kernel's channel-vectorized loop (kernels/cpu/conv.cc); false keeps them on
  // the grouped indirect GEMM (for tests and benchmarks).
  bool small_group_conv = true;
  // "attention" Fusion clusters whose body reads as strided views (kernels/cpu/attention.h)
  // run as one kernel; false expands them back into their ops (for tests and benchmarks).
  bool attention = true;
};

// The provider ("cpu-portable"). Prepare expects a verified graph (VerifyGraph) whose
// shapes are all known; immutable and thread-safe.
std::unique_ptr<KernelProvider> CreateCpuKernelProvider(CpuKernelOptions options = {});

}  // namespace kiln

#endif  // KILN_KERNELS_CPU_CPU_KERNEL_PROVIDER_H_
