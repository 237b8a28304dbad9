#include "runtime/memory_plan.h"

#include "absl/strings/str_cat.h"

namespace kiln {
namespace {

std::string SliceText(const Slice& slice) {
  if (slice.region == Region::kInput || slice.region == Region::kOutput) {
    return std::string(RegionName(slice.region));
  }
  return absl::StrCat(RegionName(slice.region), "[", slice.offset, ", ",
                      slice.offset + slice.size, ")");
}

}  // namespace

absl::string_view RegionName(Region region) {
  switch (region) {
    case Region::kArena:
      return "arena";
    case Region::kWeights:
      return "weights";
    case Region::kInput:
      return "input";
    case Region::kOutput:
      return "output";
  }
  return "?";
}

int MemoryPlan::FindValue(TensorRef tensor) const {
  for (size_t v = 0; v < values.size(); ++v) {
    if (values[v].tensor == tensor) return static_cast<int>(v);
  }
  return -1;
}

std::string MemoryPlan::ToString() const {
  std::string out = absl::StrCat(
      "steps: ", num_steps, ", outputs: ",
      outputs == OutputPlacement::kArena ? "arena" : "caller buffers", ", planner: ", planner,
      "\narena: ", arena_bytes, ", naive: ", naive_bytes, ", lower bound: ", lower_bound_bytes,
      ", weights: ", weights_bytes, "\npeak step: ", peak_step, " (");
  for (size_t i = 0; i < peak_values.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", values[peak_values[i]].name);
  }
  absl::StrAppend(&out, ")\n");
  for (const PlannedValue& v : values) {
    absl::StrAppend(&out, "  ", v.name, ": ", v.type.ToString(), " ", SliceText(v.slice));
    if (v.slice.region == Region::kInput || v.slice.region == Region::kOutput) {
      absl::StrAppend(&out, " ", v.index);
    }
    if (v.first_step >= 0) absl::StrAppend(&out, " live ", v.first_step, "..", v.last_step);
    if (v.reuses >= 0) absl::StrAppend(&out, " in place of ", values[v.reuses].name);
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace kiln
