// ModelRunner: a model opened for running, whatever file it came from, behind
// the one interface the C API (kiln/c_api.h) and the Python package run
// through. The runtime core opens compiled artifacts (OpenArtifactRunner,
// here); the compiler side opens graphs and ONNX models too
// (runtime/open_model.h).
#ifndef KILN_RUNTIME_MODEL_RUNNER_H_
#define KILN_RUNTIME_MODEL_RUNNER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/tensor.h"
#include "base/tensor_type.h"
#include "runtime/executable.h"

namespace kiln {

struct RunnerOptions {
  // Threads for intra-op parallelism, the calling thread included; 0: one per
  // core.
  int num_threads = 0;
  // Graph optimization level (runtime/compile.h) for models compiled when
  // opened; an artifact was optimized when it was compiled and ignores it.
  int optimization_level = 2;
};

class ModelRunner {
 public:
  virtual ~ModelRunner() = default;

  // The declared signature, -1 for a dimension any feed may bind.
  virtual const std::vector<TensorSignature>& inputs() const = 0;
  virtual const std::vector<TensorSignature>& outputs() const = 0;

  // The type of every output for inputs of `input_types` (one per input, in
  // order). InvalidArgument naming the input when one is not accepted (dtype,
  // rank, a fixed dimension, or for an artifact a batch size it was not
  // compiled for).
  virtual absl::StatusOr<std::vector<TensorType>> OutputTypes(
      absl::Span<const TensorType> input_types) const = 0;

  // Runs with one tensor per input, in order, and writes every output into the
  // caller's `outputs` (one per output, of the types OutputTypes gives, storage
  // owned by the caller). 64-byte aligned output buffers are written by the
  // kernels directly; others through a copy. Errors name the input or output;
  // the runner stays usable. Thread-safe.
  virtual absl::Status Run(absl::Span<const Tensor> inputs, absl::Span<Tensor> outputs) const = 0;

  // The kind of file it came from: "artifact", "graph" or "onnx".
  virtual const char* kind() const = 0;
};

// Checks that `outputs` has one tensor per output of the types in `expected`,
// each with storage; InvalidArgument naming the output otherwise. For
// ModelRunner implementations.
absl::Status CheckOutputBuffers(const std::vector<TensorSignature>& declared,
                                absl::Span<const TensorType> expected,
                                absl::Span<const Tensor> outputs);

// Opens a compiled artifact (`kiln compile -o model.kiln`) with the runtime
// core alone: Artifact::Open's and LoadedArtifact::Load's errors, which name
// the path.
absl::StatusOr<std::unique_ptr<ModelRunner>> OpenArtifactRunner(const std::string& path,
                                                                const RunnerOptions& options);

}  // namespace kiln

#endif  // KILN_RUNTIME_MODEL_RUNNER_H_
