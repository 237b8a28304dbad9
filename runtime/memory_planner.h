// Planning memory (compiler side): lifetimes of every tensor from the schedule, in-place
// reuse, and offsets in one arena chosen by a MemoryPlanner strategy (greedy best-fit by
// size, as TensorFlow Lite's arena planner). The result is a MemoryPlan value
// (runtime/memory_plan.h).
#ifndef KILN_RUNTIME_MEMORY_PLANNER_H_
#define KILN_RUNTIME_MEMORY_PLANNER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "graph/graph.h"
#include "runtime/memory_plan.h"

namespace kiln {

// ----------------------------------------------------------------------------------------
// Placement strategies.

// A buffer to place: `size` bytes live at steps [first, last].
struct BufferRequest {
  int64_t size = 0;
  int first = 0;
  int last = 0;
};

struct Placement {
  std::vector<int64_t> offsets;  // one per request, multiples of 64
  int64_t arena_bytes = 0;       // max of offset + aligned size
  std::string strategy;          // the name of the strategy that produced it
};

// A strategy placing buffers in one arena so that two buffers whose step ranges
// intersect never overlap. Implementations are stateless and thread-safe.
class MemoryPlanner {
 public:
  virtual ~MemoryPlanner() = default;
  virtual absl::string_view name() const = 0;
  // `num_steps` bounds the steps of `buffers` (for "whole-lifetime" buffers, which span
  // [0, num_steps - 1]). Sizes are rounded up to 64 bytes. Never fails.
  virtual Placement Place(absl::Span<const BufferRequest> buffers, int num_steps) const = 0;
};

// The order in which greedy best-fit considers buffers.
enum class GreedyOrder {
  // TFLite's: buffers live over the whole schedule first, then by decreasing size, ties
  // by earlier first step, then by request index.
  kWholeLifetimeThenSize,
  // By decreasing size x lifetime ("spatial x temporal" area, one of XLA's heap
  // simulator orders), ties as above.
  kArea,
  // By decreasing lifetime length, then size, ties as above.
  kLongestLifetime,
};

// Greedy best-fit: each buffer in `order` goes to the smallest gap (between the buffers
// already placed that overlap it in time) that holds it, else above the highest of them.
std::unique_ptr<MemoryPlanner> CreateGreedyBestFitPlanner(
    GreedyOrder order = GreedyOrder::kWholeLifetimeThenSize);

// Runs greedy best-fit with every GreedyOrder and keeps the smallest arena (the first
// order wins ties), as XLA's heap simulator tries several sort orders. The default.
std::unique_ptr<MemoryPlanner> CreateBestOfGreedyPlanner();

// ----------------------------------------------------------------------------------------
// Planning a schedule.

// Where each Constant node's bytes go in the weights region: every Constant of the graph
// in node index order, each at a 64-byte-aligned offset. It depends only on the graph,
// so every plan of a Session shares one region.
struct WeightsLayout {
  std::vector<int64_t> offset;  // per node; -1 for nodes that are not Constants
  int64_t bytes = 0;
};
WeightsLayout LayoutWeights(const Graph& graph);
// Copies every Constant's bytes of `graph` to `region` (layout.bytes bytes) at its offset.
void CopyWeights(const Graph& graph, const WeightsLayout& layout, uint8_t* region);

// What the planner needs from each step's prepared kernel.
struct StepMemoryInfo {
  int64_t scratch_bytes = 0;  // planned in the arena, live at that step only
  int inplace_input = -1;     // see PreparedKernel::inplace_input
};

struct MemoryPlanOptions {
  OutputPlacement outputs = OutputPlacement::kArena;
  // Null: CreateBestOfGreedyPlanner().
  const MemoryPlanner* planner = nullptr;
  // Honour PreparedKernel::inplace_input.
  bool inplace = true;
};

// Plans `schedule` (from ScheduleNodes over a bound graph, every shape known) with one
// StepMemoryInfo per step. Output 0 of a step takes over the slice of its kernel's
// in-place input when that input is an arena value that dies at the step, is not fetched
// and has the same byte size. Graph inputs are never written (their slices are the
// caller's feeds), constants live in the weights region. Errors: `steps` and `schedule`
// differ in length, an inplace_input out of range, a fetch that is not a tensor of the
// graph, or sizes beyond 2^62 bytes.
absl::StatusOr<MemoryPlan> PlanMemory(const Graph& graph, absl::Span<const int> schedule,
                                      absl::Span<const StepMemoryInfo> steps,
                                      absl::Span<const TensorRef> fetches,
                                      const MemoryPlanOptions& options = {});

}  // namespace kiln

#endif  // KILN_RUNTIME_MEMORY_PLANNER_H_
