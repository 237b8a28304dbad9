// fold-constants: evaluates nodes whose inputs are all constants with the registry's
// reference kernels and replaces them by Constants, within a size cap.
#include <string>

#include "absl/strings/str_cat.h"
#include "graph/evaluate.h"
#include "graph/graph_rewrite.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "passes/decision.h"
#include "passes/passes.h"

namespace kiln::passes {
namespace {

// May `node`, whose inputs are constants totalling `input_bytes`, be folded? A fold must
// never bloat the graph: an output above the cap is folded only when it is no larger than
// its constant inputs (a transposed or reshaped weight), which then usually die.
Decision MayFold(const Graph& graph, const Node& node, int64_t input_bytes,
                 const PassOptions& options) {
  int64_t output_bytes = 0;
  for (const TensorType& t : node.outputs) {
    if (!t.shape.IsFullyKnown()) return Decision::No("output shape is not fully known");
    output_bytes += t.shape.NumElements() * DataTypeSize(t.dtype);
  }
  if (output_bytes > options.fold_max_output_bytes && output_bytes > input_bytes) {
    return Decision::No(absl::StrCat("output of ", output_bytes, " bytes exceeds the cap of ",
                                     options.fold_max_output_bytes,
                                     " bytes and its constant inputs (", input_bytes, ")"));
  }
  return Decision::Yes();
}

class FoldConstantsPass : public Pass {
 public:
  explicit FoldConstantsPass(const PassOptions& options) : options_(options) {}
  absl::string_view name() const override { return "fold-constants"; }
  absl::string_view description() const override {
    return "Evaluate nodes whose inputs are all constants, within a size cap.";
  }

  absl::StatusOr<bool> Run(Graph& graph) override {
    ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
    bool changed = false;
    for (int id : order) {
      const Node& node = graph.node(id);
      if (node.def == nullptr || node.def->Has(kSource) || node.inputs.empty()) continue;
      std::vector<Tensor> inputs;
      int64_t input_bytes = 0;
      for (const TensorRef& in : node.inputs) {
        const Tensor* value = ConstantValue(graph, in);
        if (value == nullptr) break;
        inputs.push_back(*value);
        input_bytes += value->ByteSize();
      }
      if (inputs.size() != node.inputs.size()) continue;
      Decision decision = MayFold(graph, node, input_bytes, options_);
      if (decision) {
        absl::StatusOr<std::vector<Tensor>> outputs = EvaluateNode(node, inputs);
        // A kernel error (integer division by zero, a bad Gather index) is left for run
        // time, where it reports the same message.
        if (!outputs.ok()) decision = Decision::No(std::string(outputs.status().message()));
        if (decision) {
          const std::string node_name = node.name;
          for (size_t k = 0; k < outputs->size(); ++k) {
            ASSIGN_OR_RETURN(TensorRef folded,
                             AddConstant(graph, node_name, std::move((*outputs)[k])));
            ReplaceAllUses(graph, TensorRef{id, static_cast<int>(k)}, folded);
            if (outputs->size() == 1) RETURN_IF_ERROR(TakeOverName(graph, id, folded.node));
          }
          changed = true;
        }
      }
      LogDecision(options_, name(), absl::StrCat("fold '", graph.node(id).name, "'"), decision);
    }
    if (changed) RemoveDeadNodes(graph);
    return changed;
  }

 private:
  PassOptions options_;
};

}  // namespace

std::unique_ptr<Pass> CreateFoldConstantsPass(const PassOptions& options) {
  return std::make_unique<FoldConstantsPass>(options);
}

}  // namespace kiln::passes
