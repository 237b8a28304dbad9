// The executor: runs a verified Plan as a loop over pre-bound kernel calls. Each
// ExecutionContext owns one arena with every pointer bound when it is made; Run only
// patches the caller's feed and output pointers in and calls the kernels.
#ifndef KILN_RUNTIME_EXECUTOR_H_
#define KILN_RUNTIME_EXECUTOR_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "kernels/abi/kernel_abi.h"
#include "runtime/kernel_env.h"
#include "runtime/plan.h"
#include "runtime/region.h"
#include "runtime/thread_pool.h"

namespace kiln {

// The per-run state of one plan: its arena, a staging area for feeds that arrive
// unaligned, and the bound operand pointers of every step. Used by one Run at a time;
// Session keeps a pool of them per plan for concurrent runs.
class ExecutionContext {
 public:
  // The call of step `step` as the executor makes it (for benchmarks that time the
  // kernels alone). Feed and output pointers are those of the last Run.
  const kiln_kernel_call& call(int step) const { return calls_[step]; }
  const uint8_t* arena() const { return arena_.data(); }

  // Step profiling: once enabled, every Run adds each step's wall time (all its
  // workgroups, as the calling thread sees it) to step_nanos()[step]. Off by default;
  // when off the run loop reads no clock.
  void EnableProfiling();
  bool profiling() const { return !step_nanos_.empty(); }
  const std::vector<int64_t>& step_nanos() const { return step_nanos_; }
  int64_t profiled_runs() const { return profiled_runs_; }

 private:
  friend class Executor;
  MappedRegion arena_;
  MappedRegion staging_;
  KernelEnv env_;  // what this context's kernel calls report failures to
  std::vector<void*> pointers_;  // every step's operands, back to back
  std::vector<kiln_kernel_call> calls_;
  std::vector<int64_t> step_nanos_;  // empty unless profiling
  int64_t profiled_runs_ = 0;
};

class Executor {
 public:
  // Verifies `plan` (VerifyPlan, and every step's kernel function set) and prepares to
  // run it with the weights region `weights` (plan.memory.weights_bytes bytes, 64-byte
  // aligned; may be null when that is 0) and `pool` (null: one thread). `weights` and
  // `pool` must outlive the executor.
  static absl::StatusOr<std::unique_ptr<Executor>> Create(std::shared_ptr<const Plan> plan,
                                                          const uint8_t* weights,
                                                          ThreadPool* pool);

  // A new context: maps its arena (huge pages advised), touches it, and binds every
  // arena and weights operand. Allocates; done at plan time, not per run.
  absl::StatusOr<std::unique_ptr<ExecutionContext>> NewContext() const;

  // Runs the plan in `context`. `inputs`: one pointer per graph input position
  // (plan().inputs), to the feed's bytes in the plan's input type (unused inputs and
  // empty feeds may be null). `outputs`: one pointer per fetch, to a caller buffer of the
  // fetch's byte size; buffers of Region::kOutput fetches must be 64-byte aligned, the
  // others are copied into after the last step. Feeds that are not 64-byte aligned are
  // copied into the context's staging area first. Buffers must not overlap one another.
  // Allocates nothing on success. Errors: a missing or unaligned buffer (naming it), or a
  // kernel's failure: "node 'NAME' (OP): kernel 'K': MESSAGE", InvalidArgument for the
  // caller's data errors (the kernel's report, or the status's text), Internal otherwise.
  // Thread-safe for distinct contexts.
  absl::Status Run(ExecutionContext& context, absl::Span<const void* const> inputs,
                   absl::Span<void* const> outputs) const;

  const Plan& plan() const { return *plan_; }

 private:
  Executor(std::shared_ptr<const Plan> plan, const uint8_t* weights, ThreadPool* pool);
  // Calls every step's kernel over its workgroups.
  absl::Status RunSteps(ExecutionContext& context) const;

  // What the run loop needs of each step, packed (PlanStep also carries names).
  struct Call {
    kiln_kernel_fn fn;
    int64_t workgroup_count;
  };

  std::shared_ptr<const Plan> plan_;
  const uint8_t* weights_;
  ThreadPool* pool_;
  std::vector<Call> calls_;
  std::vector<int> step_begin_;  // first pointer of each step in ExecutionContext::pointers_
  std::vector<int64_t> operand_bytes_;  // every step's operand sizes, as pointers_
  // Pointer-table positions patched per run: per graph input position, per fetch.
  std::vector<std::vector<int>> input_positions_;
  std::vector<std::vector<int>> output_positions_;
  std::vector<int64_t> staging_offset_;  // per graph input position
  int64_t staging_bytes_ = 0;
};

}  // namespace kiln

#endif  // KILN_RUNTIME_EXECUTOR_H_
