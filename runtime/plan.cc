#include "runtime/plan.h"

#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "runtime/alignment.h"

namespace kiln {
namespace {

absl::Status StepError(const Plan& plan, int s, absl::string_view what) {
  return absl::InternalError(absl::StrCat("plan: step ", s, " (node '",
                                          plan.steps[s].node_name, "'): ", what));
}

absl::Status ValueError(const Plan& plan, int v, absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("plan: value ", v, " ('", plan.memory.values[v].name, "'): ", what));
}

bool Writable(const PlannedValue& value) {
  return value.slice.region == Region::kArena || value.slice.region == Region::kOutput;
}

}  // namespace

AlignedBlock::AlignedBlock(int64_t size) : size_(size) {
  if (size <= 0) {
    size_ = 0;
    return;
  }
  data_.reset(static_cast<uint8_t*>(std::aligned_alloc(kBufferAlignment, AlignUp(size))));
  std::memset(data_.get(), 0, AlignUp(size));
}

AlignedBlock::AlignedBlock(const AlignedBlock& other) : AlignedBlock(other.size_) {
  if (size_ > 0) std::memcpy(data_.get(), other.data_.get(), size_);
}

AlignedBlock& AlignedBlock::operator=(const AlignedBlock& other) {
  if (this != &other) *this = AlignedBlock(other);
  return *this;
}

std::string Plan::ToString() const {
  std::string out = memory.ToString();
  for (size_t s = 0; s < steps.size(); ++s) {
    const PlanStep& step = steps[s];
    absl::StrAppend(&out, "step ", s, ": ", step.node_name, " ", step.kernel,
                    " wg=", step.dispatch.workgroup_count, " params=", step.params_offset, "+",
                    step.params_size, " (");
    for (size_t i = 0; i < step.operands.size(); ++i) {
      const char* sep = i == 0 ? ""
                        : static_cast<int>(i) == step.num_inputs ? " -> "
                        : static_cast<int>(i) == step.num_inputs + step.num_outputs ? "; "
                                                                                      : ", ";
      if (i == 0 && step.num_inputs == 0) sep = "-> ";
      absl::StrAppend(&out, sep, memory.values[step.operands[i]].name);
    }
    absl::StrAppend(&out, ")\n");
  }
  return out;
}

