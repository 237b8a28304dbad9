#include "kernels/cpu/cpu_kernel_library.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace kiln {
namespace cpu {

std::string SymbolName(absl::string_view op, DataType dtype) {
  return absl::StrCat("cpu.", op, ".", DataTypeName(dtype));
}

std::string GemmSymbolName(absl::string_view op, GemmIsa isa) {
  return absl::StrCat(SymbolName(op, DataType::kF32), ".",
                      absl::StrReplaceAll(GemmIsaName(isa), {{"-", "_"}}));
}

uint32_t GemmIsaCpuFeatures(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kAvx2: return kCpuAvx2Fma;
    case GemmIsa::kAvx512: return kCpuAvx512;
    default: return 0;
  }
}

void SymbolList::Push(std::string name, kiln_kernel_fn fn, uint32_t version, int64_t size,
                      bool trailing, uint32_t cpu_features) {
  KernelSymbol symbol;
  symbol.name = std::move(name);
  symbol.fn = fn;
  symbol.params_version = version;
  symbol.params_size = size;
  symbol.params_trailing = trailing;
  symbol.cpu_features = cpu_features;
  symbols_.push_back(std::move(symbol));
}

}  // namespace cpu

const KernelLibrary& CpuKernelLibrary() {
  static const KernelLibrary* const library = [] {
    cpu::SymbolList list;
    cpu::AddElementwiseKernels(list);
    cpu::AddCastKernels(list);
    cpu::AddMatMulKernels(list);
    cpu::AddConvKernels(list);
    cpu::AddWinogradKernels(list);
    cpu::AddPoolKernels(list);
    cpu::AddNormalizationKernels(list);
    cpu::AddReductionKernels(list);
    cpu::AddShapeKernels(list);
    cpu::AddSourceKernels(list);
    cpu::AddAttentionKernels(list);
    return new KernelLibrary("cpu", list.Take());
  }();
  return *library;
}

}  // namespace kiln
