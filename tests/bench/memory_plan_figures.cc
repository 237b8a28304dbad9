// Memory-plan figures of the example models at full size: arena bytes against the lower
// bound and the naive sum, as docs/benchmarks.md reports them. Planning only: kernels
// are prepared (DefaultKernelProvider) but none runs.
//
//   bazel run //tests/bench:memory_plan_figures
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "examples/models.h"
#include "graph/bind_shapes.h"
#include "runtime/default_provider.h"
#include "runtime/build_plan.h"
#include "runtime/plan.h"

namespace kiln {
namespace {

struct Row {
  std::string model;
  int64_t batch;
};

double MiB(int64_t bytes) { return bytes / (1024.0 * 1024.0); }

int Main() {
  auto provider = DefaultKernelProvider();
  std::unique_ptr<MemoryPlanner> by_size = CreateGreedyBestFitPlanner();
  std::printf("kernels: %s; outputs kept in the arena; MiB = 2^20 bytes\n\n",
              std::string(provider->name()).c_str());
  std::printf(
      "| model | batch | arena MiB | lower bound MiB | naive MiB | arena / lower bound | "
      "arena / naive | planner | greedy-by-size alone / lower bound | "
      "lower bound, node index order / memory-aware |\n"
      "|---|---|---|---|---|---|---|---|---|---|\n");
  const Row rows[] = {{"mlp", 64}, {"resnet50", 1}, {"resnet50", 16}, {"bert", 1}, {"bert", 8}};
  std::string built;
  absl::StatusOr<Graph> graph;
  for (const Row& row : rows) {
    if (built != row.model) {
      graph = row.model == "mlp"        ? examples::BuildMlp()
              : row.model == "resnet50" ? examples::BuildResNet50()
                                        : examples::BuildBert();
      built = row.model;
    }
    if (!graph.ok()) {
      std::fprintf(stderr, "%s: %s\n", row.model.c_str(), graph.status().ToString().c_str());
      return 1;
    }
    Shape shape = graph->node(graph->inputs()[0]).outputs[0].shape;
    shape.dim(0) = row.batch;
    absl::StatusOr<Graph> bound = BindInputShapes(*graph, {{"x", shape}});
    if (!bound.ok()) {
      std::fprintf(stderr, "%s: %s\n", row.model.c_str(), bound.status().ToString().c_str());
      return 1;
    }
    std::vector<TensorRef> fetches = {bound->outputs()[0].tensor};
    absl::StatusOr<Plan> plan = BuildPlan(*bound, fetches, *provider);
    PlanOptions single;
    single.memory.planner = by_size.get();
    absl::StatusOr<Plan> plan_by_size = BuildPlan(*bound, fetches, *provider, single);
    PlanOptions index_order;
    index_order.order = ScheduleOrder::kNodeIndex;
    absl::StatusOr<Plan> plan_index = BuildPlan(*bound, fetches, *provider, index_order);
    if (!plan.ok() || !plan_by_size.ok() || !plan_index.ok()) {
      std::fprintf(stderr, "%s: planning failed\n", row.model.c_str());
      return 1;
    }
    if (absl::Status status = VerifyPlan(*plan); !status.ok()) {
      std::fprintf(stderr, "%s: %s\n", row.model.c_str(), status.ToString().c_str());
      return 1;
    }
    const MemoryPlan& m = plan->memory;
    std::printf("| %s | %lld | %.2f | %.2f | %.2f | %.4f | %.3f | %s | %.4f | %.3f |\n",
                row.model.c_str(), static_cast<long long>(row.batch), MiB(m.arena_bytes),
                MiB(m.lower_bound_bytes), MiB(m.naive_bytes),
                static_cast<double>(m.arena_bytes) / m.lower_bound_bytes,
                static_cast<double>(m.arena_bytes) / m.naive_bytes, m.planner.c_str(),
                static_cast<double>(plan_by_size->memory.arena_bytes) / m.lower_bound_bytes,
                static_cast<double>(plan_index->memory.lower_bound_bytes) / m.lower_bound_bytes);
  }
  return 0;
}

}  // namespace
}  // namespace kiln

int main() { return kiln::Main(); }
