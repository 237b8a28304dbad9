// The MLIR half of code generation: a kernel module on tensors (loop_kernel.h) is fused,
// bufferized onto its argument buffers, turned into loops with polynomial math, and lowered
// to the LLVM dialect and LLVM IR. The only file that includes MLIR's headers.
#ifndef KILN_KERNELS_CODEGEN_LOWERING_H_
#define KILN_KERNELS_CODEGEN_LOWERING_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

namespace kiln::codegen {

// Where lowering stops, in pipeline order.
enum class LoweringStage {
  kTensors,      // the module as generated (linalg on tensors)
  kLoops,        // fused, bufferized (memrefs), scf loops, math as polynomials
  kLlvmDialect,  // the LLVM dialect, bare-pointer calling convention
};

// Parses `mlir`, lowers it to `stage` and returns the module's text. When `trace` is not
// null the module after every pass is appended to it ("// -----// IR Dump After ..."), as
// `kiln opt --dump-after-each` shows. Errors carry MLIR's diagnostics; a lowered kernel
// that would allocate memory is an error (the memory plan provides every buffer).
// Thread-safe (a context per call).
absl::StatusOr<std::string> LowerToStage(absl::string_view mlir, LoweringStage stage,
                                         std::string* trace = nullptr);

// Lowers `mlir` fully and translates it to an LLVM IR module in `context`.
absl::StatusOr<std::unique_ptr<llvm::Module>> LowerToLlvmIr(absl::string_view mlir,
                                                            llvm::LLVMContext& context,
                                                            std::string* trace = nullptr);

}  // namespace kiln::codegen

#endif  // KILN_KERNELS_CODEGEN_LOWERING_H_
