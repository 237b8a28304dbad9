// Mutation utilities for passes: use lists, rewiring, node insertion with inference,
// dead-node removal and topological compaction. Graph stays plain data; these functions
// keep its references and signature consistent.
#ifndef KILN_GRAPH_GRAPH_REWRITE_H_
#define KILN_GRAPH_GRAPH_REWRITE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/attr.h"
#include "graph/graph.h"
#include "base/tensor.h"

namespace kiln {

// Who reads each node: a snapshot, invalidated by any mutation of the graph.
struct UseInfo {
  // consumers[n]: every node reading some output of n, one entry per input edge (a node
  // reading n twice appears twice), in node order.
  std::vector<std::vector<int>> consumers;
  // is_output[n]: some output of n is a signature output.
  std::vector<bool> is_output;

  // Number of input edges plus signature outputs reading `ref`.
  int NumUses(const class Graph& graph, TensorRef ref) const;
  // Distinct consumer nodes of n.
  std::vector<int> DistinctConsumers(int n) const;
};
UseInfo ComputeUses(const Graph& graph);

// Makes every reader of `from` (node inputs and signature outputs) read `to` instead,
// except node `except` (-1: none), which is how a node inserted after `from` keeps reading
// it. Returns the number of references changed.
int ReplaceAllUses(Graph& graph, TensorRef from, TensorRef to, int except = -1);

// Appends a node named after `name_hint` (made unique) and infers its outputs. On an
// inference error the node is removed again and the graph is unchanged. Returns the index.
absl::StatusOr<int> AddNodeInferred(Graph& graph, absl::string_view name_hint,
                                    absl::string_view op, std::vector<TensorRef> inputs,
                                    AttrMap attrs = {});

// AddNodeInferred for a Constant holding `value`; returns its output.
absl::StatusOr<TensorRef> AddConstant(Graph& graph, absl::string_view name_hint, Tensor value);

// Gives node `fresh` the name of node `old` (which a rewrite replaced and left dead), and
// `old` a new unique name, so rewritten graphs keep readable names.
absl::Status TakeOverName(Graph& graph, int old, int fresh);

// Removes every node that no signature output depends on, keeping signature Input nodes,
// and keeps the remaining nodes in their order. Returns the number removed.
int RemoveDeadNodes(Graph& graph);

// Reorders the nodes so producers precede consumers (ties by index). Error on a cycle.
absl::Status SortNodesTopologically(Graph& graph);

// The value of a Constant node's output, or null when `ref` is not a Constant.
const Tensor* ConstantValue(const Graph& graph, TensorRef ref);

// True for a one-input Transpose or bitcast op (Reshape, Flatten, ...): data moved or
// regrouped, nothing computed, so a strided view can stand for its output.
bool IsLayoutOp(const Node& node);

// When `ref` is a Constant whose elements all equal one value (a splat, including a
// scalar), that value as a double; otherwise nullopt. Empty constants have no value.
std::optional<double> SplatValue(const Graph& graph, TensorRef ref);

// True when node `to` depends on (is reachable from) some node with `from[n]` true,
// following inputs backwards from `to`. `to` itself counts.
bool DependsOnAny(const Graph& graph, int to, const std::vector<bool>& from);

}  // namespace kiln

#endif  // KILN_GRAPH_GRAPH_REWRITE_H_
