#include "runtime/default_provider.h"

#include "kernels/cpu/cpu_kernel_provider.h"
#include "runtime/fallback_kernel_provider.h"
#include "runtime/reference_kernel_provider.h"

namespace kiln {

std::shared_ptr<const KernelProvider> DefaultKernelProvider() {
  // The portable CPU kernels; ops they do not cover yet run on the reference kernels.
  static const auto* provider = new std::shared_ptr<const KernelProvider>(
      std::make_shared<FallbackKernelProvider>(CreateCpuKernelProvider(),
                                               std::make_shared<ReferenceKernelProvider>()));
  return *provider;
}

}  // namespace kiln
