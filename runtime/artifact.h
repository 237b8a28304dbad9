// The compiled artifact: one file (`kiln compile -o model.kiln`) that the runtime core
// loads without the compiler. It holds the Executables of one graph, one per compiled
// batch size, over a single copy of the weights, which are mapped from the file, never
// copied.
//
// Layout (little-endian):
//   [header, kArtifactHeaderBytes] [manifest: proto::ArtifactManifest] [pad to 4 KiB]
//   [weights section] [pad to 4 KiB] [code section: generated kernels, a shared object]
// The header holds a magic number, the format version, the file's size, the target and,
// for every section, its offset, size and CRC-32; its last field is the CRC-32 of the
// header itself. The weights start on a page, so the mapped weights are page aligned. The
// code section, when not empty, is an ELF shared object exporting the generated kernels
// the manifest lists; loading the artifact loads it (runtime/code_library.h).
#ifndef KILN_RUNTIME_ARTIFACT_H_
#define KILN_RUNTIME_ARTIFACT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kernels/kernel_library.h"
#include "runtime/code_library.h"
#include "runtime/executable.h"

namespace kiln {

namespace proto {
class ArtifactManifest;
}  // namespace proto

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

// The generated kernels' code an artifact carries.
struct ArtifactCode {
  // An ELF shared object for this target exporting every kernel's entry symbol; empty
  // when no step runs a generated kernel.
  std::string shared_object;
  // Every generated kernel a step of some Executable names, each once.
  std::vector<CodeKernel> kernels;
  // The host it was generated for ("TRIPLE/CPU/FEATURES"), for messages.
  std::string target;
};

// What `kiln compile` writes.
struct ArtifactContents {
  std::string source;  // the model file's base name
  // The graph's inputs and outputs as declared, -1 for the batch dimension.
  std::vector<TensorSignature> inputs;
  std::vector<TensorSignature> outputs;
  // By increasing batch size; every one over the same weights region.
  std::vector<ArtifactExecutable> executables;
  ArtifactCode code;
};

// Writes `contents` to `path` atomically (a temporary file beside it, renamed), so a
// directory watcher never sees half a file. Errors: FailedPrecondition for contents that
// cannot be written (no executables, batch sizes not increasing, different weights, an
// Executable ExecutableToProto refuses: a step whose kernel is neither in a linked library
// nor in `code`; code kernels without code or code without kernels, a code kernel no step
// names, a name twice), PermissionDenied when the file cannot be written.
absl::Status WriteArtifact(const ArtifactContents& contents, const std::string& path);

// A loaded artifact: the manifest checked, its generated code loaded, its Executables
// ready for LoadedExecutable::Load with Libraries() (kernels not resolved yet), their
// weights pointing into the mapped file. Immutable and thread-safe; the mapping and the
// code live as long as the Artifact or any Executable from it (its keep_alive holds the
// code).
class Artifact {
 public:
  struct Options {
    // Compare each section's CRC-32 with the header's. Reading the weights also brings
    // them into memory, so the first run does not fault them in.
    bool verify_checksums = true;
    // Load the code section's shared object (dlopen). Loaded code is trusted like any
    // shared library: the checksums find accidental damage, not tampering. Without it the
    // manifest is still checked, and an Executable running a generated kernel fails to
    // load (its kernel is in no library): for describing an artifact, and for bytes that
    // must never run (a fuzzer's).
    bool load_code = true;
  };

  // Maps `path` read-only and checks it. Errors name the path and what is wrong: NotFound
  // (no such file); InvalidArgument (not an artifact: bad magic, a manifest that does not
  // parse or does not describe its executables or its code, a kernel symbol the code lacks);
  // FailedPrecondition (another format version or target, code needing CPU features this
  // CPU lacks, named); DataLoss (truncated, sections out of bounds, checksum mismatch,
  // code the dynamic loader refuses, with its message).
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
  // The generated kernels of the code section and the host they were generated for.
  const std::vector<CodeKernel>& code_kernels() const { return code_kernels_; }
  const std::string& code_target() const { return code_target_; }
  // The loaded code's kernels; null when the artifact has no code or it was not loaded.
  const KernelLibrary* code_library() const {
    return code_ != nullptr ? &code_->library() : nullptr;
  }
  // The libraries the Executables resolve their kernels in: the linked ones, then the
  // code's.
  std::vector<const KernelLibrary*> Libraries() const;

 private:
  Artifact() = default;
  static absl::StatusOr<std::shared_ptr<const Artifact>> Parse(
      std::shared_ptr<const uint8_t> data, int64_t size, std::string name,
      const Options& options);
  // Checks the manifest's generated kernels against the code section and the steps, and
  // loads the code when `options` ask; after the Executables are read.
  absl::Status LoadCode(const proto::ArtifactManifest& manifest, const uint8_t* code,
                        int64_t code_bytes, const Options& options);

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
  std::vector<CodeKernel> code_kernels_;
  std::string code_target_;
  std::shared_ptr<const CodeLibrary> code_;
};

// True when `path` starts with the artifact's magic number (false for a missing file).
bool IsArtifactFile(const std::string& path);

}  // namespace kiln

#endif  // KILN_RUNTIME_ARTIFACT_H_
