#include "runtime/open_model.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/onnx/model_file.h"
#include "runtime/artifact.h"

namespace kiln {
namespace {

class SessionModelRunner final : public ModelRunner {
 public:
  SessionModelRunner(std::unique_ptr<Session> session, const char* kind)
      : session_(std::move(session)), kind_(kind) {
    const Graph& graph = session_->graph();
    for (int node : graph.inputs()) {
      inputs_.push_back(TensorSignature{graph.node(node).name, graph.node(node).outputs[0]});
    }
    for (const GraphOutput& output : graph.outputs()) {
      outputs_.push_back(TensorSignature{output.name, graph.type(output.tensor)});
      fetches_.push_back(output.name);
    }
  }

  const std::vector<TensorSignature>& inputs() const override { return inputs_; }
  const std::vector<TensorSignature>& outputs() const override { return outputs_; }
  const char* kind() const override { return kind_; }

  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      absl::Span<const TensorType> input_types) const override {
    if (input_types.size() != inputs_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected ", inputs_.size(), " inputs, got ", input_types.size()));
    }
    // FetchTypes reads the feeds' types only: data-less feeds describe them.
    Feeds feeds;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      feeds.emplace_back(inputs_[i].name,
                         Tensor::Borrow(input_types[i].dtype, input_types[i].shape, nullptr));
    }
    return session_->FetchTypes(feeds, fetches_);
  }

  absl::Status Run(absl::Span<const Tensor> inputs, absl::Span<Tensor> outputs) const override {
    if (inputs.size() != inputs_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected ", inputs_.size(), " inputs, got ", inputs.size()));
    }
    if (outputs.size() != outputs_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected ", outputs_.size(), " output buffers, got ", outputs.size()));
    }
    Feeds feeds;
    feeds.reserve(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      // Borrowed, not copied: the Session reads the caller's memory.
      feeds.emplace_back(inputs_[i].name, Tensor::Borrow(inputs[i].dtype(), inputs[i].shape(),
                                                         const_cast<void*>(inputs[i].raw_data())));
    }
    return session_->Run(feeds, fetches_, outputs);
  }

 private:
  std::unique_ptr<Session> session_;
  const char* kind_;
  std::vector<TensorSignature> inputs_;
  std::vector<TensorSignature> outputs_;
  std::vector<std::string> fetches_;
};

}  // namespace

std::unique_ptr<ModelRunner> SessionRunner(std::unique_ptr<Session> session, const char* kind) {
  return std::make_unique<SessionModelRunner>(std::move(session), kind);
}

absl::StatusOr<std::unique_ptr<ModelRunner>> OpenModelRunner(const std::string& path,
                                                             const RunnerOptions& options) {
  if (IsArtifactFile(path)) return OpenArtifactRunner(path, options);
  absl::StatusOr<Graph> graph = LoadModel(path);
  if (!graph.ok()) return graph.status();
  SessionOptions session_options;
  session_options.num_threads = options.num_threads;
  session_options.compile.optimization_level = options.optimization_level;
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::Create(*std::move(graph), session_options);
  if (!session.ok()) {
    return absl::Status(session.status().code(),
                        absl::StrCat(path, ": ", session.status().message()));
  }
  return SessionRunner(*std::move(session), IsOnnxPath(path) ? "onnx" : "graph");
}

}  // namespace kiln
