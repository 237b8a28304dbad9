// Counts reported by `kiln opt --verbose`, tests and the benchmark figures.
#ifndef KILN_PASSES_GRAPH_STATS_H_
#define KILN_PASSES_GRAPH_STATS_H_

#include <string>

#include "graph/graph.h"

namespace kiln::passes {

struct GraphStats {
  int nodes = 0;
  // Launches a runtime would make: Fusion nodes plus every other node that computes or
  // moves data (not Input, Constant, or a bitcast such as Reshape, which is a view).
  int kernels = 0;
  int fusions = 0;
  // Transpose nodes outside fusions (each its own kernel: a layout change in memory).
  int transposes = 0;
  // Transposes inside Fusion bodies, where they are addressing (an attention kernel reading
  // heads with strides), not a pass over memory.
  int fused_transposes = 0;

  // "nodes 12, kernels 3, fusions 2, transposes 0 (+4 fused)"
  std::string ToString() const;
};

GraphStats ComputeGraphStats(const Graph& graph);

}  // namespace kiln::passes

#endif  // KILN_PASSES_GRAPH_STATS_H_
