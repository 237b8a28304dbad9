#include "kernels/codegen/kernel_compiler.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <unistd.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "base/status_macros.h"
#include "kernels/codegen/lowering.h"
#include "kernels/kernel_library.h"
#include "kernels/codegen/native.h"
#include "kernels/codegen/streaming_stores.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/xxhash.h"

namespace kiln::codegen {
namespace {

// Bumped when the code generator changes what the same source compiles to, so on-disk
// caches of older builds are not reused.
constexpr int kCodegenVersion = 1;

std::string LlvmErrorText(llvm::Error error) { return llvm::toString(std::move(error)); }

// The process's JIT and caches. Loaded code is never unloaded; each kernel's object stays
// beside it, so an artifact can carry the code this process runs.
class KernelCache {
 public:
  static KernelCache& Get() {
    static KernelCache* cache = new KernelCache;
    return *cache;
  }

  absl::StatusOr<CompiledKernel> GetOrCompile(const KernelSource& source,
                                              const CodegenOptions& options) {
    const std::string name = KernelName(source);
    absl::MutexLock lock(&mu_);
    if (auto it = loaded_.find(name); it != loaded_.end()) {
      ++stats_.memory_hits;
      return CompiledKernel{it->second.fn, name};
    }
    std::string object;
    const std::string path =
        options.cache_dir.empty() ? "" : absl::StrCat(options.cache_dir, "/", name, ".o");
    if (!path.empty() && ReadFile(path, object)) {
      // A damaged or foreign file is compiled afresh and replaced.
      if (auto fn = Load(name, object); fn.ok()) {
        ++stats_.disk_hits;
        loaded_.emplace(name, Loaded{*fn, std::move(object)});
        return CompiledKernel{*fn, name};
      }
    }
    {
      const auto start = std::chrono::steady_clock::now();
      ASSIGN_OR_RETURN(object, CompileToObject(source, name));
      stats_.compile_ms +=
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      ++stats_.compiled;
      if (!path.empty()) RETURN_IF_ERROR(WriteFileAtomically(options.cache_dir, path, object));
    }
    ASSIGN_OR_RETURN(kiln_kernel_fn fn, Load(name, object));
    loaded_.emplace(name, Loaded{fn, std::move(object)});
    return CompiledKernel{fn, name};
  }

  absl::StatusOr<std::string> Object(absl::string_view name) {
    absl::MutexLock lock(&mu_);
    auto it = loaded_.find(name);
    if (it == loaded_.end()) {
      return absl::NotFoundError(absl::StrCat("code generation: kernel '", name,
                                              "' was not generated in this process"));
    }
    return it->second.object;
  }

  CodegenStats stats() {
    absl::MutexLock lock(&mu_);
    return stats_;
  }

 private:
  absl::StatusOr<kiln_kernel_fn> Load(const std::string& name, const std::string& object)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (jit_ == nullptr) {
      // Creating the target machine first initializes LLVM's native target.
      RETURN_IF_ERROR(CreateHostTargetMachine().status());
      auto jit = llvm::orc::LLJITBuilder().create();
      if (!jit) {
        return absl::InternalError(
            absl::StrCat("code generation: cannot create the JIT: ", LlvmErrorText(jit.takeError())));
      }
      jit_ = std::move(*jit);
      // Generated code may call libm (powf) and nothing else from the process.
      auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
          jit_->getDataLayout().getGlobalPrefix());
      if (!process) {
        return absl::InternalError(absl::StrCat("code generation: ",
                                                LlvmErrorText(process.takeError())));
      }
      jit_->getMainJITDylib().addGenerator(std::move(*process));
    }
    // Each object under its own tracker, so one that fails to link is removed whole and
    // its symbols can be defined again by a fresh compile.
    llvm::orc::ResourceTrackerSP tracker = jit_->getMainJITDylib().createResourceTracker();
    if (llvm::Error error = jit_->addObjectFile(
            tracker, llvm::MemoryBuffer::getMemBufferCopy(
                         object, llvm::StringRef(name.data(), name.size())))) {
      llvm::consumeError(tracker->remove());
      return absl::InternalError(absl::StrCat("code generation: cannot load kernel '", name,
                                              "': ", LlvmErrorText(std::move(error))));
    }
    auto address = jit_->lookup(EntrySymbol(name));
    if (!address) {
      llvm::consumeError(tracker->remove());
      return absl::InternalError(absl::StrCat("code generation: kernel '", name,
                                              "' does not link: ",
                                              LlvmErrorText(address.takeError())));
    }
    return address->toPtr<kiln_kernel_fn>();
  }

  static bool ReadFile(const std::string& path, std::string& bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream contents;
    contents << in.rdbuf();
    bytes = contents.str();
    return !bytes.empty();
  }

