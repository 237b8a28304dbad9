#include "runtime/default_provider.h"

#include "runtime/reference_kernel_provider.h"

namespace kiln {

std::shared_ptr<const KernelProvider> DefaultKernelProvider() {
  static const auto* provider =
      new std::shared_ptr<const KernelProvider>(std::make_shared<ReferenceKernelProvider>());
  return *provider;
}

}  // namespace kiln
