// An artifact ready to run: every compiled batch size's Executable loaded (kernels
// resolved, first arena made) over the artifact's mapped weights. What `kiln run
// model.kiln`, kiln-runner and kiln-serve hold; it needs the runtime core only.
#ifndef KILN_RUNTIME_LOADED_ARTIFACT_H_
#define KILN_RUNTIME_LOADED_ARTIFACT_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/tensor.h"
#include "runtime/artifact.h"
#include "runtime/loaded_executable.h"
#include "runtime/thread_pool.h"

namespace kiln {

class LoadedArtifact {
 public:
  // Loads every Executable of `artifact` (LoadedExecutable::Load, kernels resolved in the
  // linked libraries and the artifact's code) over `pool` (null: one thread; must outlive
  // this). Errors name the batch size and VerifyExecutable's step.
  static absl::StatusOr<std::unique_ptr<LoadedArtifact>> Load(
      std::shared_ptr<const Artifact> artifact, ThreadPool* pool);

  const Artifact& artifact() const { return *artifact_; }
  // The compiled batch sizes, increasing (one 0 for a graph without a batch dimension).
  const std::vector<int64_t>& batch_sizes() const { return batch_sizes_; }
  // The Executable compiled for exactly `batch_size`, or null.
  const LoadedExecutable* ForBatch(int64_t batch_size) const;
  // The smallest compiled batch size >= `rows`, or -1 when `rows` exceeds them all.
  int64_t BatchFor(int64_t rows) const;

  // The Executable compiled for inputs of exactly these types (one per declared input, in
  // order). InvalidArgument naming the input and the compiled shapes when none is.
  absl::StatusOr<const LoadedExecutable*> Find(absl::Span<const TensorType> input_types) const;

  // The Executable compiled for exactly the types of `inputs`, or null when none is (Find
  // says why). Allocates nothing.
  const LoadedExecutable* Match(absl::Span<const Tensor> inputs) const;

  // Runs the Executable whose input signature `inputs` match exactly (one tensor per
  // declared input, in order). InvalidArgument naming the input and the compiled shapes
  // when none does. Thread-safe.
  absl::StatusOr<std::vector<Tensor>> Run(absl::Span<const Tensor> inputs) const;

 private:
  LoadedArtifact() = default;

  std::shared_ptr<const Artifact> artifact_;
  std::vector<int64_t> batch_sizes_;
  std::vector<std::unique_ptr<LoadedExecutable>> executables_;
};

}  // namespace kiln

#endif  // KILN_RUNTIME_LOADED_ARTIFACT_H_
