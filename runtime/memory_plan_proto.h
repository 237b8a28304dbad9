// The proto form of a MemoryPlan (proto/executable.proto), the piece of the compiled form
// that places every tensor. Round-trips exactly; a plan read back is checked for indices
// and enum values before use.
#ifndef KILN_RUNTIME_MEMORY_PLAN_PROTO_H_
#define KILN_RUNTIME_MEMORY_PLAN_PROTO_H_

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/tensor_type.h"
#include "proto/executable.pb.h"
#include "runtime/memory_plan.h"

namespace kiln {

proto::MemoryPlan MemoryPlanToProto(const MemoryPlan& plan);

// The plan `proto` describes. Errors name the value or field: an unknown region, memory
// space, dtype or output placement; a rank above the shape limit; a reused value or peak
// value index out of range; negative sizes or offsets. Bounds against regions and
// lifetimes are VerifyPlan's.
absl::StatusOr<MemoryPlan> MemoryPlanFromProto(const proto::MemoryPlan& proto);

// A tensor type read from a proto: a Kiln dtype and a valid shape of rank at most 64.
// The error says what is wrong; the caller names the field.
absl::StatusOr<TensorType> TensorTypeFromProto(int dtype, absl::Span<const int64_t> dims);

}  // namespace kiln

#endif  // KILN_RUNTIME_MEMORY_PLAN_PROTO_H_
