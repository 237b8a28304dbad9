#include "runtime/memory_plan_proto.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace kiln {
namespace {

// Ranks beyond any real tensor's; bounds the work a hostile plan can ask for.
constexpr int kMaxRank = 64;

absl::Status ValueError(int v, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("memory plan: value ", v, ": ", what));
}

}  // namespace

absl::StatusOr<TensorType> TensorTypeFromProto(int dtype, absl::Span<const int64_t> dims) {
  if (dtype == proto::DT_INVALID || !proto::DataType_IsValid(dtype)) {
    return absl::InvalidArgumentError(absl::StrCat("dtype ", dtype, " is not a Kiln dtype"));
  }
  if (dims.size() > kMaxRank) {
    return absl::InvalidArgumentError(absl::StrCat("rank ", dims.size(), " exceeds ", kMaxRank));
  }
  TensorType type;
  type.dtype = static_cast<DataType>(dtype);
  type.shape = Shape(std::vector<int64_t>(dims.begin(), dims.end()));
  RETURN_IF_ERROR(ValidateShape(type.shape));
  return type;
}

proto::MemoryPlan MemoryPlanToProto(const MemoryPlan& plan) {
  proto::MemoryPlan out;
  for (const PlannedValue& value : plan.values) {
    proto::PlannedValue* v = out.add_values();
    v->set_name(value.name);
    v->set_producer(value.tensor.node);
    v->set_output(value.tensor.output);
    v->set_dtype(static_cast<proto::DataType>(value.type.dtype));
    for (int64_t d : value.type.shape.dims()) v->add_dims(d);
    v->set_bytes(value.bytes);
    v->set_first_step(value.first_step);
    v->set_last_step(value.last_step);
    proto::SlicePlan* slice = v->mutable_slice();
    slice->set_region(static_cast<proto::Region>(value.slice.region));
    slice->set_offset(value.slice.offset);
    slice->set_size(value.slice.size);
    slice->set_space(static_cast<proto::MemorySpace>(value.slice.space));
    v->set_index(value.index);
    v->set_reuses(value.reuses);
  }
  out.set_num_steps(plan.num_steps);
  out.set_outputs(plan.outputs == OutputPlacement::kArena
                      ? proto::OUTPUT_PLACEMENT_ARENA
                      : proto::OUTPUT_PLACEMENT_CALLER_BUFFER);
  out.set_planner(plan.planner);
  out.set_arena_bytes(plan.arena_bytes);
  out.set_weights_bytes(plan.weights_bytes);
  out.set_naive_bytes(plan.naive_bytes);
  out.set_lower_bound_bytes(plan.lower_bound_bytes);
  out.set_peak_step(plan.peak_step);
  for (int v : plan.peak_values) out.add_peak_values(v);
  return out;
}

absl::StatusOr<MemoryPlan> MemoryPlanFromProto(const proto::MemoryPlan& proto) {
  MemoryPlan plan;
  const int num_values = proto.values_size();
  for (int i = 0; i < num_values; ++i) {
    const proto::PlannedValue& v = proto.values(i);
    PlannedValue value;
    value.name = v.name();
    value.tensor = TensorRef{v.producer(), v.output()};
    absl::StatusOr<TensorType> type =
        TensorTypeFromProto(v.dtype(), absl::MakeConstSpan(v.dims().data(), v.dims_size()));
    if (!type.ok()) return ValueError(i, type.status().message());
    value.type = *std::move(type);
    if (v.bytes() < 0) return ValueError(i, "negative size");
    value.bytes = v.bytes();
    value.first_step = v.first_step();
    value.last_step = v.last_step();
    const proto::SlicePlan& slice = v.slice();
    if (!proto::Region_IsValid(slice.region())) {
      return ValueError(i, absl::StrCat("region ", slice.region(), " is unknown"));
    }
    if (!proto::MemorySpace_IsValid(slice.space())) {
      return ValueError(i, absl::StrCat("memory space ", slice.space(), " is unknown"));
    }
    if (slice.offset() < 0 || slice.size() < 0) return ValueError(i, "negative slice");
    value.slice.region = static_cast<Region>(slice.region());
    value.slice.offset = slice.offset();
    value.slice.size = slice.size();
    value.slice.space = static_cast<MemorySpace>(slice.space());
    value.index = v.index();
    if (v.reuses() < -1 || v.reuses() >= num_values) {
      return ValueError(i, absl::StrCat("reuses value ", v.reuses()));
    }
    value.reuses = v.reuses();
    plan.values.push_back(std::move(value));
  }
  if (proto.num_steps() < 0) return absl::InvalidArgumentError("memory plan: negative step count");
  plan.num_steps = proto.num_steps();
  if (!proto::OutputPlacement_IsValid(proto.outputs())) {
    return absl::InvalidArgumentError(
        absl::StrCat("memory plan: output placement ", proto.outputs(), " is unknown"));
  }
  plan.outputs = proto.outputs() == proto::OUTPUT_PLACEMENT_ARENA ? OutputPlacement::kArena
                                                                   : OutputPlacement::kCallerBuffer;
  plan.planner = proto.planner();
  plan.arena_bytes = proto.arena_bytes();
  plan.weights_bytes = proto.weights_bytes();
  plan.naive_bytes = proto.naive_bytes();
  plan.lower_bound_bytes = proto.lower_bound_bytes();
  if (plan.arena_bytes < 0 || plan.weights_bytes < 0) {
    return absl::InvalidArgumentError("memory plan: negative region size");
  }
  plan.peak_step = proto.peak_step();
  for (int v : proto.peak_values()) {
    if (v < 0 || v >= num_values) {
      return absl::InvalidArgumentError(
          absl::StrCat("memory plan: peak value ", v, " is not a value"));
    }
    plan.peak_values.push_back(v);
  }
  return plan;
}

}  // namespace kiln
