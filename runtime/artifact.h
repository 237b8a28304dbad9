// The compiled artifact: one file (`kiln compile -o model.kiln`) that the runtime core
// loads without the compiler. It holds the Executables of one graph, one per compiled
// batch size, over a single copy of the weights, which are mapped from the file, never
// copied.
//
// Layout (little-endian):
//   [header, kArtifactHeaderBytes] [manifest: proto::ArtifactManifest] [pad to 4 KiB]
//   [weights section] [pad to 4 KiB] [code section, reserved for generated code]
// The header holds a magic number, the format version, the file's size, the target and,
// for every section, its offset, size and CRC-32; its last field is the CRC-32 of the
// header itself. The weights start on a page, so the mapped weights are page aligned.
#ifndef KILN_RUNTIME_ARTIFACT_H_
#define KILN_RUNTIME_ARTIFACT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime/executable.h"

namespace kiln {

inline constexpr uint32_t kArtifactFormatVersion = 1;
inline constexpr int64_t kArtifactHeaderBytes = 128;

// The target this runtime runs ("cpu-x86_64"); an artifact for another is refused.
absl::string_view HostArtifactTarget();

// One compiled input-shape signature of an artifact.
struct ArtifactExecutable {
  // The size of every -1 dimension of the declared inputs; 0 when the graph has none.
  int64_t batch_size = 0;
  Executable executable;
};

// What `kiln compile` writes.
struct ArtifactContents {
  std::string source;  // the model file's base name
  // The graph's inputs and outputs as declared, -1 for the batch dimension.
  std::vector<TensorSignature> inputs;
  std::vector<TensorSignature> outputs;
  // By increasing batch size; every one over the same weights region.
  std::vector<ArtifactExecutable> executables;
};

// Writes `contents` to `path` atomically (a temporary file beside it, renamed), so a
// directory watcher never sees half a file. Errors: FailedPrecondition for contents that
// cannot be written (no executables, batch sizes not increasing, different weights, an
// Executable ExecutableToProto refuses), PermissionDenied when the file cannot be written.
absl::Status WriteArtifact(const ArtifactContents& contents, const std::string& path);

// A loaded artifact: the manifest checked, its Executables ready for LoadedExecutable::Load
// (kernels not resolved yet), their weights pointing into the mapped file. Immutable and
// thread-safe; the mapping lives as long as the Artifact or any Executable from it.
class Artifact {
 public:
  struct Options {
    // Compare each section's CRC-32 with the header's. Reading the weights also brings
    // them into memory, so the first run does not fault them in.
    bool verify_checksums = true;
  };

  // Maps `path` read-only and checks it. Errors name the path and what is wrong: NotFound
  // (no such file); InvalidArgument (not an artifact: bad magic, a manifest that does not
  // parse or does not describe its executables); FailedPrecondition (another format
  // version or target); DataLoss (truncated, sections out of bounds, checksum mismatch).
  static absl::StatusOr<std::shared_ptr<const Artifact>> Open(const std::string& path,
                                                               const Options& options);
  static absl::StatusOr<std::shared_ptr<const Artifact>> Open(const std::string& path) {
    return Open(path, Options());
  }
  // The same over bytes in memory (copied once into an aligned block); `name` is used in
  // messages. For tests and the fuzzer.
  static absl::StatusOr<std::shared_ptr<const Artifact>> FromBytes(absl::string_view bytes,
                                                                    absl::string_view name,
                                                                    const Options& options);

  const std::string& name() const { return name_; }
  const std::string& source() const { return source_; }
  const std::string& producer() const { return producer_; }
  const std::string& target() const { return target_; }
  const std::vector<TensorSignature>& inputs() const { return inputs_; }
  const std::vector<TensorSignature>& outputs() const { return outputs_; }
  const std::vector<ArtifactExecutable>& executables() const { return executables_; }
  int64_t file_bytes() const { return file_bytes_; }
  int64_t manifest_bytes() const { return manifest_bytes_; }
  int64_t weights_bytes() const { return weights_bytes_; }
  int64_t code_bytes() const { return code_bytes_; }

 private:
  Artifact() = default;
  static absl::StatusOr<std::shared_ptr<const Artifact>> Parse(
      std::shared_ptr<const uint8_t> data, int64_t size, std::string name,
      const Options& options);

  std::string name_;
  std::string source_;
  std::string producer_;
  std::string target_;
  std::vector<TensorSignature> inputs_;
  std::vector<TensorSignature> outputs_;
  std::vector<ArtifactExecutable> executables_;
  int64_t file_bytes_ = 0;
  int64_t manifest_bytes_ = 0;
  int64_t weights_bytes_ = 0;
  int64_t code_bytes_ = 0;
};

// True when `path` starts with the artifact's magic number (false for a missing file).
bool IsArtifactFile(const std::string& path);

}  // namespace kiln

#endif  // KILN_RUNTIME_ARTIFACT_H_
