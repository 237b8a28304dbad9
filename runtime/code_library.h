// Kernels whose code is an ELF shared object held in memory (an artifact's code section),
// loaded by the system's dynamic loader from an anonymous memory file (memfd): no file is
// written, and relocation, symbol binding against libc and libm, and unwinding
// registration are the loader's, as for any shared library (docs/runtime.md says why not
// a loader of our own). Part of the runtime core: it uses glibc's dlopen, never LLVM.
#ifndef KILN_RUNTIME_CODE_LIBRARY_H_
#define KILN_RUNTIME_CODE_LIBRARY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kernels/kernel_library.h"

namespace kiln {

// One kernel the shared object exports: a kernel-ABI function without a parameter block
// (generated kernels take only buffers and a workgroup).
struct CodeKernel {
  std::string name;          // what steps call it ("gen.loop.<hash>")
  std::string entry_symbol;  // its dynamic symbol ("kiln_gen_loop_<hash>")
  uint32_t cpu_features = 0;  // CpuFeature bits its code needs
};

// A loaded shared object and the KernelLibrary of its kernels. The code stays mapped until
// the CodeLibrary goes (dlclose); whoever runs its functions must hold it. Immutable and
// thread-safe.
class CodeLibrary {
 public:
  // The name of the KernelLibrary: "artifact code".
  static constexpr absl::string_view kLibraryName = "artifact code";

  // Loads `shared_object` (copied into a sealed memfd, dlopen'ed through /proc/self/fd
  // with RTLD_NOW | RTLD_LOCAL, the descriptor closed) and looks up every kernel's entry
  // symbol. The bytes are code: load only what you would load as a shared library. It does
  // not check CPU features (the caller does, before loading). Errors: DataLoss with the
  // loader's message when the bytes do not load; InvalidArgument naming the kernel and
  // symbol the object does not export; ResourceExhausted when no memfd can be made.
  static absl::StatusOr<std::shared_ptr<const CodeLibrary>> Load(
      absl::string_view shared_object, const std::vector<CodeKernel>& kernels);

  ~CodeLibrary();
  CodeLibrary(const CodeLibrary&) = delete;
  CodeLibrary& operator=(const CodeLibrary&) = delete;

  const KernelLibrary& library() const { return library_; }

 private:
  CodeLibrary(void* handle, KernelLibrary library)
      : handle_(handle), library_(std::move(library)) {}

  void* handle_;  // dlopen's
  KernelLibrary library_;
};

}  // namespace kiln

#endif  // KILN_RUNTIME_CODE_LIBRARY_H_
