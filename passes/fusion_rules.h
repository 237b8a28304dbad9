// The fusion cost model as small rules: each answers "may `producer` join a cluster whose
// loop shape is `loop_shape`?" with a Decision and reason (XLA's FusionDecision). Rules are
// gathered by Populate...Rules so every fusion pass applies the same model:
//
// - fusible-op: only elementwise (incl. broadcasting) and channel-axis ops join loops;
//   contractions, reductions and data movement are cluster anchors or stay alone.
// - no-layout-change: a Transpose (or any non-bitcast data movement) never joins: inside
//   a loop it makes one side read with a non-unit innermost stride, which defeats
//   vectorization. Layout assignment removes most of them instead.
// - no-recomputation: a producer joins only when every reader is in the cluster (or it is
//   a graph output, which becomes a fusion output): otherwise it would be computed twice.
// - same-loop-shape: a producer joins only when its output has the cluster's loop shape;
//   a smaller producer read through broadcasting would be recomputed per broadcast
//   element (the recomputation blow-up XLA guards against).
// - operand-limit: a cluster takes at most PassOptions::max_fusion_inputs inputs.
#ifndef KILN_PASSES_FUSION_RULES_H_
#define KILN_PASSES_FUSION_RULES_H_

#include <functional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/graph_rewrite.h"
#include "passes/decision.h"
#include "passes/pass.h"

namespace kiln::passes {

// What a rule sees: the candidate, the cluster so far and the loop shape it iterates.
struct FusionCandidate {
  const Graph& graph;
  const UseInfo& uses;
  int producer;                          // the node that would join
  const std::vector<bool>& in_cluster;   // current members
  const Shape& loop_shape;
  int cluster_inputs_after;              // distinct outside inputs if it joins
  const PassOptions& options;
};

struct FusionRule {
  std::string name;
  std::function<Decision(const FusionCandidate&)> check;
};

// fusible-op, no-layout-change, no-recomputation, same-loop-shape, operand-limit.
void PopulateProducerFusionRules(std::vector<FusionRule>& rules);

// The first rule that refuses, or Yes.
Decision CheckFusionRules(const std::vector<FusionRule>& rules, const FusionCandidate& c);

// True for ops that may be members of a loop (elementwise or channel-axis, one output,
// not a Transpose or other data movement beyond a bitcast).
bool IsLoopFusible(const Node& node);

// Distinct outside tensors the node set reads (after adding `extra`, -1 for none).
int CountClusterInputs(const Graph& graph, const std::vector<bool>& in_cluster, int extra);

// Grows the cluster `members` (with mask `in_cluster`) by producers that pass `rules`,
// breadth-first from the members' inputs; when `root_input0_only`, the first member (the
// root) contributes only its input 0 (a reduction's data, not its parameters). Refusals
// are logged under `pass`.
void GrowProducers(const Graph& graph, const UseInfo& uses, const std::vector<FusionRule>& rules,
                   const Shape& loop_shape, bool root_input0_only, const PassOptions& options,
                   absl::string_view pass, std::vector<int>& members,
                   std::vector<bool>& in_cluster);

}  // namespace kiln::passes

#endif  // KILN_PASSES_FUSION_RULES_H_