absl::Status VerifyPlan(const Plan& plan) {
  const MemoryPlan& memory = plan.memory;
  const int num_values = static_cast<int>(memory.values.size());
  const int num_steps = static_cast<int>(plan.steps.size());
  if (plan.schedule.size() != plan.steps.size() || memory.num_steps != num_steps) {
    return absl::InternalError(absl::StrCat("plan: ", plan.schedule.size(), " scheduled nodes, ",
                                            num_steps, " steps, ", memory.num_steps,
                                            " planned steps"));
  }
  if (plan.params.size() > 0 && !IsAligned(plan.params.data())) {
    return absl::InternalError("plan: the parameter blocks are not 64-byte aligned");
  }
  if (plan.inputs.size() != plan.input_types.size()) {
    return absl::InternalError("plan: input values and types differ in number");
  }

  for (int v = 0; v < num_values; ++v) {
    const PlannedValue& value = memory.values[v];
    const Slice& slice = value.slice;
    if (slice.size != value.bytes || slice.size < 0) {
      return ValueError(plan, v, absl::StrCat("slice of ", slice.size, " bytes for ",
                                              value.bytes));
    }
    int64_t region_bytes = -1;
    if (slice.region == Region::kArena) region_bytes = memory.arena_bytes;
    if (slice.region == Region::kWeights) region_bytes = memory.weights_bytes;
    if (region_bytes >= 0 &&
        (slice.offset < 0 || slice.offset % kBufferAlignment != 0 ||
         slice.offset > region_bytes - slice.size)) {
      return ValueError(plan, v, absl::StrCat(RegionName(slice.region), " slice [",
                                              slice.offset, ", ", slice.offset + slice.size,
                                              ") is unaligned or outside the region of ",
                                              region_bytes, " bytes"));
    }
    if (slice.region == Region::kInput &&
        (value.index < 0 || value.index >= static_cast<int>(plan.inputs.size()) ||
         plan.inputs[value.index] != v)) {
      return ValueError(plan, v, absl::StrCat("not the value of graph input ", value.index));
    }
    if (slice.region == Region::kOutput &&
        (value.index < 0 || value.index >= static_cast<int>(plan.fetches.size()) ||
         plan.fetches[value.index] != v)) {
      return ValueError(plan, v, absl::StrCat("not the value of fetch ", value.index));
    }
    if (slice.region == Region::kArena &&
        (value.first_step < 0 || value.first_step > value.last_step ||
         value.last_step >= num_steps)) {
      return ValueError(plan, v, absl::StrCat("live ", value.first_step, "..", value.last_step,
                                              " of ", num_steps, " steps"));
    }
    if (slice.space != MemorySpace::kHost) {
      return ValueError(plan, v, "not in host memory (the CPU executor's only space)");
    }
    if (value.reuses >= v || value.reuses < -1) {
      return ValueError(plan, v, absl::StrCat("reuses value ", value.reuses));
    }
  }
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    int v = plan.inputs[i];
    if (v >= num_values || (v >= 0 && memory.values[v].slice.region != Region::kInput)) {
      return absl::InternalError(absl::StrCat("plan: input ", i, " has value ", v));
    }
  }
  for (size_t f = 0; f < plan.fetches.size(); ++f) {
    int v = plan.fetches[f];
    if (v < 0 || v >= num_values) {
      return absl::InternalError(absl::StrCat("plan: fetch ", f, " has value ", v));
    }
    const PlannedValue& value = memory.values[v];
    if (value.slice.region == Region::kArena && value.last_step != num_steps - 1) {
      return ValueError(plan, v, absl::StrCat("fetched from the arena but dead after step ",
                                              value.last_step));
    }
  }

  for (int s = 0; s < num_steps; ++s) {
    const PlanStep& step = plan.steps[s];
    if (step.dispatch.kind != DispatchKind::kHostFunction) {
      return StepError(plan, s, "dispatch kind is not a host function");
    }
    if (step.dispatch.workgroup_count < 1 || step.dispatch.workgroup_count > kMaxWorkgroups) {
      return StepError(plan, s, absl::StrCat("workgroup count ", step.dispatch.workgroup_count,
                                             " outside [1, ", kMaxWorkgroups, "]"));
    }
    if (step.params_offset < 0 || step.params_size < 0 ||
        step.params_offset % kBufferAlignment != 0 ||
        step.params_offset > plan.params.size() - step.params_size) {
      return StepError(plan, s, "parameter block unaligned or out of bounds");
    }
    if (step.num_inputs < 0 || step.num_outputs < 0 ||
        static_cast<int>(step.operands.size()) < step.num_inputs + step.num_outputs ||
        static_cast<int>(step.operands.size()) > step.num_inputs + step.num_outputs + 1) {
      return StepError(plan, s, "operand counts do not add up");
    }
    for (size_t i = 0; i < step.operands.size(); ++i) {
      int v = step.operands[i];
      if (v < 0 || v >= num_values) {
        return StepError(plan, s, absl::StrCat("operand ", i, " has value ", v));
      }
      const PlannedValue& value = memory.values[v];
      bool written = static_cast<int>(i) >= step.num_inputs;
      if (written && !Writable(value)) {
        return StepError(plan, s, absl::StrCat("writes ", RegionName(value.slice.region),
                                               " value '", value.name, "'"));
      }
      if (value.slice.region == Region::kArena &&
          (s < value.first_step || s > value.last_step)) {
        return StepError(plan, s, absl::StrCat("operand '", value.name, "' is not live"));
      }
    }
  }

  // No two arena values live at one step may overlap, except a value and the one it
  // reuses in place, at the step that hands the slice over.
  for (int a = 0; a < num_values; ++a) {
    const PlannedValue& x = memory.values[a];
    if (x.slice.region != Region::kArena || x.bytes == 0) continue;
    for (int b = a + 1; b < num_values; ++b) {
      const PlannedValue& y = memory.values[b];
      if (y.slice.region != Region::kArena || y.bytes == 0) continue;
      if (x.last_step < y.first_step || y.last_step < x.first_step) continue;
      if (x.slice.offset + x.slice.size <= y.slice.offset ||
          y.slice.offset + y.slice.size <= x.slice.offset) {
        continue;
      }
      bool handover = y.reuses == a && x.last_step == y.first_step &&
                      x.slice.offset == y.slice.offset && x.bytes == y.bytes;
      if (handover) {
        // The handing-over step reads `x` and writes `y` as its output 0.
        const PlanStep& step = plan.steps[y.first_step];
        bool reads = false;
        for (int i = 0; i < step.num_inputs; ++i) reads = reads || step.operands[i] == a;
        handover = reads && step.num_outputs > 0 && step.operands[step.num_inputs] == b;
      }
      if (!handover) {
        return ValueError(plan, b, absl::StrCat("overlaps '", x.name, "' in the arena while both are live"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace kiln
