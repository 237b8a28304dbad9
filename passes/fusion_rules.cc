// The fusion cost model's rules (see fusion_rules.h).
#include "passes/fusion_rules.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "graph/op_registry.h"

namespace kiln::passes {

bool IsLoopFusible(const Node& node) {
  if (node.def == nullptr || node.outputs.size() != 1) return false;
  if (node.def->Has(kSource)) return false;
  if (node.def->Has(kDataMovement) && !node.def->Has(kBitcast)) return false;
  return node.def->Has(kElementwise) || node.def->Has(kChannelAxis);
}

int CountClusterInputs(const Graph& graph, const std::vector<bool>& in_cluster, int extra) {
  std::set<std::pair<int, int>> inputs;
  auto member = [&](int n) { return n == extra || in_cluster[n]; };
  for (int n = 0; n < graph.num_nodes(); ++n) {
    if (!member(n)) continue;
    for (const TensorRef& in : graph.node(n).inputs) {
      if (!member(in.node)) inputs.insert({in.node, in.output});
    }
  }
  return static_cast<int>(inputs.size());
}

void PopulateProducerFusionRules(std::vector<FusionRule>& rules) {
  rules.push_back({"fusible-op", [](const FusionCandidate& c) {
    const Node& p = c.graph.node(c.producer);
    if (p.def != nullptr && p.def->Has(kDataMovement) && !p.def->Has(kBitcast)) {
      return Decision::No(absl::StrCat(p.op, " moves data (a layout change would break "
                                             "the fused loop's vectorization)"));
    }
    if (!IsLoopFusible(p)) return Decision::No(absl::StrCat(p.op, " is not a loop op"));
    return Decision::Yes();
  }});
  rules.push_back({"no-recomputation", [](const FusionCandidate& c) {
    for (int consumer : c.uses.consumers[c.producer]) {
      if (!c.in_cluster[consumer]) {
        return Decision::No(absl::StrCat("'", c.graph.node(consumer).name,
                                         "' outside the cluster reads it too (it would be "
                                         "computed twice)"));
      }
    }
    return Decision::Yes();
  }});
  rules.push_back({"same-loop-shape", [](const FusionCandidate& c) {
    const Shape& shape = c.graph.node(c.producer).outputs[0].shape;
    if (shape != c.loop_shape) {
      return Decision::No(absl::StrCat("its shape ", shape.ToString(), " differs from the loop's ",
                                       c.loop_shape.ToString(),
                                       " (it would be recomputed per broadcast element)"));
    }
    return Decision::Yes();
  }});
  rules.push_back({"operand-limit", [](const FusionCandidate& c) {
    if (c.cluster_inputs_after > c.options.max_fusion_inputs) {
      return Decision::No(absl::StrCat("the cluster would take ", c.cluster_inputs_after,
                                       " inputs, more than ", c.options.max_fusion_inputs));
    }
    return Decision::Yes();
  }});
}

Decision CheckFusionRules(const std::vector<FusionRule>& rules, const FusionCandidate& c) {
  for (const FusionRule& rule : rules) {
    Decision d = rule.check(c);
    if (!d) return Decision::No(absl::StrCat(rule.name, ": ", d.reason()));
  }
  return Decision::Yes();
}

void GrowProducers(const Graph& graph, const UseInfo& uses, const std::vector<FusionRule>& rules,
                   const Shape& loop_shape, bool root_input0_only, const PassOptions& options,
                   absl::string_view pass, std::vector<int>& members,
                   std::vector<bool>& in_cluster) {
  std::vector<bool> refused(graph.num_nodes(), false);
  for (size_t next = 0; next < members.size(); ++next) {
    const Node& member = graph.node(members[next]);
    size_t inputs = (next == 0 && root_input0_only) ? 1 : member.inputs.size();
    for (size_t i = 0; i < inputs && i < member.inputs.size(); ++i) {
      int p = member.inputs[i].node;
      if (in_cluster[p] || refused[p] || graph.node(p).op == "Input" ||
          graph.node(p).op == "Constant") {
        continue;
      }
      FusionCandidate candidate{graph, uses, p, in_cluster, loop_shape,
                                CountClusterInputs(graph, in_cluster, p), options};
      Decision d = CheckFusionRules(rules, candidate);
      LogDecision(options, pass,
                  absl::StrCat("fuse '", graph.node(p).name, "' into '", member.name, "'"), d);
      if (!d) {
        refused[p] = true;
        continue;
      }
      in_cluster[p] = true;
      members.push_back(p);
    }
  }
}

}  // namespace kiln::passes
