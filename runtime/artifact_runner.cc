// OpenArtifactRunner: a compiled artifact behind ModelRunner, on the runtime
// core alone.
#include <cstring>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "runtime/alignment.h"
#include "runtime/artifact.h"
#include "runtime/loaded_artifact.h"
#include "runtime/model_runner.h"
#include "runtime/thread_pool.h"

namespace kiln {
namespace {

class ArtifactRunner final : public ModelRunner {
 public:
  ArtifactRunner(std::unique_ptr<ThreadPool> pool, std::unique_ptr<LoadedArtifact> loaded)
      : pool_(std::move(pool)), loaded_(std::move(loaded)) {}
  ~ArtifactRunner() override {
    loaded_.reset();  // before the pool its executors run on
  }

  const std::vector<TensorSignature>& inputs() const override {
    return loaded_->artifact().inputs();
  }
  const std::vector<TensorSignature>& outputs() const override {
    return loaded_->artifact().outputs();
  }
  const char* kind() const override { return "artifact"; }

  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      absl::Span<const TensorType> input_types) const override {
    absl::StatusOr<const LoadedExecutable*> executable = loaded_->Find(input_types);
    if (!executable.ok()) return executable.status();
    std::vector<TensorType> types;
    for (const TensorSignature& output : (*executable)->executable().outputs) {
      types.push_back(output.type);
    }
    return types;
  }

  absl::Status Run(absl::Span<const Tensor> inputs, absl::Span<Tensor> outputs) const override {
    const LoadedExecutable* executable = loaded_->Match(inputs);
    if (executable == nullptr) {
      std::vector<TensorType> types;
      for (const Tensor& input : inputs) types.push_back(TensorType{input.dtype(), input.shape()});
      absl::Status why = loaded_->Find(types).status();
      return why.ok() ? absl::InternalError("no compiled batch size matches") : why;
    }
    const std::vector<TensorSignature>& compiled = executable->executable().outputs;
    if (outputs.size() != compiled.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected ", compiled.size(), " output buffers, got ", outputs.size()));
    }
    // Small vectors on the stack: a Run with aligned buffers allocates nothing here.
    absl::InlinedVector<const void*, 8> input_data;
    for (const Tensor& input : inputs) input_data.push_back(input.raw_data());
    absl::InlinedVector<void*, 8> output_data;
    bool unaligned = false;
    for (size_t i = 0; i < outputs.size(); ++i) {
      Tensor& output = outputs[i];
      if (output.dtype() != compiled[i].type.dtype || output.shape() != compiled[i].type.shape ||
          (output.ByteSize() > 0 && output.raw_data() == nullptr)) {
        std::vector<TensorType> expected;
        for (const TensorSignature& s : compiled) expected.push_back(s.type);
        return CheckOutputBuffers(compiled, expected, outputs);
      }
      output_data.push_back(output.raw_data());
      unaligned = unaligned || (output.ByteSize() > 0 && !IsAligned(output.raw_data()));
    }
    if (!unaligned) return executable->Run(input_data, output_data);

    // The plan has kernels write outputs in place, which needs 64-byte alignment: an
    // unaligned buffer gets an aligned stand-in, copied out after the run.
    std::vector<Tensor> stand_ins;
    stand_ins.reserve(outputs.size());
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (outputs[i].ByteSize() == 0 || IsAligned(outputs[i].raw_data())) continue;
      absl::StatusOr<Tensor> stand_in = Tensor::Allocate(outputs[i].dtype(), outputs[i].shape());
      if (!stand_in.ok()) return stand_in.status();
      stand_ins.push_back(*std::move(stand_in));
      output_data[i] = stand_ins.back().raw_data();
    }
    absl::Status ran = executable->Run(input_data, output_data);
    if (!ran.ok()) return ran;
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (output_data[i] != outputs[i].raw_data()) {
        std::memcpy(outputs[i].raw_data(), output_data[i], outputs[i].ByteSize());
      }
    }
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<ThreadPool> pool_;  // null with one thread
  std::unique_ptr<LoadedArtifact> loaded_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ModelRunner>> OpenArtifactRunner(const std::string& path,
                                                                const RunnerOptions& options) {
  if (options.num_threads < 0) {
    return absl::InvalidArgumentError("num_threads must be >= 0");
  }
  absl::StatusOr<std::shared_ptr<const Artifact>> artifact = Artifact::Open(path);
  if (!artifact.ok()) return artifact.status();
  const int threads =
      options.num_threads == 0 ? ThreadPool::DefaultThreadCount() : options.num_threads;
  std::unique_ptr<ThreadPool> pool;
  if (threads > 1) pool = std::make_unique<ThreadPool>(threads);
  absl::StatusOr<std::unique_ptr<LoadedArtifact>> loaded =
      LoadedArtifact::Load(*std::move(artifact), pool.get());
  if (!loaded.ok()) return loaded.status();
  return std::unique_ptr<ModelRunner>(new ArtifactRunner(std::move(pool), *std::move(loaded)));
}

}  // namespace kiln
