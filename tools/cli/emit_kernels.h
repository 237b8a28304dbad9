// `kiln opt --emit`: the generated kernel of each Fusion cluster (and row kernel: Softmax,
// LayerNorm) of an optimized graph,
// printed at one stage of code generation.
#ifndef KILN_TOOLS_CLI_EMIT_KERNELS_H_
#define KILN_TOOLS_CLI_EMIT_KERNELS_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "graph/graph.h"
#include "kernels/codegen/kernel_compiler.h"

namespace kiln::cli {

struct EmitRequest {
  codegen::EmitStage stage = codegen::EmitStage::kMlir;
  // The cluster to print (its index among the graph's Fusion nodes in topological
  // order), or -1 for all.
  int64_t cluster = -1;
  // Size of every -1 input dimension (kernels are generated for static shapes).
  int64_t batch = 1;
  // When set, each cluster's lowering trace (the module after every pass) is written
  // there as cluster-N.lowering.mlir.
  std::string dump_dir;
};

// Fits the clusters of the verified, optimized `graph` to the default kernels as a Session
// does (FitFusionsToProvider), then prints "// cluster N: fusion 'NAME' (KIND)" and the
// kernel at `request.stage` for every requested Fusion node. Errors: no such cluster (InvalidArgument), binding the batch,
// code generation failures, an unwritable dump directory.
absl::Status EmitKernels(const Graph& optimized, const EmitRequest& request, std::ostream& out);

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_EMIT_KERNELS_H_
