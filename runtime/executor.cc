#include "runtime/executor.h"

#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "runtime/alignment.h"

namespace kiln {

Executor::Executor(std::shared_ptr<const Plan> plan, const uint8_t* weights, ThreadPool* pool)
    : plan_(std::move(plan)), weights_(weights), pool_(pool) {}

absl::StatusOr<std::unique_ptr<Executor>> Executor::Create(std::shared_ptr<const Plan> plan,
                                                           const uint8_t* weights,
                                                           ThreadPool* pool) {
  if (plan == nullptr) return absl::InvalidArgumentError("executor: no plan");
  RETURN_IF_ERROR(VerifyPlan(*plan));
  for (size_t s = 0; s < plan->steps.size(); ++s) {
    if (plan->steps[s].dispatch.fn == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("executor: step ", s, " (node '", plan->steps[s].node_name,
                       "'): kernel '", plan->steps[s].kernel, "' is not resolved to a function"));
    }
  }
  if (plan->memory.weights_bytes > 0 && (weights == nullptr || !IsAligned(weights))) {
    return absl::InvalidArgumentError("executor: the weights region is missing or unaligned");
  }
  std::unique_ptr<Executor> executor(new Executor(std::move(plan), weights, pool));
  const Plan& p = *executor->plan_;
  executor->input_positions_.resize(p.inputs.size());
  executor->output_positions_.resize(p.fetches.size());
  int position = 0;
  for (const PlanStep& step : p.steps) {
    executor->calls_.push_back({step.dispatch.fn, step.dispatch.workgroup_count});
    executor->step_begin_.push_back(position);
    for (int v : step.operands) {
      const PlannedValue& value = p.value(v);
      executor->operand_bytes_.push_back(value.bytes);
      if (value.slice.region == Region::kInput) {
        executor->input_positions_[value.index].push_back(position);
      } else if (value.slice.region == Region::kOutput) {
        executor->output_positions_[value.index].push_back(position);
      }
      ++position;
    }
  }
  executor->step_begin_.push_back(position);
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    executor->staging_offset_.push_back(executor->staging_bytes_);
    if (p.inputs[i] >= 0) executor->staging_bytes_ += AlignUp(p.value(p.inputs[i]).bytes);
  }
  return executor;
}

absl::StatusOr<std::unique_ptr<ExecutionContext>> Executor::NewContext() const {
  const Plan& p = *plan_;
  auto context = std::unique_ptr<ExecutionContext>(new ExecutionContext);
  ASSIGN_OR_RETURN(context->arena_, MappedRegion::Create(p.memory.arena_bytes));
  // Staging is used only for unaligned feeds, so its pages are left untouched.
  ASSIGN_OR_RETURN(context->staging_, MappedRegion::Create(staging_bytes_, /*touch=*/false));
  context->pointers_.assign(step_begin_.back(), nullptr);
  context->calls_.resize(p.steps.size());
  for (size_t s = 0; s < p.steps.size(); ++s) {
    const PlanStep& step = p.steps[s];
    void** pointers = context->pointers_.data() + step_begin_[s];
    for (size_t i = 0; i < step.operands.size(); ++i) {
      const PlannedValue& value = p.value(step.operands[i]);
      if (value.bytes == 0) continue;  // null is allowed for empty operands
      if (value.slice.region == Region::kArena) {
        pointers[i] = context->arena_.data() + value.slice.offset;
      } else if (value.slice.region == Region::kWeights) {
        // Kernels only read weights (VerifyPlan), and the region is mapped read-only.
        pointers[i] = const_cast<uint8_t*>(weights_ + value.slice.offset);
      }
    }
    kiln_kernel_call& call = context->calls_[s];
    call.buffers = pointers;
    call.buffer_sizes = operand_bytes_.data() + step_begin_[s];
    call.num_buffers = static_cast<uint32_t>(step.operands.size());
    call.params = p.params.data() + step.params_offset;
    call.env = context->env_.env();
  }
  return context;
}

