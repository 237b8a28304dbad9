// Generated kernels from source to a callable function: lower (lowering.h), compile to a
// relocatable object for the host (native.h) and load that object into the process's JIT
// (LLVM ORC). The object is the one output of the code generator: the JIT loads it, the
// on-disk cache stores it, and an artifact carries it (shared_object.h links the objects).
//
// Kernels are cached per process, keyed by a hash of the source (module text, streaming
// stores or not) and the host target; with CodegenOptions::cache_dir, objects are also
// kept on disk so a second process loads them instead of compiling. Loaded code, and its
// object, stays for the life of the process.
#ifndef KILN_KERNELS_CODEGEN_KERNEL_COMPILER_H_
#define KILN_KERNELS_CODEGEN_KERNEL_COMPILER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kernels/abi/kernel_abi.h"

namespace kiln::codegen {

struct CodegenOptions {
  // A directory for compiled objects (created if missing); empty: memory cache only.
  std::string cache_dir;
};

struct CompiledKernel {
  kiln_kernel_fn fn = nullptr;
  // The kernel's stable name, "gen.loop.<hash>": the same source on the same host target
  // has the same name in every process.
  std::string name;
};

// What one function's module is: the MLIR text and how to call the function in it.
struct KernelSource {
  std::string mlir;
  std::string function;  // the function the entry calls
  int num_buffers = 0;
  std::string kind;      // "loop": part of the name
  bool stream_stores = false;  // non-temporal vector stores (streaming_stores.h)
};

// The relocatable object (ELF) of `source` for this host, with the kernel-ABI entry
// `EntrySymbol(name)`. Errors: lowering or code generation failures (Internal).
absl::StatusOr<std::string> CompileToObject(const KernelSource& source, absl::string_view name);

// The kernel's name for `source` on this host.
std::string KernelName(const KernelSource& source);
// The symbol of a kernel's entry in its object ("gen.loop.ab12" -> "kiln_gen_loop_ab12").
std::string EntrySymbol(absl::string_view name);

// The kernel for `source`: from the process cache, the disk cache, or compiled now.
// Thread-safe (compiles one kernel at a time).
absl::StatusOr<CompiledKernel> GetOrCompileKernel(const KernelSource& source,
                                                  const CodegenOptions& options);

// The relocatable object of kernel `name` (a CompiledKernel's name) as this process
// compiled or loaded it; what an artifact's code is linked from. NotFound for a name this
// process has not generated. Thread-safe.
absl::StatusOr<std::string> GetKernelObject(absl::string_view name);

// What `kiln opt --emit` prints of a kernel, in pipeline order.
enum class EmitStage {
  kMlir,         // "mlir": the generated module (linalg on tensors)
  kLoops,        // "loops": fused, bufferized, scf loops, polynomial math
  kLlvmDialect,  // "llvm-dialect": the LLVM dialect
  kLlvmIr,       // "llvm": LLVM IR with the kernel entry, after -O3 for this host
  kAssembly,     // "asm": the host's assembly
};
// The stage named `name`; InvalidArgument listing the names otherwise.
absl::StatusOr<EmitStage> ParseEmitStage(absl::string_view name);

// `source` lowered to `stage`, as text. When `trace` is not null the MLIR module after
// every lowering pass is appended to it.
absl::StatusOr<std::string> EmitKernel(const KernelSource& source, EmitStage stage,
                                       std::string* trace = nullptr);

// Counters of this process's GetOrCompileKernel calls, for `kiln bench` and tests.
struct CodegenStats {
  int64_t compiled = 0;     // lowered and compiled
  int64_t memory_hits = 0;  // found loaded in this process
  int64_t disk_hits = 0;    // loaded from the cache directory
  double compile_ms = 0;    // wall time spent compiling
};
CodegenStats GetCodegenStats();

}  // namespace kiln::codegen

#endif  // KILN_KERNELS_CODEGEN_KERNEL_COMPILER_H_
