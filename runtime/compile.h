// Compilation, the layer above the runtime core: Graph -> Executable. The graph half
// (OptimizeGraph) runs the optimization pipeline of a level, then expands the Fusion
// clusters that the kernel library cannot run as one kernel back into their ops. The
// planning half (PlanExecutable) binds input shapes, schedules, prepares a library kernel
// per step by stable name and plans memory. Compile does both; Session optimizes once
// per graph and plans once per input-shape signature.
#ifndef KILN_RUNTIME_COMPILE_H_
#define KILN_RUNTIME_COMPILE_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "kernels/kernel_provider.h"
#include "runtime/executable.h"
#include "runtime/memory_plan.h"

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

  // The rest is read by Compile only (a Session takes them from its feeds and fetches).
  // Shapes of the graph inputs, by name, binding their -1 dimensions; every input with
  // one must be given.
  absl::flat_hash_map<std::string, Shape> input_shapes;
  // Where fetched tensors go: kCallerBuffer has kernels write into the caller's output
  // buffers (64-byte aligned); kArena keeps them in the arena and copies them out.
  OutputPlacement outputs = OutputPlacement::kCallerBuffer;
  // The kernel library; null means DefaultKernelProvider().
  std::shared_ptr<const KernelProvider> kernel_provider;
};

// Optimizes the verified `graph` in place for `provider` as `options` ask; the result is
// verified and keeps the signature (input and output names). Errors: a level outside
// 0-2 or an unknown disabled pass (InvalidArgument), a dump directory that cannot be
// made, or a pass failure naming the pass and node.
absl::Status OptimizeGraph(Graph& graph, const CompileOptions& options,
                           const KernelProvider& provider);

// The provider-dependent end of OptimizeGraph: expands the Fusion clusters `provider`
// cannot run as one kernel and, when `refuse`, fuses the expanded elementwise ops into loop
// clusters again (expanding those the provider cannot run either). Returns the number of
// clusters expanded first. Errors: those of passes::ExpandFusions and fuse-elementwise.
absl::StatusOr<int> FitFusionsToProvider(Graph& graph, const KernelProvider& provider,
                                         bool refuse);

// What PlanExecutable plans, besides the graph.
struct PlanRequest {
  // Tensors to compute, in output order, with their signature names.
  std::vector<TensorRef> fetches;
  std::vector<std::string> fetch_names;
  // Shapes for the graph inputs with -1 dimensions, by name.
  absl::flat_hash_map<std::string, Shape> input_shapes;
  OutputPlacement outputs = OutputPlacement::kCallerBuffer;
  // The weights region in LayoutWeights(graph)'s layout, shared by every Executable of
  // the graph; null: a copy of the constants is made for this Executable.
  std::shared_ptr<const uint8_t> weights;
};

// The planning half on an optimized, verified graph: binds `request.input_shapes`,
// schedules the nodes the fetches need, prepares every step with `provider` and plans
// memory. The Executable's steps carry kernel names, versions and functions. When the
// provider's parameter blocks point into the bound graph (the reference kernels), the
// Executable keeps it alive. Errors: those of BindInputShapes and BuildPlan, naming the
// input or node.
absl::StatusOr<Executable> PlanExecutable(const Graph& graph, const PlanRequest& request,
                                          const KernelProvider& provider);

// The provider `options` names, or DefaultKernelProvider().
std::shared_ptr<const KernelProvider> ProviderFor(const CompileOptions& options);

// A copy of `graph`, verified and then optimized for `provider` (OptimizeGraph). Errors:
// VerifyGraph's and OptimizeGraph's.
absl::StatusOr<Graph> OptimizedCopy(const Graph& graph, const CompileOptions& options,
                                    const KernelProvider& provider);

// A request that fetches every output of `graph` under its own name (nothing else set).
PlanRequest FetchEveryOutput(const Graph& graph);

// The constants of `graph` copied into one 64-byte-aligned block in LayoutWeights' layout:
// the weights region its Executables read.
std::shared_ptr<const uint8_t> CopyWeightsRegion(const Graph& graph);

// Graph -> Executable: verifies `graph`, optimizes a copy (OptimizeGraph), then plans
// every graph output (PlanExecutable) with the options' input shapes and placement. The
// default path runs no reference kernel unless the kernel library lacks an op.
absl::StatusOr<Executable> Compile(const Graph& graph, const CompileOptions& options);

}  // namespace kiln

#endif  // KILN_RUNTIME_COMPILE_H_
