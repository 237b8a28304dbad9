// The Plan: everything a run needs, fixed ahead of time for one input-shape signature
// and one fetch list: schedule, memory plan, prepared kernels with their parameter
// blocks, and each step's operand list. A value, checked by VerifyPlan when it loads.
#ifndef KILN_RUNTIME_PLAN_H_
#define KILN_RUNTIME_PLAN_H_

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/tensor_type.h"
#include "kernels/abi/kernel_abi.h"
#include "runtime/memory_plan.h"

namespace kiln {

// A zero-filled, 64-byte-aligned block of bytes; copies are deep.
class AlignedBlock {
 public:
  AlignedBlock() = default;
  explicit AlignedBlock(int64_t size);
  AlignedBlock(const AlignedBlock& other);
  AlignedBlock& operator=(const AlignedBlock& other);
  AlignedBlock(AlignedBlock&&) = default;
  AlignedBlock& operator=(AlignedBlock&&) = default;

  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  int64_t size() const { return size_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> data_;
  int64_t size_ = 0;
};

// How a step launches its kernel. A host function runs its workgroups on the thread
// pool; a device backend adds its kind (a CUDA launch carries its grid) without
// reshaping the plan.
enum class DispatchKind : int32_t {
  kHostFunction = 0,
};

// The most workgroups one step may ask for: far above what a kernel library splits work
// into (the CPU library stops at 1024), low enough that a damaged plan cannot make a run
// loop for hours.
inline constexpr int64_t kMaxWorkgroups = int64_t{1} << 20;

struct Dispatch {
  DispatchKind kind = DispatchKind::kHostFunction;
  kiln_kernel_fn fn = nullptr;
  int64_t workgroup_count = 1;
};

// One kernel call of the schedule.
struct PlanStep {
  int node = -1;
  std::string node_name;
  std::string op;
  // The kernel's stable name in its library ("cpu.add.f32") and the layout version of
  // its parameter block; the loader resolves the name to dispatch.fn.
  std::string kernel;
  uint32_t params_version = 1;
  Dispatch dispatch;
  // The kernel's parameter block in Plan::params; the offset is a multiple of 64.
  int64_t params_offset = 0;
  int64_t params_size = 0;
  // MemoryPlan values of the operands in the kernel's order: num_inputs inputs, then
  // num_outputs outputs, then the scratch value when the kernel asked for one.
  std::vector<int> operands;
  int num_inputs = 0;
  int num_outputs = 0;
};

struct Plan {
  std::vector<int> schedule;  // node of each step
  MemoryPlan memory;
  std::vector<PlanStep> steps;
  AlignedBlock params;  // every step's parameter block
  // Per graph input position: its TensorType (bound shape) and its MemoryPlan value, or
  // -1 when the fetches do not need it.
  std::vector<TensorType> input_types;
  std::vector<int> inputs;
  // Per fetch: its MemoryPlan value. A value of Region::kOutput whose index is the fetch
  // is written by its kernel into the caller's buffer; every other fetch is copied out
  // after the last step (from the arena, the feeds, the weights, or an earlier fetch).
  std::vector<int> fetches;
  std::string provider;  // the KernelProvider that prepared the kernels

  const PlannedValue& value(int v) const { return memory.values[v]; }
  // The memory plan, then one line per step:
  //   "step S: NODE KERNEL wg=N params=OFFSET+SIZE (IN, ... -> OUT, ... [; SCRATCH])"
  std::string ToString() const;
};

// Checks a plan before it runs: step, operand and value indices in range; every
// parameter block and every arena and weights slice 64-byte aligned and inside its
// region; kernels write only arena values and caller output buffers; operands live at
// their step; fetches kept in the arena live to the last step; and no two arena values
// live at the same step overlap, except a value and the one it reuses in place at the
// step that hands the slice over. Kernel functions are not checked (a loaded plan
// resolves them afterwards; Executor::Create requires them). The error names the step or
// value.
absl::Status VerifyPlan(const Plan& plan);

}  // namespace kiln

#endif  // KILN_RUNTIME_PLAN_H_
