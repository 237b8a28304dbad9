// An Executable ready to run: kernels resolved, executor built, and a pool of execution
// contexts (one arena each) so concurrent runs never share an arena. The runtime core's
// entry point; Session holds one per input-shape signature.
#ifndef KILN_RUNTIME_LOADED_EXECUTABLE_H_
#define KILN_RUNTIME_LOADED_EXECUTABLE_H_

#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/tensor.h"
#include "kernels/kernel_library.h"
#include "runtime/executable.h"
#include "runtime/executor.h"
#include "runtime/thread_pool.h"

namespace kiln {

class LoadedExecutable {
 public:
  // Verifies `executable` (VerifyExecutable), resolves its kernels in `libraries`, builds
  // the executor over `pool` (null: one thread; must outlive this) and makes the first
  // execution context, so the first Run allocates no arena.
  static absl::StatusOr<std::unique_ptr<LoadedExecutable>> Load(
      Executable executable, ThreadPool* pool,
      absl::Span<const KernelLibrary* const> libraries = LinkedKernelLibraries());

  // Runs with raw buffers, as Executor::Run: `inputs` per signature input, `outputs` per
  // signature output (64-byte aligned when the plan writes outputs in place). Allocates
  // nothing once a context is free. Thread-safe.
  absl::Status Run(absl::Span<const void* const> inputs, absl::Span<void* const> outputs) const;

  // Runs with tensors: one per signature input, in order, of exactly the signature's type
  // (errors name the input); returns the outputs, allocated here. Thread-safe.
  absl::StatusOr<std::vector<Tensor>> Run(absl::Span<const Tensor> inputs) const;

  // Step profiling for every context, present and future (ExecutionContext::
  // EnableProfiling). Call it when no Run is in flight.
  void EnableProfiling() const;
  // Per step, the wall time summed over every profiled Run of every context, and the
  // number of those runs. Call it when no Run is in flight.
  struct StepProfile {
    std::vector<int64_t> step_nanos;
    int64_t runs = 0;
  };
  StepProfile Profile() const;

  const Executable& executable() const { return *executable_; }
  // The plan, sharing ownership of the executable.
  std::shared_ptr<const Plan> plan() const;

 private:
  LoadedExecutable() = default;
  // An idle context, or a new one when all are busy (the pool grows to the largest number
  // of concurrent runs, then stays).
  absl::StatusOr<ExecutionContext*> Acquire() const;
  void Release(ExecutionContext* context) const;

  std::shared_ptr<const Executable> executable_;
  std::unique_ptr<Executor> executor_;
  mutable std::mutex mu_;
  mutable std::vector<std::unique_ptr<ExecutionContext>> contexts_;  // guarded by mu_
  mutable std::vector<ExecutionContext*> idle_;  // guarded by mu_; capacity == contexts_
  mutable bool profiling_ = false;               // guarded by mu_
};

}  // namespace kiln

#endif  // KILN_RUNTIME_LOADED_EXECUTABLE_H_
