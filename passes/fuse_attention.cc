// fuse-attention: recognizes scaled dot-product attention written out as
//   MatMul(q, k^T) -> Mul/Div by a scalar -> [Add mask] -> Softmax(last axis) -> MatMul(., v)
// and makes it one Fusion of kind "attention", so lowering can call a flash-attention
// kernel that never writes the [S, S] scores to memory. A Fusion (rather than an Attention
// op) keeps the semantics in the body's ordinary ops: transposes, scale position, mask
// broadcasting and the reference kernel all come for free, and a backend that has no
// attention kernel still lowers the body. Single-use Transpose/Reshape chains that split
// q, k, v into heads and merge the result back are absorbed: an attention kernel reads
// its operands with head strides anyway.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/graph_rewrite.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "passes/cluster.h"
#include "passes/decision.h"
#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace kiln::passes {
namespace {

bool SingleReader(const UseInfo& uses, int n, int reader) {
  std::vector<int> readers = uses.DistinctConsumers(n);
  return !uses.is_output[n] && readers.size() == 1 && readers[0] == reader;
}

class FuseAttentionPass : public Pass {
 public:
  explicit FuseAttentionPass(const PassOptions& options) : options_(options) {}
  absl::string_view name() const override { return "fuse-attention"; }
  absl::string_view description() const override {
    return "Fuse MatMul, scale, optional mask add, Softmax and MatMul (scaled dot-product "
           "attention) into one attention Fusion.";
  }

  absl::StatusOr<bool> Run(Graph& graph) override {
    bool changed = false;
    while (true) {
      ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
      UseInfo uses = ComputeUses(graph);
      bool outlined = false;
      for (int id : order) {
        if (graph.node(id).op != "Softmax" || rejected_.count(graph.node(id).name)) continue;
        std::vector<int> members = Match(graph, uses, id);
        if (members.empty()) {
          rejected_.insert(graph.node(id).name);
          continue;
        }
        absl::StatusOr<int> fusion = OutlineCluster(graph, members, FusionKind::kAttention, "attention",
                                                    options_.max_inline_constant_elements);
        if (!fusion.ok()) {
          if (fusion.status().code() != absl::StatusCode::kFailedPrecondition) {
            return fusion.status();
          }
          LogDecision(options_, name(), graph.node(id).name,
                      Decision::No(std::string(fusion.status().message())));
          rejected_.insert(graph.node(id).name);
          continue;
        }
        outlined = changed = true;
        break;
      }
      if (!outlined) break;
    }
    rejected_.clear();
    if (changed) RemoveDeadNodes(graph);
    return changed;
  }

 private:
  // The members of the attention cluster around Softmax `s`, or empty with a logged reason.
  std::vector<int> Match(const Graph& g, const UseInfo& uses, int s) {
    const Node& softmax = g.node(s);
    auto refuse = [&](const std::string& why) {
      LogDecision(options_, name(), softmax.name, Decision::No(why));
      return std::vector<int>();
    };
    const int rank = softmax.outputs[0].shape.rank();
    absl::StatusOr<int> axis = NormalizeAxis(softmax.int_attr("axis"), rank);
    if (!axis.ok() || *axis != rank - 1) return refuse("softmax is not over the last axis");
    std::vector<int> members = {s};
    TensorRef t = softmax.inputs[0];
    // Optional mask: Add(scores, mask) in either order.
    if (const Node* add = ProducerIs(g, t, "Add")) {
      for (int side = 0; side < 2; ++side) {
        const Node& p = g.node(add->inputs[side].node);
        if (p.op == "Mul" || p.op == "Div" || p.op == "MatMul") {
          members.push_back(t.node);
          t = add->inputs[side];
          break;
        }
      }
    }
    // Optional scale by a scalar constant.
    if (const Node* mul = ProducerIs(g, t, "Mul")) {
      for (int side = 0; side < 2; ++side) {
        if (SplatValue(g, mul->inputs[1 - side]) && ProducerIs(g, mul->inputs[side], "MatMul")) {
          members.push_back(t.node);
          t = mul->inputs[side];
          break;
        }
      }
    } else if (const Node* div = ProducerIs(g, t, "Div")) {
      if (SplatValue(g, div->inputs[1])) {
        members.push_back(t.node);
        t = div->inputs[0];
      }
    }
    const Node* mm1 = ProducerIs(g, t, "MatMul");
    if (mm1 == nullptr) return refuse("no MatMul producing the scores");
    members.push_back(t.node);
    std::vector<int> readers = uses.DistinctConsumers(s);
    if (readers.size() != 1 || uses.is_output[s]) return refuse("softmax has several readers");
    const Node& mm2 = g.node(readers[0]);
    if (mm2.op != "MatMul" || mm2.inputs[0].node != s || mm2.bool_attr("transpose_a")) {
      return refuse("softmax is not the left operand of a MatMul");
    }
    members.push_back(readers[0]);
    if (!OnlyUsedInside(g, uses, members, readers[0])) {
      return refuse("an intermediate (scores or probabilities) has other readers");
    }
    // Head split/merge layout chains.
    for (TensorRef operand : {mm1->inputs[0], mm1->inputs[1], mm2.inputs[1]}) {
      int reader = operand == mm2.inputs[1] ? readers[0] : t.node;
      for (int depth = 0; depth < 3 && IsLayoutOp(g.node(operand.node)) &&
                          SingleReader(uses, operand.node, reader);
           ++depth) {
        members.push_back(operand.node);
        reader = operand.node;
        operand = g.node(operand.node).inputs[0];
      }
    }
    int last = readers[0];
    for (int depth = 0; depth < 3; ++depth) {
      std::vector<int> next = uses.DistinctConsumers(last);
      if (uses.is_output[last] || next.size() != 1 || !IsLayoutOp(g.node(next[0]))) break;
      members.push_back(next[0]);
      last = next[0];
    }
    LogDecision(options_, name(), softmax.name, Decision::Yes());
    return members;
  }

  PassOptions options_;
  std::set<std::string> rejected_;
};

}  // namespace

std::unique_ptr<Pass> CreateFuseAttentionPass(const PassOptions& options) {
  return std::make_unique<FuseAttentionPass>(options);
}

}  // namespace kiln::passes
