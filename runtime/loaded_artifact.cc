#include "runtime/loaded_artifact.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln {

absl::StatusOr<std::unique_ptr<LoadedArtifact>> LoadedArtifact::Load(
    std::shared_ptr<const Artifact> artifact, ThreadPool* pool) {
  std::unique_ptr<LoadedArtifact> loaded(new LoadedArtifact());
  // The linked libraries and the artifact's own generated code.
  const std::vector<const KernelLibrary*> libraries = artifact->Libraries();
  for (const ArtifactExecutable& e : artifact->executables()) {
    absl::StatusOr<std::unique_ptr<LoadedExecutable>> executable =
        LoadedExecutable::Load(e.executable, pool, libraries);
    if (!executable.ok()) {
      return absl::Status(executable.status().code(),
                          absl::StrCat("artifact '", artifact->name(), "', batch ", e.batch_size,
                                       ": ", executable.status().message()));
    }
    loaded->batch_sizes_.push_back(e.batch_size);
    loaded->executables_.push_back(*std::move(executable));
  }
  loaded->artifact_ = std::move(artifact);
  return loaded;
}

const LoadedExecutable* LoadedArtifact::ForBatch(int64_t batch_size) const {
  for (size_t i = 0; i < batch_sizes_.size(); ++i) {
    if (batch_sizes_[i] == batch_size) return executables_[i].get();
  }
  return nullptr;
}

int64_t LoadedArtifact::BatchFor(int64_t rows) const {
  for (int64_t b : batch_sizes_) {
    if (b >= rows) return b;
  }
  return -1;
}

absl::StatusOr<const LoadedExecutable*> LoadedArtifact::Find(
    absl::Span<const TensorType> input_types) const {
  const std::vector<TensorSignature>& declared = artifact_->inputs();
  if (input_types.size() != declared.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", declared.size(), " inputs, got ", input_types.size()));
  }
  for (const auto& executable : executables_) {
    const std::vector<TensorSignature>& compiled = executable->executable().inputs;
    bool match = true;
    for (size_t i = 0; i < input_types.size() && match; ++i) {
      match = input_types[i] == compiled[i].type;
    }
    if (match) return executable.get();
  }
  // Name the first input that no compiled signature accepts.
  for (size_t i = 0; i < input_types.size(); ++i) {
    std::vector<std::string> accepted;
    bool any = false;
    for (const auto& executable : executables_) {
      const TensorType& type = executable->executable().inputs[i].type;
      accepted.push_back(type.ToString());
      any = any || input_types[i] == type;
    }
    if (!any) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", declared[i].name, "': ", input_types[i].ToString(),
                       ", the artifact was compiled for ", absl::StrJoin(accepted, " or ")));
    }
  }
  return absl::InvalidArgumentError("the inputs' shapes belong to different compiled batch sizes");
}

const LoadedExecutable* LoadedArtifact::Match(absl::Span<const Tensor> inputs) const {
  if (inputs.size() != artifact_->inputs().size()) return nullptr;
  for (const auto& executable : executables_) {
    const std::vector<TensorSignature>& compiled = executable->executable().inputs;
    bool match = true;
    for (size_t i = 0; i < inputs.size() && match; ++i) {
      match = inputs[i].dtype() == compiled[i].type.dtype &&
              inputs[i].shape() == compiled[i].type.shape;
    }
    if (match) return executable.get();
  }
  return nullptr;
}

absl::StatusOr<std::vector<Tensor>> LoadedArtifact::Run(absl::Span<const Tensor> inputs) const {
  if (const LoadedExecutable* executable = Match(inputs)) return executable->Run(inputs);
  std::vector<TensorType> types;
  for (const Tensor& input : inputs) types.push_back(TensorType{input.dtype(), input.shape()});
  absl::Status why = Find(types).status();
  return why.ok() ? absl::InternalError("no compiled batch size matches") : why;
}

}  // namespace kiln
