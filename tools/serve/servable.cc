#include "tools/serve/servable.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace kiln::serve {
namespace {

std::vector<TensorSpec> Specs(const std::vector<TensorSignature>& side) {
  std::vector<TensorSpec> specs;
  for (const TensorSignature& t : side) specs.push_back({t.name, t.type.dtype, t.type.shape.dims()});
  return specs;
}

}  // namespace

absl::StatusOr<std::shared_ptr<Servable>> Servable::Load(const std::string& name,
                                                         int64_t version,
                                                         const std::string& path,
                                                         ThreadPool* pool,
                                                         const BatchingOptions& batching,
                                                         Metrics* metrics) {
  absl::StatusOr<std::shared_ptr<const Artifact>> artifact = Artifact::Open(path);
  if (!artifact.ok()) return artifact.status();
  std::shared_ptr<Servable> servable(new Servable());
  servable->name_ = name;
  servable->version_ = version;
  servable->inputs_ = Specs((*artifact)->inputs());
  servable->outputs_ = Specs((*artifact)->outputs());
  absl::StatusOr<std::unique_ptr<LoadedArtifact>> loaded =
      LoadedArtifact::Load(*std::move(artifact), pool);
  if (!loaded.ok()) return loaded.status();
  servable->model_ = *std::move(loaded);
  servable->batcher_ = std::make_unique<Batcher>(servable->model_.get(), batching, metrics, name,
                                                 absl::StrCat(version));
  return servable;
}

}  // namespace kiln::serve
