// The generated-code kernel provider: loop Fusion clusters become kernels compiled through
// MLIR and LLVM for this host (loop_kernel.h, kernel_compiler.h); every other node is
// prepared by the hand-written library it wraps. `kiln --kernels library` leaves it out.
#ifndef KILN_KERNELS_CODEGEN_GENERATED_KERNEL_PROVIDER_H_
#define KILN_KERNELS_CODEGEN_GENERATED_KERNEL_PROVIDER_H_

#include <memory>

#include "kernels/codegen/kernel_compiler.h"
#include "kernels/kernel_provider.h"

namespace kiln {

// A provider that runs the loop fusions `library` does not run itself as generated kernels
// and delegates the rest to `library`. Immutable and thread-safe. Kernels it generates are
// named "gen.loop.<hash>" and are in no linked kernel library: an Executable holding them
// runs in this process but cannot be written out.
std::unique_ptr<KernelProvider> CreateGeneratedKernelProvider(
    std::shared_ptr<const KernelProvider> library, codegen::CodegenOptions options = {});

}  // namespace kiln

#endif  // KILN_KERNELS_CODEGEN_GENERATED_KERNEL_PROVIDER_H_
