// What a linked kernel library exports to the runtime core: its kernel functions under
// stable names, each with the version and size of the parameter block it reads and the
// CPU features it needs. An Executable names its kernels; the core resolves each name
// here once at load. C++ but free of the IR: the core and the compiler both use it.
#ifndef KILN_KERNELS_KERNEL_LIBRARY_H_
#define KILN_KERNELS_KERNEL_LIBRARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "kernels/abi/kernel_abi.h"

namespace kiln {

// CPU features a kernel's code needs, as bits.
enum CpuFeature : uint32_t {
  kCpuAvx2Fma = 1u << 0,  // AVX2 and FMA
  kCpuAvx512 = 1u << 1,   // AVX-512F (with VL, BW, DQ) and FMA
};
// The features of the running CPU.
uint32_t HostCpuFeatures();
// "avx2+fma", "avx512", joined with ","; "none" for 0.
std::string CpuFeatureNames(uint32_t features);

// The start of every generated kernel's name ("gen.loop.<hash>", "gen.row.<hash>"):
// kernels compiled for one model, which no library linked into a binary holds; an
// artifact carries their code.
inline constexpr absl::string_view kGeneratedKernelPrefix = "gen.";

// One exported kernel function.
struct KernelSymbol {
  // Stable across builds: "<library>.<op>.<dtype>[.<variant>]" ("cpu.add.f32",
  // "cpu.mat_mul.f32.avx512"). Executables store it.
  std::string name;
  kiln_kernel_fn fn = nullptr;
  // The parameter block the function reads: its layout version (bumped whenever the
  // struct changes) and its size in bytes. A block may be longer when the kernel says so
  // (`params_trailing`), never shorter.
  uint32_t params_version = 1;
  int64_t params_size = 0;
  bool params_trailing = false;  // bytes after the struct belong to it (Constant's value)
  uint32_t cpu_features = 0;
};

// The symbols of one library, sorted by name, each name once.
class KernelLibrary {
 public:
  // Sorts `symbols`; duplicate names are a programming error reported by Check().
  KernelLibrary(std::string name, std::vector<KernelSymbol> symbols);

  absl::string_view name() const { return name_; }
  absl::Span<const KernelSymbol> symbols() const { return symbols_; }
  // The symbol called `name`, or null.
  const KernelSymbol* Find(absl::string_view name) const;
  // Every name unique and well formed, every function set, every size positive.
  absl::Status Check() const;

 private:
  std::string name_;
  std::vector<KernelSymbol> symbols_;
};

// Why `symbol` cannot serve a call with a `params_size`-byte block of `params_version`
// on a CPU with `host_features`; OK when it can. The error says which of the three.
absl::Status CheckKernelCall(const KernelSymbol& symbol, uint32_t params_version,
                             int64_t params_size, uint32_t host_features);

}  // namespace kiln

#endif  // KILN_KERNELS_KERNEL_LIBRARY_H_
