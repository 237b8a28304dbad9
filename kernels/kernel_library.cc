#include "kernels/kernel_library.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln {

uint32_t HostCpuFeatures() {
  __builtin_cpu_init();
  uint32_t features = 0;
  const bool fma = __builtin_cpu_supports("fma");
  if (fma && __builtin_cpu_supports("avx2")) features |= kCpuAvx2Fma;
  if (fma && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")) {
    features |= kCpuAvx512;
  }
  return features;
}

std::string CpuFeatureNames(uint32_t features) {
  std::vector<std::string> names;
  if (features & kCpuAvx2Fma) names.push_back("avx2+fma");
  if (features & kCpuAvx512) names.push_back("avx512");
  const uint32_t unknown = features & ~(kCpuAvx2Fma | kCpuAvx512);
  if (unknown != 0) names.push_back(absl::StrCat("unknown(0x", absl::Hex(unknown), ")"));
  return names.empty() ? "none" : absl::StrJoin(names, ",");
}

KernelLibrary::KernelLibrary(std::string name, std::vector<KernelSymbol> symbols)
    : name_(std::move(name)), symbols_(std::move(symbols)) {
  std::stable_sort(symbols_.begin(), symbols_.end(),
                   [](const KernelSymbol& a, const KernelSymbol& b) { return a.name < b.name; });
}

const KernelSymbol* KernelLibrary::Find(absl::string_view name) const {
  auto it = std::lower_bound(
      symbols_.begin(), symbols_.end(), name,
      [](const KernelSymbol& s, absl::string_view n) { return s.name < n; });
  return it != symbols_.end() && it->name == name ? &*it : nullptr;
}

absl::Status KernelLibrary::Check() const {
  for (size_t i = 0; i < symbols_.size(); ++i) {
    const KernelSymbol& s = symbols_[i];
    if (i > 0 && symbols_[i - 1].name == s.name) {
      return absl::InternalError(
          absl::StrCat("kernel library '", name_, "': kernel '", s.name, "' exported twice"));
    }
    const bool well_formed =
        absl::StartsWith(s.name, absl::StrCat(name_, ".")) &&
        std::all_of(s.name.begin(), s.name.end(), [](char c) {
          return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '.' || c == '_';
        });
    if (!well_formed) {
      return absl::InternalError(absl::StrCat("kernel library '", name_, "': kernel name '",
                                              s.name, "' is not '", name_,
                                              ".<lower-case words>'"));
    }
    if (s.fn == nullptr || s.params_size <= 0 || s.params_version == 0) {
      return absl::InternalError(absl::StrCat("kernel library '", name_, "': kernel '", s.name,
                                              "' lacks a function, a params size or version"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckKernelCall(const KernelSymbol& symbol, uint32_t params_version,
                             int64_t params_size, uint32_t host_features) {
  if (params_version != symbol.params_version) {
    return absl::FailedPreconditionError(
        absl::StrCat("parameter block version ", params_version, ", but kernel '", symbol.name,
                     "' of this runtime reads version ", symbol.params_version));
  }
  const bool size_ok = symbol.params_trailing ? params_size >= symbol.params_size
                                              : params_size == symbol.params_size;
  if (!size_ok) {
    return absl::FailedPreconditionError(
        absl::StrCat("parameter block of ", params_size, " bytes, but kernel '", symbol.name,
                     "' reads ", symbol.params_trailing ? "at least " : "", symbol.params_size));
  }
  const uint32_t missing = symbol.cpu_features & ~host_features;
  if (missing != 0) {
    return absl::FailedPreconditionError(absl::StrCat("kernel '", symbol.name, "' needs ",
                                                      CpuFeatureNames(missing),
                                                      ", which this CPU lacks"));
  }
  return absl::OkStatus();
}

}  // namespace kiln
