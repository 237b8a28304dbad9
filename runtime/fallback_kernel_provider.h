// FallbackKernelProvider: prepares each node with a primary kernel library and, where
// that library has no kernel for the node (kUnimplemented), with a fallback library.
// Session's default is the portable CPU kernels falling back to the reference kernels,
// so every registered op runs while the fast library grows.
#ifndef KILN_RUNTIME_FALLBACK_KERNEL_PROVIDER_H_
#define KILN_RUNTIME_FALLBACK_KERNEL_PROVIDER_H_

#include <memory>
#include <string>

#include "kernels/kernel_provider.h"

namespace kiln {

// Thread-safe when both providers are. Errors other than kUnimplemented from the
// primary are returned as they are (a bad node must not be hidden by a fallback).
class FallbackKernelProvider : public KernelProvider {
 public:
  FallbackKernelProvider(std::shared_ptr<const KernelProvider> primary,
                         std::shared_ptr<const KernelProvider> fallback);

  absl::string_view name() const override { return name_; }
  absl::StatusOr<PreparedKernel> Prepare(const Graph& graph, const Node& node) const override;
  // The primary's answer: a fusion the fast library cannot run is expanded, not handed
  // to the (slow) fallback.
  bool RunsFusion(const Node& fusion) const override { return primary_->RunsFusion(fusion); }
  std::optional<Tensor> PackGemmWeight(const Node& matmul, const Tensor& b) const override {
    return primary_->PackGemmWeight(matmul, b);
  }
  std::optional<Tensor> PackWinogradFilter(const Node& conv, const Tensor& filter) const override {
    return primary_->PackWinogradFilter(conv, filter);
  }

 private:
  std::shared_ptr<const KernelProvider> primary_;
  std::shared_ptr<const KernelProvider> fallback_;
  std::string name_;
};

}  // namespace kiln

#endif  // KILN_RUNTIME_FALLBACK_KERNEL_PROVIDER_H_
