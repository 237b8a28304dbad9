#include "tools/cli/emit_kernels.h"

#include <fstream>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "graph/bind_shapes.h"
#include "graph/fusion.h"
#include "kernels/codegen/loop_kernel.h"
#include "kernels/codegen/row_kernel.h"
#include "runtime/compile.h"
#include "runtime/default_provider.h"

namespace kiln::cli {

absl::Status EmitKernels(const Graph& optimized, const EmitRequest& request,
                         std::ostream& out) {
  // The clusters as a Session with the default kernels gets them.
  Graph graph = optimized;
  RETURN_IF_ERROR(FitFusionsToProvider(graph, *DefaultKernelProvider(), true).status());
  absl::flat_hash_map<std::string, Shape> shapes;
  for (int id : graph.inputs()) {
    Shape shape = graph.node(id).outputs[0].shape;
    for (int64_t& d : shape.dims()) {
      if (d == kUnknownDim) d = request.batch;
    }
    shapes[graph.node(id).name] = shape;
  }
  ASSIGN_OR_RETURN(Graph bound, BindInputShapes(graph, shapes));
  ASSIGN_OR_RETURN(std::vector<int> order, bound.TopologicalOrder());
  // Fusion clusters and the nodes that become generated row kernels (Softmax, LayerNorm).
  std::vector<int> clusters;
  for (int id : order) {
    const Node& node = bound.node(id);
    if (node.op == kFusionOp || codegen::CheckRowKernel(bound, node).ok()) clusters.push_back(id);
  }
  if (request.cluster >= static_cast<int64_t>(clusters.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("--cluster ", request.cluster, ": the graph has ", clusters.size(),
                     " Fusion clusters and row kernels"));
  }
  for (size_t c = 0; c < clusters.size(); ++c) {
    if (request.cluster >= 0 && static_cast<int64_t>(c) != request.cluster) continue;
    const Node& node = bound.node(clusters[c]);
    const bool fusion = node.op == kFusionOp;
    if (fusion) {
      out << "// cluster " << c << ": fusion '" << node.name << "' ("
          << node.string_attr(kFusionKindAttr) << ")\n";
    } else {
      out << "// cluster " << c << ": node '" << node.name << "' (" << node.op
          << ", a row kernel)\n";
    }
    auto loop = fusion ? codegen::EmitLoopKernel(bound, node) : codegen::EmitRowKernel(bound, node);
    if (!loop.ok()) {
      out << "// " << loop.status().message() << "\n";
      continue;
    }
    codegen::KernelSource source{loop->mlir, codegen::kLoopFunction, loop->num_buffers,
                                 fusion ? "loop" : "row", loop->stream_stores};
    std::string trace;
    ASSIGN_OR_RETURN(std::string text,
                     codegen::EmitKernel(source, request.stage,
                                         request.dump_dir.empty() ? nullptr : &trace));
    out << "// kernel " << codegen::KernelName(source) << ", " << loop->workgroup_count
        << " workgroups\n" << text << "\n";
    if (!request.dump_dir.empty()) {
      const std::string path = absl::StrCat(request.dump_dir, "/cluster-", c, ".lowering.mlir");
      std::ofstream file(path, std::ios::trunc);
      file << trace;
      if (!file) return absl::PermissionDeniedError(absl::StrCat("cannot write '", path, "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace kiln::cli
