// The kernel library a Session uses when SessionOptions names none. One function, so
// switching the whole runtime to another library is a one-line change in its .cc.
#ifndef KILN_RUNTIME_DEFAULT_PROVIDER_H_
#define KILN_RUNTIME_DEFAULT_PROVIDER_H_

#include <memory>

#include "kernels/abi/kernel_provider.h"

namespace kiln {

// The process-wide default provider (immutable, thread-safe). Today the reference
// kernels (runtime/reference_kernel_provider.h), until the portable CPU kernel library
// lands.
std::shared_ptr<const KernelProvider> DefaultKernelProvider();

}  // namespace kiln

#endif  // KILN_RUNTIME_DEFAULT_PROVIDER_H_
