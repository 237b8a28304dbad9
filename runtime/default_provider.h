// The kernel providers a Session or Compile uses when the caller names none. One file, so
// switching the whole runtime to another library is a change here.
#ifndef KILN_RUNTIME_DEFAULT_PROVIDER_H_
#define KILN_RUNTIME_DEFAULT_PROVIDER_H_

#include <memory>
#include <string>

#include "kernels/kernel_provider.h"

namespace kiln {

// The process-wide default (immutable, thread-safe): loop Fusion clusters as kernels
// generated through MLIR for this CPU (kernels/codegen/), the hand-written CPU library
// (kernels/cpu/) for everything else, and the reference kernels for ops neither covers.
std::shared_ptr<const KernelProvider> DefaultKernelProvider();

// The hand-written CPU library with the reference fallback, no generated code: what
// `--kernels library` selects, and what an Executable written to a file uses (its kernels
// must be in a library the loading binary links).
std::shared_ptr<const KernelProvider> LibraryKernelProvider();

// DefaultKernelProvider with generated objects cached in `cache_dir` (created if missing),
// so another process with the same cache compiles nothing it has compiled before.
std::shared_ptr<const KernelProvider> GeneratedKernelProviderWithCache(
    const std::string& cache_dir);

}  // namespace kiln

#endif  // KILN_RUNTIME_DEFAULT_PROVIDER_H_
