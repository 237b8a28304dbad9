// The CPU kernel table: op name -> prepare function, one explicit list (kernel_table.cc).
#ifndef KILN_KERNELS_CPU_KERNEL_TABLE_H_
#define KILN_KERNELS_CPU_KERNEL_TABLE_H_

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "kernels/cpu/kernels.h"

namespace kiln::cpu {

using PrepareFn = PrepareResult (*)(const PrepareContext& ctx);

struct KernelTableEntry {
  absl::string_view op;
  PrepareFn prepare;
  int variant;  // passed as PrepareContext::variant
};

// Every entry, sorted by op name.
absl::Span<const KernelTableEntry> CpuKernelTable();
// The entry for `op`, or null.
const KernelTableEntry* FindCpuKernel(absl::string_view op);

}  // namespace kiln::cpu

#endif  // KILN_KERNELS_CPU_KERNEL_TABLE_H_
