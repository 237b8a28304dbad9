// One loaded version of a served model: its artifact loaded on the runtime core, its
// signature as the request codecs see it, and its batcher. Shared by the requests that
// use it, so a version being unloaded finishes them first.
#ifndef KILN_TOOLS_SERVE_SERVABLE_H_
#define KILN_TOOLS_SERVE_SERVABLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/loaded_artifact.h"
#include "runtime/thread_pool.h"
#include "tools/serve/batcher.h"
#include "tools/serve/metrics.h"
#include "tools/serve/tensor_spec.h"

namespace kiln::serve {

class Servable {
 public:
  // Opens, checks and loads the artifact at `path` (Artifact::Open, LoadedArtifact::Load)
  // and starts its batcher. `pool` and `metrics` must outlive it. Errors are the loader's.
  static absl::StatusOr<std::shared_ptr<Servable>> Load(const std::string& name, int64_t version,
                                                        const std::string& path,
                                                        ThreadPool* pool,
                                                        const BatchingOptions& batching,
                                                        Metrics* metrics);

  const std::string& name() const { return name_; }
  int64_t version() const { return version_; }
  const std::vector<TensorSpec>& inputs() const { return inputs_; }
  const std::vector<TensorSpec>& outputs() const { return outputs_; }
  const LoadedArtifact& model() const { return *model_; }
  Batcher& batcher() const { return *batcher_; }

 private:
  Servable() = default;

  std::string name_;
  int64_t version_ = 0;
  std::vector<TensorSpec> inputs_;
  std::vector<TensorSpec> outputs_;
  std::unique_ptr<LoadedArtifact> model_;
  std::unique_ptr<Batcher> batcher_;  // declared last: stopped before the model goes
};

}  // namespace kiln::serve

#endif  // KILN_TOOLS_SERVE_SERVABLE_H_
