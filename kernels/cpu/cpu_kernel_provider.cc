// CpuKernelProvider: validates a node once (types known, rank within the params' limit,
// attributes and output types as shape inference gives them), then hands it to the
// prepare function the kernel table names.
#include "kernels/cpu/cpu_kernel_provider.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/op_registry.h"
#include "graph/shape_inference.h"
#include "base/status_macros.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernel_table.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/matmul_tiling.h"
#include "kernels/cpu/prepare_util.h"
#include "kernels/cpu/winograd.h"

namespace kiln {
namespace {

using cpu::NodeError;

absl::Status CheckType(const Node& node, const TensorType& type, absl::string_view what) {
  if (!type.shape.IsFullyKnown()) {
    return NodeError(absl::StatusCode::kFailedPrecondition, node,
                     absl::StrCat(what, " has unknown dimensions ", type.shape.ToString(),
                                  "; bind input shapes before preparing kernels"));
  }
  if (type.shape.rank() > cpu::kMaxRank) {
    return NodeError(absl::StatusCode::kUnimplemented, node,
                     absl::StrCat(what, " has rank ", type.shape.rank(),
                                  "; the CPU kernels support rank <= ", cpu::kMaxRank));
  }
  return absl::OkStatus();
}

class CpuKernelProvider : public KernelProvider {
 public:
  explicit CpuKernelProvider(CpuKernelOptions options) : options_(options) {}

  absl::string_view name() const override { return "cpu-portable"; }

  bool RunsFusion(const Node& fusion) const override {
    return options_.attention && cpu::UsableGemmIsa(options_.gemm_isa).has_value() &&
           cpu::CheckAttentionFusion(fusion).ok();
  }

  std::optional<Tensor> PackGemmWeight(const Node& node, const Tensor& weight) const override {
    if (!options_.pack_weights || weight.dtype() != DataType::kF32) return std::nullopt;
    // op(B) as k x n with element (p, j) at b[p * b_row + j * b_col].
    int64_t k, n, b_row, b_col;
    const Shape& shape = weight.shape();
    if (node.op == "MatMul" && shape.rank() == 2) {
      const bool transposed = node.bool_attr("transpose_b");
      n = shape.dim(transposed ? 0 : 1);
      k = shape.dim(transposed ? 1 : 0);
      b_row = transposed ? 1 : n;
      b_col = transposed ? k : 1;
    } else if (node.op == "Conv2D" && shape.rank() == 4 &&
               node.string_attr("filter_format") == "HWIO") {
      // [KH, KW, C, O] is the row-major [KH*KW*C, O] matrix of the NHWC GEMM.
      n = shape.dim(3);
      k = shape.dim(0) * shape.dim(1) * shape.dim(2);
      b_row = n;
      b_col = 1;
    } else {
      return std::nullopt;
    }
    const std::optional<GemmIsa> isa = cpu::PackedWeightIsa(options_.gemm_isa, n);
    if (!isa.has_value()) return std::nullopt;
    const int64_t nr = cpu::GetSgemmImpl(*isa).blocking.nr;
    absl::StatusOr<Tensor> packed =
        Tensor::Allocate(DataType::kF32, Shape{(n + nr - 1) / nr, k, nr});
    if (!packed.ok()) return std::nullopt;
    cpu::PackBPanels(weight.data<float>(), b_row, b_col, n, k, nr, packed->data<float>());
    return *std::move(packed);
  }

  std::optional<Tensor> PackWinogradFilter(const Node& conv, const Tensor& filter) const override {
    const Shape& shape = filter.shape();
    if (!options_.pack_weights || !options_.winograd || filter.dtype() != DataType::kF32 ||
        conv.op != "Conv2D" || shape.rank() != 4 || shape.dim(0) != 3 || shape.dim(1) != 3 ||
        shape.dim(2) < 16) {
      return std::nullopt;
    }
    const int tile = cpu::WinogradTilePays(conv);
    if (tile == 0) return std::nullopt;
    const std::optional<GemmIsa> isa = cpu::UsableGemmIsa(options_.gemm_isa);
    if (!isa.has_value()) return std::nullopt;
    const int64_t nr = cpu::GetSgemmImpl(*isa).blocking.nr;
    const int64_t c = shape.dim(2);
    const int64_t o = shape.dim(3);
    absl::StatusOr<Tensor> packed = Tensor::Allocate(
        DataType::kF32, Shape{cpu::WinogradPositions(tile), (o + nr - 1) / nr, c, nr});
    if (!packed.ok()) return std::nullopt;
    cpu::PackWinogradFilter(tile, filter.data<float>(), c, o, nr, packed->data<float>());
    return *std::move(packed);
  }

  absl::StatusOr<PreparedKernel> Prepare(const Graph& graph, const Node& node) const override {
    if (node.def == nullptr) {
      return NodeError(absl::StatusCode::kFailedPrecondition, node,
                       "the node has no op definition; verify the graph before preparing");
    }
    const cpu::KernelTableEntry* entry = cpu::FindCpuKernel(node.op);
    if (entry == nullptr) {
      return NodeError(absl::StatusCode::kUnimplemented, node,
                       node.op == "Input" ? "Input nodes are fed by the runtime, not computed"
                                          : "the CPU kernel library has no kernel for this op");
    }
    cpu::PrepareContext ctx{graph, node, {}, options_, entry->variant};
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const TensorRef& ref = node.inputs[i];
      if (ref.node < 0 || ref.node >= graph.num_nodes() || ref.output < 0 ||
          ref.output >= static_cast<int>(graph.node(ref.node).outputs.size())) {
        return NodeError(absl::StatusCode::kFailedPrecondition, node,
                         absl::StrCat("input ", i, " refers to a tensor without a type"));
      }
      ctx.inputs.push_back(graph.type(ref));
      RETURN_IF_ERROR(CheckType(node, ctx.inputs.back(), absl::StrCat("input ", i)));
    }
    // Attributes present with their declared types, so prepare functions may read them.
    for (const AttrSpec& spec : node.def->attrs) {
      auto it = node.attrs.find(spec.name);
      if (it == node.attrs.end() || TypeOf(it->second) != spec.type) {
        return NodeError(absl::StatusCode::kFailedPrecondition, node,
                         absl::StrCat("attribute '", spec.name,
                                      "' is missing or mistyped; verify the graph first"));
      }
    }
    // Shape inference again: the params are derived from these types, so they must be
    // exactly what the op defines for these inputs.
    absl::StatusOr<std::vector<TensorType>> inferred = InferOutputTypes(node, ctx.inputs);
    if (!inferred.ok()) {
      return NodeError(absl::StatusCode::kFailedPrecondition, node, inferred.status().message());
    }
    if (*inferred != node.outputs) {
      return NodeError(absl::StatusCode::kFailedPrecondition, node,
                       "the node's output types differ from shape inference; verify the graph");
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      RETURN_IF_ERROR(CheckType(node, node.outputs[i], absl::StrCat("output ", i)));
    }
    return entry->prepare(ctx);
  }

 private:
  CpuKernelOptions options_;
};

}  // namespace

std::unique_ptr<KernelProvider> CreateCpuKernelProvider(CpuKernelOptions options) {
  return std::make_unique<CpuKernelProvider>(options);
}

}  // namespace kiln
