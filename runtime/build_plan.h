// Building a Plan from a bound graph (compiler side): schedule, a prepared kernel per
// step from a KernelProvider, and the memory plan.
#ifndef KILN_RUNTIME_BUILD_PLAN_H_
#define KILN_RUNTIME_BUILD_PLAN_H_

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "graph/graph.h"
#include "kernels/kernel_provider.h"
#include "runtime/memory_planner.h"
#include "runtime/plan.h"
#include "runtime/schedule.h"

namespace kiln {

struct PlanOptions {
  ScheduleOrder order = ScheduleOrder::kMemoryAware;
  MemoryPlanOptions memory;
};

// Schedules the nodes `fetches` need in `graph` (verified, every shape known), prepares
// each with `provider`, and plans memory. Each step records its kernel's name and
// parameter-block version, and also its function (so an in-process plan runs without a
// lookup). The parameter blocks are copied into the plan; they may point into `graph`
// (the reference provider's do), so `graph` must outlive the plan's use. Errors: the
// provider's (naming the node), a prepared kernel without a function or with a bad
// workgroup count, scratch size or in-place input (naming the node and the kernel), and
// those of PlanMemory.
absl::StatusOr<Plan> BuildPlan(const Graph& graph, absl::Span<const TensorRef> fetches,
                               const KernelProvider& provider, const PlanOptions& options = {});

}  // namespace kiln

#endif  // KILN_RUNTIME_BUILD_PLAN_H_
