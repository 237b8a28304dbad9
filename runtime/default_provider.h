// The kernel library a Session uses when SessionOptions names none. One function, so
// switching the whole runtime to another library is a one-line change in its .cc.
#ifndef KILN_RUNTIME_DEFAULT_PROVIDER_H_
#define KILN_RUNTIME_DEFAULT_PROVIDER_H_

#include <memory>

#include "kernels/kernel_provider.h"

namespace kiln {

// The process-wide default provider (immutable, thread-safe): the portable CPU kernels
// (kernels/cpu/), falling back to the reference kernels for ops they do not cover.
std::shared_ptr<const KernelProvider> DefaultKernelProvider();

}  // namespace kiln

#endif  // KILN_RUNTIME_DEFAULT_PROVIDER_H_
