// Generated kernels packaged for a file: their relocatable objects (kernel_compiler.h)
// linked into one ELF shared object by the system linker, ld.lld. An artifact carries it in
// its code section; the runtime core loads it with the dynamic loader (runtime/code_library.h).
#ifndef KILN_KERNELS_CODEGEN_SHARED_OBJECT_H_
#define KILN_KERNELS_CODEGEN_SHARED_OBJECT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace kiln::codegen {

// Links `objects` (relocatable, position-independent ELF objects for this host) into a
// shared object that exports `exported_symbols` and nothing else, and depends on the libc
// and libm of this system for what the objects call (powf); an undefined symbol anything
// else would have to provide is an error. Runs the first of ld.lld-14, ld.lld found on
// PATH over files in a fresh temporary directory, removed afterwards. Thread-safe.
// Errors: FailedPrecondition when no linker is found, Internal with the linker's message
// when it fails.
absl::StatusOr<std::string> LinkSharedObject(absl::Span<const std::string> objects,
                                             absl::Span<const std::string> exported_symbols);

// The generated kernels `names` (each compiled or loaded by this process, see
// GetOrCompileKernel) in one shared object that exports their entry symbols
// (EntrySymbol(name)). Errors: GetKernelObject's NotFound, and LinkSharedObject's.
absl::StatusOr<std::string> LinkKernels(absl::Span<const std::string> names);

}  // namespace kiln::codegen

#endif  // KILN_KERNELS_CODEGEN_SHARED_OBJECT_H_
