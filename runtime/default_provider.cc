#include "runtime/default_provider.h"

#include "kernels/codegen/generated_kernel_provider.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "runtime/fallback_kernel_provider.h"
#include "runtime/reference_kernel_provider.h"

namespace kiln {
namespace {

std::shared_ptr<const KernelProvider> WithReferenceFallback(
    std::shared_ptr<const KernelProvider> provider) {
  return std::make_shared<FallbackKernelProvider>(std::move(provider),
                                                  std::make_shared<ReferenceKernelProvider>());
}

std::shared_ptr<const KernelProvider> CpuLibrary() {
  static const auto* library =
      new std::shared_ptr<const KernelProvider>(CreateCpuKernelProvider());
  return *library;
}

}  // namespace

std::shared_ptr<const KernelProvider> DefaultKernelProvider() {
  static const auto* provider = new std::shared_ptr<const KernelProvider>(
      WithReferenceFallback(CreateGeneratedKernelProvider(CpuLibrary())));
  return *provider;
}

std::shared_ptr<const KernelProvider> LibraryKernelProvider() {
  static const auto* provider =
      new std::shared_ptr<const KernelProvider>(WithReferenceFallback(CpuLibrary()));
  return *provider;
}

std::shared_ptr<const KernelProvider> GeneratedKernelProviderWithCache(
    const std::string& cache_dir) {
  codegen::CodegenOptions options;
  options.cache_dir = cache_dir;
  return WithReferenceFallback(CreateGeneratedKernelProvider(CpuLibrary(), options));
}

}  // namespace kiln
