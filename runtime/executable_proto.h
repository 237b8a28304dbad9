// The proto form of an Executable (proto/executable.proto): written and read back exactly,
// checked for structure on the way in, then verified like any Executable. The artifact
// (runtime/artifact.h) carries these protos, its weights beside them.
#ifndef KILN_RUNTIME_EXECUTABLE_PROTO_H_
#define KILN_RUNTIME_EXECUTABLE_PROTO_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/executable.pb.h"
#include "runtime/executable.h"

namespace kiln {

// The proto form's format version; ExecutableFromProto refuses others.
inline constexpr uint32_t kExecutableFormatVersion = 1;

// Whether a proto carries the weights region in its `weights` field, or leaves it empty
// because the weights travel beside it (an artifact's weights section).
enum class WeightsForm { kInline, kOmitted };

// The proto of `executable`. FailedPrecondition when it cannot be written out: a step
// bound to a function whose kernel is in none of `libraries` (the reference kernels', or a
// kernel generated in this process that travels in no artifact's code), or one over 2 GiB.
// An artifact passes the linked libraries plus the generated kernels it carries.
absl::StatusOr<proto::Executable> ExecutableToProto(
    const Executable& executable, WeightsForm weights = WeightsForm::kInline,
    absl::Span<const KernelLibrary* const> libraries = LinkedKernelLibraries());

// The Executable `proto` describes, kernels not resolved yet (LoadedExecutable::Load
// verifies and resolves). Errors name the field, step or value: another format version,
// unknown enum values, indices out of range, sizes that disagree (parameter blocks,
// weights), and MemoryPlanFromProto's.
absl::StatusOr<Executable> ExecutableFromProto(const proto::Executable& proto);

// The same for a proto whose weights were omitted: the Executable reads `weights`
// (`weights_bytes` readable bytes, 64-byte aligned, kept alive by the pointer's owner), not
// a copy. Errors as above, and a proto that has inline weights or a plan needing more
// weights than `weights_bytes`.
absl::StatusOr<Executable> ExecutableFromProto(const proto::Executable& proto,
                                               std::shared_ptr<const uint8_t> weights,
                                               int64_t weights_bytes);

// One side of a signature (inputs or outputs) and back. Reading checks each dtype and
// shape (-1 dimensions allowed: the caller decides), naming `what` ("input") and position.
void SignatureToProto(const std::vector<TensorSignature>& side,
                      google::protobuf::RepeatedPtrField<proto::TensorSignature>* out);
absl::StatusOr<std::vector<TensorSignature>> SignatureFromProto(
    const google::protobuf::RepeatedPtrField<proto::TensorSignature>& side,
    absl::string_view what);


}  // namespace kiln

#endif  // KILN_RUNTIME_EXECUTABLE_PROTO_H_