  // Another process may write the same entry at once: each writes its own temporary file
  // and renames it into place, so a reader sees a whole object or none.
  static absl::Status WriteFileAtomically(const std::string& dir, const std::string& path,
                                          const std::string& bytes) {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrCat("kernel cache directory '", dir, "': ", error.message()));
    }
    const std::string temporary = absl::StrCat(path, ".tmp.", getpid());
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!out) {
        return absl::FailedPreconditionError(
            absl::StrCat("kernel cache: cannot write '", temporary, "'"));
      }
    }
    std::filesystem::rename(temporary, path, error);
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrCat("kernel cache: cannot rename to '", path, "': ", error.message()));
    }
    return absl::OkStatus();
  }

  absl::Mutex mu_;
  std::unique_ptr<llvm::orc::LLJIT> jit_ ABSL_GUARDED_BY(mu_);
  // A loaded kernel and the object it was loaded from (kept for artifacts, a few KiB each).
  struct Loaded {
    kiln_kernel_fn fn;
    std::string object;
  };
  absl::flat_hash_map<std::string, Loaded> loaded_ ABSL_GUARDED_BY(mu_);
  CodegenStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::string KernelName(const KernelSource& source) {
  const std::string key = absl::StrCat(kCodegenVersion, "\n", HostTargetKey(), "\n",
                                       source.function, "\n", source.num_buffers, "\n",
                                       source.stream_stores ? "streaming stores\n" : "",
                                       source.mlir);
  return absl::StrFormat("%s%s.%016x", kGeneratedKernelPrefix, source.kind,
                         llvm::xxHash64(key));
}

std::string EntrySymbol(absl::string_view name) {
  return absl::StrCat("kiln_", absl::StrReplaceAll(name, {{".", "_"}}));
}

namespace {

// The optimized LLVM IR module of `source` with its kernel entry, and the machine for it.
struct OptimizedModule {
  std::unique_ptr<llvm::TargetMachine> machine;
  std::unique_ptr<llvm::Module> module;
};

absl::StatusOr<OptimizedModule> Optimize(const KernelSource& source, absl::string_view name,
                                         llvm::LLVMContext& context, std::string* trace) {
  OptimizedModule result;
  ASSIGN_OR_RETURN(result.module, LowerToLlvmIr(source.mlir, context, trace));
  RETURN_IF_ERROR(AddKernelEntry(*result.module, source.function, source.num_buffers,
                                 EntrySymbol(name)));
  ASSIGN_OR_RETURN(result.machine, CreateHostTargetMachine());
  OptimizeModule(*result.module, *result.machine);
  if (source.stream_stores) StreamVectorStores(*result.module);
  return result;
}

}  // namespace

absl::StatusOr<std::string> CompileToObject(const KernelSource& source, absl::string_view name) {
  llvm::LLVMContext context;
  ASSIGN_OR_RETURN(OptimizedModule optimized, Optimize(source, name, context, nullptr));
  return EmitNative(*optimized.module, *optimized.machine, NativeOutput::kObject);
}

absl::StatusOr<EmitStage> ParseEmitStage(absl::string_view name) {
  if (name == "mlir") return EmitStage::kMlir;
  if (name == "loops") return EmitStage::kLoops;
  if (name == "llvm-dialect") return EmitStage::kLlvmDialect;
  if (name == "llvm") return EmitStage::kLlvmIr;
  if (name == "asm") return EmitStage::kAssembly;
  return absl::InvalidArgumentError(absl::StrCat(
      "emit stage '", name, "' is not one of mlir, loops, llvm-dialect, llvm, asm"));
}

absl::StatusOr<std::string> EmitKernel(const KernelSource& source, EmitStage stage,
                                       std::string* trace) {
  switch (stage) {
    case EmitStage::kMlir:
      return LowerToStage(source.mlir, LoweringStage::kTensors, trace);
    case EmitStage::kLoops:
      return LowerToStage(source.mlir, LoweringStage::kLoops, trace);
    case EmitStage::kLlvmDialect:
      return LowerToStage(source.mlir, LoweringStage::kLlvmDialect, trace);
    case EmitStage::kLlvmIr:
    case EmitStage::kAssembly:
      break;
  }
  llvm::LLVMContext context;
  ASSIGN_OR_RETURN(OptimizedModule optimized, Optimize(source, KernelName(source), context, trace));
  if (stage == EmitStage::kLlvmIr) return PrintLlvmIr(*optimized.module);
  return EmitNative(*optimized.module, *optimized.machine, NativeOutput::kAssembly);
}

absl::StatusOr<CompiledKernel> GetOrCompileKernel(const KernelSource& source,
                                                  const CodegenOptions& options) {
  return KernelCache::Get().GetOrCompile(source, options);
}

absl::StatusOr<std::string> GetKernelObject(absl::string_view name) {
  return KernelCache::Get().Object(name);
}

CodegenStats GetCodegenStats() { return KernelCache::Get().stats(); }

}  // namespace kiln::codegen
