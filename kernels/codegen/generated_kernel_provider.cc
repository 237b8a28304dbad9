#include "kernels/codegen/generated_kernel_provider.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "graph/fusion.h"
#include "kernels/codegen/loop_kernel.h"
#include "kernels/codegen/row_kernel.h"

namespace kiln {
namespace {

class GeneratedKernelProvider : public KernelProvider {
 public:
  GeneratedKernelProvider(std::shared_ptr<const KernelProvider> library,
                          codegen::CodegenOptions options)
      : library_(std::move(library)),
        options_(std::move(options)),
        name_(absl::StrCat("cpu-generated+", library_->name())) {}

  absl::string_view name() const override { return name_; }

  bool RunsFusion(const Node& fusion) const override {
    return library_->RunsFusion(fusion) || codegen::CheckLoopFusion(fusion).ok();
  }

  std::optional<Tensor> PackGemmWeight(const Node& matmul, const Tensor& b) const override {
    return library_->PackGemmWeight(matmul, b);
  }

  std::optional<Tensor> PackWinogradFilter(const Node& conv, const Tensor& filter) const override {
    return library_->PackWinogradFilter(conv, filter);
  }

  absl::StatusOr<PreparedKernel> Prepare(const Graph& graph, const Node& node) const override {
    codegen::LoopKernelSource loop;
    std::string kind;
    if (node.op == kFusionOp && !library_->RunsFusion(node) &&
        codegen::CheckLoopFusion(node).ok()) {
      ASSIGN_OR_RETURN(loop, codegen::EmitLoopKernel(graph, node));
      kind = "loop";
    } else if (codegen::CheckRowKernel(graph, node).ok()) {
      ASSIGN_OR_RETURN(loop, codegen::EmitRowKernel(graph, node));
      kind = "row";
    } else {
      return library_->Prepare(graph, node);
    }
    codegen::KernelSource source{std::move(loop.mlir), codegen::kLoopFunction,
                                 loop.num_buffers, kind, loop.stream_stores};
    auto compiled = codegen::GetOrCompileKernel(source, options_);
    if (!compiled.ok()) {
      return absl::Status(compiled.status().code(),
                          absl::StrCat("node '", node.name, "' (", node.op, "): ",
                                       compiled.status().message()));
    }
    PreparedKernel kernel;
    kernel.fn = compiled->fn;
    kernel.name = compiled->name;
    kernel.workgroup_count = loop.workgroup_count;
    return kernel;
  }

 private:
  std::shared_ptr<const KernelProvider> library_;
  codegen::CodegenOptions options_;
  std::string name_;
};

}  // namespace

std::unique_ptr<KernelProvider> CreateGeneratedKernelProvider(
    std::shared_ptr<const KernelProvider> library, codegen::CodegenOptions options) {
  return std::make_unique<GeneratedKernelProvider>(std::move(library), std::move(options));
}

}  // namespace kiln
