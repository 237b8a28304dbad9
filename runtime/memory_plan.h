// The static memory plan of one schedule, as a value: where every buffer lives (arena,
// weights, the caller's feeds and outputs), its lifetime in steps, and the sizes the plan
// reports. Part of the runtime core: it knows no graph, only producer indices and names.
#ifndef KILN_RUNTIME_MEMORY_PLAN_H_
#define KILN_RUNTIME_MEMORY_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/tensor_type.h"

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

}  // namespace kiln

#endif  // KILN_RUNTIME_MEMORY_PLAN_H_
