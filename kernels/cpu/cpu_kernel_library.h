// The run half of the CPU kernel library: every kernel function under its stable name
// ("cpu.add.f32"), with its parameter block's version and size. This is what the runtime
// core links; it depends on the kernel ABI and //base only. The prepare half
// (CpuKernelProvider) picks kernels by these names.
#ifndef KILN_KERNELS_CPU_CPU_KERNEL_LIBRARY_H_
#define KILN_KERNELS_CPU_CPU_KERNEL_LIBRARY_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/dtype.h"
#include "kernels/cpu/gemm_isa.h"
#include "kernels/kernel_library.h"

namespace kiln {

// The library "cpu", built once; thread-safe.
const KernelLibrary& CpuKernelLibrary();

namespace cpu {

// "cpu.<op>.<dtype>" ("cpu.add.f32", "cpu.equal.bool").
std::string SymbolName(absl::string_view op, DataType dtype);

// The GEMM-based f32 kernels exist once per microkernel instruction set:
// "cpu.<op>.f32.<isa>" ("cpu.mat_mul.f32.avx512"), needing that set's CPU features.
inline constexpr GemmIsa kGemmIsas[] = {GemmIsa::kPortable, GemmIsa::kPortableWide,
                                        GemmIsa::kAvx2, GemmIsa::kAvx512};
std::string GemmSymbolName(absl::string_view op, GemmIsa isa);
uint32_t GemmIsaCpuFeatures(GemmIsa isa);

// What each kernel family file adds its kernels to.
class SymbolList {
 public:
  // Adds kernel `name` reading a parameter block P.
  template <typename P>
  void Add(std::string name, kiln_kernel_fn fn, uint32_t cpu_features = 0) {
    Push(std::move(name), fn, P::kVersion, sizeof(P), false, cpu_features);
  }
  // The same for a kernel whose block continues past P (a list or a value follows).
  template <typename P>
  void AddTrailing(std::string name, kiln_kernel_fn fn) {
    Push(std::move(name), fn, P::kVersion, sizeof(P), true, 0);
  }
  // Adds SymbolName(op, d) for every element type d where select(d) gives a function.
  template <typename P, typename Select>
  void AddPerType(absl::string_view op, Select select) {
    for (DataType d : kAllDataTypes) {
      if (kiln_kernel_fn fn = select(d)) Add<P>(SymbolName(op, d), fn);
    }
  }

  std::vector<KernelSymbol> Take() { return std::move(symbols_); }

 private:
  static constexpr DataType kAllDataTypes[] = {
      DataType::kF32, DataType::kF16, DataType::kBF16, DataType::kF64, DataType::kI8,
      DataType::kI32, DataType::kI64, DataType::kBool, DataType::kU8};
  void Push(std::string name, kiln_kernel_fn fn, uint32_t version, int64_t size, bool trailing,
            uint32_t cpu_features);
  std::vector<KernelSymbol> symbols_;
};

// One per family file.
void AddElementwiseKernels(SymbolList& list);
void AddCastKernels(SymbolList& list);
void AddMatMulKernels(SymbolList& list);
void AddAttentionKernels(SymbolList& list);
void AddConvKernels(SymbolList& list);
void AddWinogradKernels(SymbolList& list);
void AddPoolKernels(SymbolList& list);
void AddNormalizationKernels(SymbolList& list);
void AddReductionKernels(SymbolList& list);
void AddShapeKernels(SymbolList& list);
void AddSourceKernels(SymbolList& list);

}  // namespace cpu
}  // namespace kiln

#endif  // KILN_KERNELS_CPU_CPU_KERNEL_LIBRARY_H_
