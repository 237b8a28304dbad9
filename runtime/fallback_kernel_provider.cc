#include "runtime/fallback_kernel_provider.h"

#include "absl/strings/str_cat.h"

namespace kiln {

FallbackKernelProvider::FallbackKernelProvider(std::shared_ptr<const KernelProvider> primary,
                                               std::shared_ptr<const KernelProvider> fallback)
    : primary_(std::move(primary)),
      fallback_(std::move(fallback)),
      name_(absl::StrCat(primary_->name(), "+", fallback_->name())) {}

absl::StatusOr<PreparedKernel> FallbackKernelProvider::Prepare(const Graph& graph,
                                                               const Node& node) const {
  absl::StatusOr<PreparedKernel> kernel = primary_->Prepare(graph, node);
  if (kernel.ok() || kernel.status().code() != absl::StatusCode::kUnimplemented) return kernel;
  return fallback_->Prepare(graph, node);
}

}  // namespace kiln
