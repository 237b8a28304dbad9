// libFuzzer entry point: a MemoryPlan proto from arbitrary bytes must give a plan or an
// error, never crash; what is accepted must round-trip to the same proto. Build with
// --config=fuzz.
#include <cstddef>
#include <cstdint>
#include <string>

#include "proto/executable.pb.h"
#include "runtime/memory_plan_proto.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kiln::proto::MemoryPlan proto;
  if (size > (1 << 20) || !proto.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::StatusOr<kiln::MemoryPlan> plan = kiln::MemoryPlanFromProto(proto);
  if (!plan.ok()) return 0;
  (void)plan->ToString();
  absl::StatusOr<kiln::MemoryPlan> back =
      kiln::MemoryPlanFromProto(kiln::MemoryPlanToProto(*plan));
  if (!back.ok() || back->ToString() != plan->ToString()) __builtin_trap();
  return 0;
}
