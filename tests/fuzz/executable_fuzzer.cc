// libFuzzer entry point: an Executable proto from arbitrary bytes must give an
// Executable or an error, and VerifyExecutable must accept or reject it, never crash or
// hang; what is accepted must round-trip to the same proto. Kernels are not run: their
// parameter blocks are trusted once verified (an Executable is code, like a shared
// library). Build with --config=fuzz.
#include <cstddef>
#include <cstdint>
#include <string>

#include "proto/executable.pb.h"
#include "runtime/executable.h"
#include "runtime/executable_proto.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kiln::proto::Executable proto;
  if (size > (1 << 20) || !proto.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::StatusOr<kiln::Executable> executable = kiln::ExecutableFromProto(proto);
  if (!executable.ok()) return 0;
  (void)kiln::VerifyExecutable(*executable, kiln::LinkedKernelLibraries());
  absl::StatusOr<kiln::proto::Executable> again = kiln::ExecutableToProto(*executable);
  if (!again.ok()) __builtin_trap();
  absl::StatusOr<kiln::Executable> back = kiln::ExecutableFromProto(*again);
  if (!back.ok() || back->plan.ToString() != executable->plan.ToString()) __builtin_trap();
  return 0;
}
