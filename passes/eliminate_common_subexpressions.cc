// eliminate-common-subexpressions: merges nodes with the same op, attributes and inputs
// (inputs of commutative ops in any order), and constants with the same value.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "graph/graph_rewrite.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "passes/passes.h"

namespace kiln::passes {
namespace {

std::vector<TensorRef> CanonicalInputs(const Node& node) {
  std::vector<TensorRef> inputs = node.inputs;
  if (node.def != nullptr && node.def->Has(kCommutative)) {
    std::sort(inputs.begin(), inputs.end(), [](const TensorRef& a, const TensorRef& b) {
      return a.node != b.node ? a.node < b.node : a.output < b.output;
    });
  }
  return inputs;
}

// A hash of what makes two nodes interchangeable; equality is checked exactly after.
size_t NodeKey(const Node& node) {
  size_t h = absl::HashOf(node.op);
  for (const TensorRef& in : CanonicalInputs(node)) h = absl::HashOf(h, in.node, in.output);
  for (const auto& [key, value] : node.attrs) {
    h = absl::HashOf(h, key, AttrValueToString(value));
    if (const Tensor* t = std::get_if<Tensor>(&value)) {
      // A few leading bytes tell most different weights apart before the full compare.
      absl::Span<const uint8_t> bytes = t->bytes();
      h = absl::HashOf(h, std::string(reinterpret_cast<const char*>(bytes.data()),
                                      std::min<size_t>(bytes.size(), 64)));
    }
  }
  return h;
}

bool SameNode(const Node& a, const Node& b) {
  if (a.op != b.op || a.attrs.size() != b.attrs.size() ||
      CanonicalInputs(a) != CanonicalInputs(b)) {
    return false;
  }
  for (auto x = a.attrs.begin(), y = b.attrs.begin(); x != a.attrs.end(); ++x, ++y) {
    if (x->first != y->first || !AttrValuesEqual(x->second, y->second)) return false;
  }
  return true;
}

class EliminateCommonSubexpressionsPass : public Pass {
 public:
  absl::string_view name() const override { return "eliminate-common-subexpressions"; }
  absl::string_view description() const override {
    return "Merge nodes computing the same op on the same inputs with the same attributes, "
           "and equal constants.";
  }

  absl::StatusOr<bool> Run(Graph& graph) override {
    ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
    absl::flat_hash_map<size_t, std::vector<int>> seen;
    bool changed = false;
    for (int id : order) {
      const Node& node = graph.node(id);
      if (node.op == "Input") continue;  // distinct inputs are distinct values
      std::vector<int>& bucket = seen[NodeKey(node)];
      int same = -1;
      for (int other : bucket) {
        if (SameNode(graph.node(other), node)) {
          same = other;
          break;
        }
      }
      if (same < 0) {
        bucket.push_back(id);
        continue;
      }
      for (int k = 0; k < static_cast<int>(node.outputs.size()); ++k) {
        ReplaceAllUses(graph, TensorRef{id, k}, TensorRef{same, k});
      }
      changed = true;
    }
    if (changed) RemoveDeadNodes(graph);
    return changed;
  }
};

}  // namespace

std::unique_ptr<Pass> CreateEliminateCommonSubexpressionsPass(const PassOptions&) {
  return std::make_unique<EliminateCommonSubexpressionsPass>();
}

}  // namespace kiln::passes
