// The proto form of an Executable (proto/executable.proto) and its file: written and read
// back exactly, checked for structure on the way in, then verified like any Executable.
#ifndef KILN_RUNTIME_EXECUTABLE_PROTO_H_
#define KILN_RUNTIME_EXECUTABLE_PROTO_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/executable.pb.h"
#include "runtime/executable.h"

namespace kiln {

// The proto form's format version; ExecutableFromProto refuses others.
inline constexpr uint32_t kExecutableFormatVersion = 1;

// The proto of `executable`. FailedPrecondition when it cannot be written out: an
// Executable that keeps in-process state (reference kernels), or one over 2 GiB.
absl::StatusOr<proto::Executable> ExecutableToProto(const Executable& executable);

// The Executable `proto` describes, kernels not resolved yet (LoadedExecutable::Load
// verifies and resolves). Errors name the field, step or value: another format version,
// unknown enum values, indices out of range, sizes that disagree (parameter blocks,
// weights), and MemoryPlanFromProto's.
absl::StatusOr<Executable> ExecutableFromProto(const proto::Executable& proto);

// Files: the proto's binary form. Reading checks the file parses (a truncated or
// damaged file is InvalidArgument naming the path), then ExecutableFromProto.
absl::Status WriteExecutableFile(const Executable& executable, const std::string& path);
absl::StatusOr<Executable> ReadExecutableFile(const std::string& path);

}  // namespace kiln

#endif  // KILN_RUNTIME_EXECUTABLE_PROTO_H_
