// The LLVM half of code generation: the kernel-ABI entry around a lowered kernel, LLVM's
// -O3 pipeline for the host CPU, and machine code (relocatable object or assembly) through
// LLVM's TargetMachine. The host's CPU name and features decide the instructions (AVX-512
// where the host has it, AVX2 where not): detected at run time, never an #ifdef.
#ifndef KILN_KERNELS_CODEGEN_NATIVE_H_
#define KILN_KERNELS_CODEGEN_NATIVE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

namespace kiln::codegen {

// A TargetMachine for this host at -O3 (position-independent code). Thread-safe; each call
// makes a new machine (one machine must not compile two modules at once).
absl::StatusOr<std::unique_ptr<llvm::TargetMachine>> CreateHostTargetMachine();

// "TRIPLE/CPU/FEATURES" of the host: what generated code depends on, for cache keys.
const std::string& HostTargetKey();

// Adds `entry`, a kiln_kernel_fn (kernels/abi/kernel_abi.h), to `module`: it loads the
// call's first `num_buffers` buffer pointers and calls `function(buffers..., workgroup_id,
// workgroup_count)`, which becomes internal so -O3 inlines it. Returns KILN_KERNEL_OK.
// Errors: no such function, or one whose signature is not (ptr x num_buffers, i64, i64).
absl::Status AddKernelEntry(llvm::Module& module, absl::string_view function, int num_buffers,
                            absl::string_view entry);

// Runs LLVM's default -O3 pipeline on `module` for `machine` (its data layout, triple,
// and cost model: the loop vectorizer's width comes from here).
void OptimizeModule(llvm::Module& module, llvm::TargetMachine& machine);

enum class NativeOutput { kObject, kAssembly };

// Machine code for `module` (consumed: code generation changes it).
absl::StatusOr<std::string> EmitNative(llvm::Module& module, llvm::TargetMachine& machine,
                                       NativeOutput output);

// The module's LLVM IR as text.
std::string PrintLlvmIr(const llvm::Module& module);

}  // namespace kiln::codegen

#endif  // KILN_KERNELS_CODEGEN_NATIVE_H_
