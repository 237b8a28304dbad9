// The static memory plan: lifetimes of every tensor from the schedule, in-place reuse,
// and offsets in one arena chosen by a MemoryPlanner strategy (greedy best-fit by size,
// as TensorFlow Lite's arena planner). The result is a plain value.
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

namespace kiln {

// Where a planned value's bytes live.
enum class Region : uint8_t {
  kArena,    // the per-run arena: intermediates, scratch, and outputs kept in the arena
  kWeights,  // the read-only weights region shared by all runs (Constant nodes)
  kInput,    // the caller's feed buffer of graph input `index`
  kOutput,   // the caller's buffer of fetch `index`, written by the producing kernel
};
absl::string_view RegionName(Region region);  // "arena", "weights", "input", "output"

// Which memory a slice lives in. Host memory only today; a device backend adds its own
// (CUDA global memory) so the same plan places tensors on either.
enum class MemorySpace : int32_t {
  kHost = 0,
};

struct Slice {
  Region region = Region::kArena;
  int64_t offset = 0;  // bytes from the region's start; a multiple of 64
  int64_t size = 0;    // bytes of the value (not rounded)
  MemorySpace space = MemorySpace::kHost;
};

// Where fetched tensors computed by kernels go.
enum class OutputPlacement {
  kArena,         // planned in the arena, live to the end of the run, then copied out
  kCallerBuffer,  // written by the kernel straight into the caller's buffer (Region::kOutput)
};

// One buffer the plan knows: a tensor (graph input, constant, kernel output) or a
// kernel's scratch.
struct PlannedValue {
  std::string name;   // "node", "node:1", or "node#scratch"
  TensorRef tensor;   // producer; output is -1 for scratch
  TensorType type;    // scratch: u8[bytes]
  int64_t bytes = 0;
  // Steps at which the value is live, both inclusive: from its producer's step (0 for
  // graph inputs) to its last reader's (the last step for fetches kept in the arena).
  // -1 for constants.
  int first_step = -1;
  int last_step = -1;
  Slice slice;
  int index = -1;   // graph input position (kInput), fetch position (kOutput)
  int reuses = -1;  // value whose arena slice this one takes over in place, or -1
};

// The memory plan of one schedule: a value, printable for golden tests.
struct MemoryPlan {
  std::vector<PlannedValue> values;
  int num_steps = 0;
  OutputPlacement outputs = OutputPlacement::kArena;
  std::string planner;  // the strategy that placed the arena
  // Bytes of the arena (the end of the highest slice).
  int64_t arena_bytes = 0;
  // Bytes of the weights region (every Constant of the graph, 64-byte aligned).
  int64_t weights_bytes = 0;
  // Sum of the 64-byte-aligned sizes of the arena values, each in its own buffer.
  int64_t naive_bytes = 0;
  // The largest total of aligned buffer sizes live at one step (values sharing a buffer
  // in place count once): no placement of this schedule fits in less.
  int64_t lower_bound_bytes = 0;
  // The first step where lower_bound_bytes is reached (-1 when there are no steps), and
  // the arena values live there, largest first.
  int peak_step = -1;
  std::vector<int> peak_values;

  // Index of the value of `tensor`, or -1.
  int FindValue(TensorRef tensor) const;
  // Header lines (sizes, planner) and one line per value:
  //   "  NAME: TYPE REGION[BEGIN, END) live FIRST..LAST [in place of NAME]"
  std::string ToString() const;
};

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