namespace {

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void ExecutionContext::EnableProfiling() {
  if (step_nanos_.empty()) step_nanos_.assign(calls_.size(), 0);
}

absl::Status Executor::RunSteps(ExecutionContext& context) const {
  const size_t num_steps = calls_.size();
  int64_t* step_nanos = context.step_nanos_.empty() ? nullptr : context.step_nanos_.data();
  int64_t start = step_nanos != nullptr ? NowNanos() : 0;
  for (size_t s = 0; s < num_steps; ++s) {
    const Call& step = calls_[s];
    const kiln_kernel_call* call = &context.calls_[s];
    int32_t code = 0;
    if (step.workgroup_count == 1) {
      code = step.fn(call, 0, 1);
    } else if (pool_ != nullptr) {
      code = pool_->Run(step.fn, call, step.workgroup_count);
    } else {
      for (int64_t id = 0; id < step.workgroup_count && code == 0; ++id) {
        code = step.fn(call, id, step.workgroup_count);
      }
    }
    if (code != KILN_KERNEL_OK) {
      const PlanStep& failed = plan_->steps[s];
      absl::Status status = context.env_.ToStatus(
          code, absl::StrCat("node '", failed.node_name, "' (", failed.op, "): kernel '",
                             failed.kernel, "': "));
      context.env_.Reset();
      return status;
    }
    if (step_nanos != nullptr) {
      const int64_t end = NowNanos();
      step_nanos[s] += end - start;
      start = end;
    }
  }
  if (step_nanos != nullptr) ++context.profiled_runs_;
  return absl::OkStatus();
}

absl::Status Executor::Run(ExecutionContext& context, absl::Span<const void* const> inputs,
                           absl::Span<void* const> outputs) const {
  const Plan& p = *plan_;
  if (inputs.size() != p.inputs.size() || outputs.size() != p.fetches.size()) {
    return absl::InvalidArgumentError(absl::StrCat("executor: ", inputs.size(), " inputs and ",
                                                   outputs.size(), " outputs given, the plan has ",
                                                   p.inputs.size(), " and ", p.fetches.size()));
  }
  // Bind the feeds, staging the unaligned ones.
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    if (p.inputs[i] < 0) continue;
    const int64_t bytes = p.value(p.inputs[i]).bytes;
    void* pointer = const_cast<void*>(inputs[i]);
    if (bytes > 0 && pointer == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("executor: input ", i, " has no data"));
    }
    if (bytes > 0 && !IsAligned(pointer)) {
      uint8_t* staged = context.staging_.data() + staging_offset_[i];
      std::memcpy(staged, pointer, bytes);
      pointer = staged;
    }
    for (int position : input_positions_[i]) context.pointers_[position] = pointer;
  }
  // Bind the caller's output buffers that kernels write directly.
  for (size_t f = 0; f < p.fetches.size(); ++f) {
    const PlannedValue& value = p.value(p.fetches[f]);
    if (value.bytes > 0 && outputs[f] == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("executor: output ", f, " has no buffer"));
    }
    if (value.slice.region != Region::kOutput || value.index != static_cast<int>(f)) continue;
    if (value.bytes > 0 && !IsAligned(outputs[f])) {
      return absl::InvalidArgumentError(
          absl::StrCat("executor: output ", f, " buffer is not 64-byte aligned"));
    }
    for (int position : output_positions_[f]) context.pointers_[position] = outputs[f];
  }

  RETURN_IF_ERROR(RunSteps(context));

  // Copy out every fetch no kernel wrote in place.
  for (size_t f = 0; f < p.fetches.size(); ++f) {
    const PlannedValue& value = p.value(p.fetches[f]);
    if (value.bytes == 0) continue;
    const void* source = nullptr;
    switch (value.slice.region) {
      case Region::kArena:
        source = context.arena_.data() + value.slice.offset;
        break;
      case Region::kWeights:
        source = weights_ + value.slice.offset;
        break;
      case Region::kInput:
        source = inputs[value.index];
        break;
      case Region::kOutput:
        if (value.index == static_cast<int>(f)) continue;
        source = outputs[value.index];
        break;
    }
    std::memcpy(outputs[f], source, value.bytes);
  }
  return absl::OkStatus();
}

}  // namespace kiln
