// The in-memory graph IR: nodes with op type, typed attributes, producer references and
// the inferred type of every output. Graph is plain data; analyses and passes live elsewhere.
#ifndef KILN_GRAPH_GRAPH_H_
#define KILN_GRAPH_GRAPH_H_

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "graph/attr.h"
#include "base/dtype.h"
#include "base/shape.h"
#include "base/tensor_type.h"

namespace kiln {

struct OpDef;

// Version of Kiln's op set written into new graphs.
inline constexpr int64_t kOpsetVersion = 1;

struct Node {
  std::string name;
  std::string op;
  std::vector<TensorRef> inputs;
  AttrMap attrs;
  // One entry per output; filled by shape inference (InferNode / VerifyGraph).
  std::vector<TensorType> outputs;
  // The op's definition; set by shape inference, null before.
  const OpDef* def = nullptr;

  bool HasAttr(absl::string_view key) const { return attrs.find(key) != attrs.end(); }
  // Typed attribute access. The attribute must exist with that type: VerifyGraph checks
  // types and fills defaults, so kernels and shape functions of verified nodes may call it.
  template <typename T>
  const T& attr(absl::string_view key) const {
    return std::get<T>(attrs.find(key)->second);
  }
  int64_t int_attr(absl::string_view key) const { return attr<int64_t>(key); }
  double float_attr(absl::string_view key) const { return attr<double>(key); }
  bool bool_attr(absl::string_view key) const { return attr<bool>(key); }
  const std::string& string_attr(absl::string_view key) const { return attr<std::string>(key); }
  const std::vector<int64_t>& ints_attr(absl::string_view key) const {
    return attr<std::vector<int64_t>>(key);
  }
};

// A graph output: a name callers fetch, and the tensor that produces it.
struct GraphOutput {
  std::string name;
  TensorRef tensor;
};

class Graph {
 public:
  Graph() = default;

  // Appends a node and returns its index. Error when the name is empty, malformed or taken.
  absl::StatusOr<int> AddNode(Node node);

  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  const Node& node(int i) const { return nodes_[i]; }
  Node& node(int i) { return nodes_[i]; }
  const std::vector<Node>& nodes() const { return nodes_; }
  // Index of the node named `name`, if any.
  std::optional<int> FindNode(absl::string_view name) const;

  // The type of a tensor; the producer must already have been inferred.
  const TensorType& type(TensorRef ref) const { return nodes_[ref.node].outputs[ref.output]; }
  // "name" for output 0, "name:k" otherwise.
  std::string TensorName(TensorRef ref) const;
  // Parses "name" or "name:k" against this graph; error names the reference.
  absl::StatusOr<TensorRef> ParseTensorName(absl::string_view text) const;

  // Signature: Input node indices in call order, and named outputs.
  std::vector<int>& inputs() { return inputs_; }
  const std::vector<int>& inputs() const { return inputs_; }
  std::vector<GraphOutput>& outputs() { return outputs_; }
  const std::vector<GraphOutput>& outputs() const { return outputs_; }

  int64_t opset_version() const { return opset_version_; }
  void set_opset_version(int64_t v) { opset_version_ = v; }

  // Nodes ordered so producers precede consumers (ties by index, so the order is stable).
  // Error naming a node on a cycle, or a dangling input.
  absl::StatusOr<std::vector<int>> TopologicalOrder() const;

  // A name not yet used in the graph, built from `prefix` ("add" -> "add", "add_1", ...).
  std::string UniqueName(absl::string_view prefix) const;

  // Renames node `id`; error when `name` is malformed or taken by another node.
  absl::Status RenameNode(int id, const std::string& name);

  // Keeps exactly the nodes listed in `order` (old indices), in that order, renumbering
  // every input reference and the signature. Error, with the graph unchanged, when `order`
  // lists a node twice or out of range, or when a kept node or a signature entry refers
  // to a dropped node. The basis of node removal and reordering (graph/graph_rewrite.h).
  absl::Status KeepNodes(const std::vector<int>& order);

 private:
  std::vector<Node> nodes_;
  absl::flat_hash_map<std::string, int> index_;
  std::vector<int> inputs_;
  std::vector<GraphOutput> outputs_;
  int64_t opset_version_ = kOpsetVersion;
};

// Node names: non-empty, at most 256 characters of [A-Za-z0-9_./-].
absl::Status ValidateNodeName(absl::string_view name);

// Structural equality: same nodes in the same order (name, op, inputs, attributes by
// AttrValuesEqual), same signature and opset. Inferred types are not compared.
bool GraphsEqual(const Graph& a, const Graph& b);

}  // namespace kiln

#endif  // KILN_GRAPH_GRAPH_H_
