// The graph half of compilation: the optimization pipeline for a level, then the Fusion
// clusters that the chosen kernel library cannot run as one kernel expanded back into
// their ops. Session runs it once per graph, before planning.
#ifndef KILN_RUNTIME_COMPILE_H_
#define KILN_RUNTIME_COMPILE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "graph/graph.h"
#include "kernels/kernel_provider.h"

namespace kiln {

struct CompileOptions {
  // 0: no passes; 1: canonicalization (folding, CSE, no-op removal); 2: the default
  // pipeline (passes/default_pipeline.h: also BatchNorm folding, NHWC layout, fusion).
  int optimization_level = 2;
  // Passes skipped by name (see `kiln opt --list-passes`).
  std::vector<std::string> disabled_passes;
  // When set, the graph after each pass is written there (created if missing) as
  // NNN-PASS.kgraph and .dot.
  std::string dump_dir;
  // Verify the graph after every pass (naming the pass that broke it).
  bool verify_each_pass = false;
};

// Optimizes the verified `graph` in place for `provider` as `options` ask; the result is
// verified and keeps the signature (input and output names). Errors: a level outside
// 0-2 or an unknown disabled pass (InvalidArgument), a dump directory that cannot be
// made, or a pass failure naming the pass and node.
absl::Status OptimizeGraph(Graph& graph, const CompileOptions& options,
                           const KernelProvider& provider);

}  // namespace kiln

#endif  // KILN_RUNTIME_COMPILE_H_
