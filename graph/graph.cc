#include "graph/graph.h"

#include <queue>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kiln {

absl::Status ValidateNodeName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("node name is empty");
  if (name.size() > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("node name '", name.substr(0, 32), "...' is longer than 256 characters"));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '.' && c != '/' && c != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("node name '", name, "' has a character outside [A-Za-z0-9_./-]"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Graph::AddNode(Node node) {
  absl::Status valid = ValidateNodeName(node.name);
  if (!valid.ok()) return valid;
  if (index_.contains(node.name)) {
    return absl::InvalidArgumentError(absl::StrCat("duplicate node name '", node.name, "'"));
  }
  int id = num_nodes();
  index_[node.name] = id;
  nodes_.push_back(std::move(node));
  return id;
}

std::optional<int> Graph::FindNode(absl::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::string Graph::TensorName(TensorRef ref) const {
  const std::string& name = nodes_[ref.node].name;
  return ref.output == 0 ? name : absl::StrCat(name, ":", ref.output);
}

absl::StatusOr<TensorRef> Graph::ParseTensorName(absl::string_view text) const {
  absl::string_view name = text;
  int output = 0;
  size_t colon = text.rfind(':');
  if (colon != absl::string_view::npos) {
    name = text.substr(0, colon);
    if (!absl::SimpleAtoi(text.substr(colon + 1), &output) || output < 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad tensor reference '", text, "'"));
    }
  }
  std::optional<int> id = FindNode(name);
  if (!id) {
    return absl::NotFoundError(absl::StrCat("tensor reference '", text, "' names no node"));
  }
  return TensorRef{*id, output};
}

absl::StatusOr<std::vector<int>> Graph::TopologicalOrder() const {
  // Kahn's algorithm with a min-heap on the index, so ties keep declaration order.
  std::vector<int> pending(num_nodes(), 0);
  std::vector<std::vector<int>> consumers(num_nodes());
  for (int i = 0; i < num_nodes(); ++i) {
    for (const TensorRef& in : nodes_[i].inputs) {
      if (in.node < 0 || in.node >= num_nodes()) {
        return absl::InvalidArgumentError(
            absl::StrCat("node '", nodes_[i].name, "': input refers to a missing node"));
      }
      ++pending[i];
      consumers[in.node].push_back(i);
    }
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < num_nodes(); ++i) {
    if (pending[i] == 0) ready.push(i);
  }
  std::vector<int> order;
  order.reserve(num_nodes());
  while (!ready.empty()) {
    int n = ready.top();
    ready.pop();
    order.push_back(n);
    for (int c : consumers[n]) {
      if (--pending[c] == 0) ready.push(c);
    }
  }
  if (static_cast<int>(order.size()) != num_nodes()) {
    // Every unfinished node has an unfinished producer; walking producers from one must
    // revisit a node, and the first node revisited lies on a cycle.
    int n = 0;
    while (pending[n] == 0) ++n;
    std::vector<bool> seen(num_nodes(), false);
    while (!seen[n]) {
      seen[n] = true;
      for (const TensorRef& in : nodes_[n].inputs) {
        if (pending[in.node] > 0) {
          n = in.node;
          break;
        }
      }
    }
    return absl::InvalidArgumentError(absl::StrCat("node '", nodes_[n].name, "' is on a cycle"));
  }
  return order;
}

std::string Graph::UniqueName(absl::string_view prefix) const {
  std::string base = prefix.empty() ? std::string("node") : std::string(prefix);
  if (!index_.contains(base)) return base;
  for (int k = 1;; ++k) {
    std::string candidate = absl::StrCat(base, "_", k);
    if (!index_.contains(candidate)) return candidate;
  }
}

absl::Status Graph::RenameNode(int id, const std::string& name) {
  absl::Status valid = ValidateNodeName(name);
  if (!valid.ok()) return valid;
  if (nodes_[id].name == name) return absl::OkStatus();
  if (index_.contains(name)) {
    return absl::InvalidArgumentError(absl::StrCat("duplicate node name '", name, "'"));
  }
  index_.erase(nodes_[id].name);
  nodes_[id].name = name;
  index_[name] = id;
  return absl::OkStatus();
}

absl::Status Graph::KeepNodes(const std::vector<int>& order) {
  std::vector<int> remap(num_nodes(), -1);
  for (int i = 0; i < static_cast<int>(order.size()); ++i) {
    int old = order[i];
    if (old < 0 || old >= num_nodes() || remap[old] >= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("KeepNodes: entry ", i, " (", old, ") is out of range or repeated"));
    }
    remap[old] = i;
  }
  for (int old : order) {
    for (const TensorRef& in : nodes_[old].inputs) {
      if (in.node < 0 || in.node >= num_nodes() || remap[in.node] < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "KeepNodes: node '", nodes_[old].name, "' reads a node that is dropped"));
      }
    }
  }
  for (int id : inputs_) {
    if (id < 0 || id >= num_nodes() || remap[id] < 0) {
      return absl::InvalidArgumentError("KeepNodes: a signature input is dropped");
    }
  }
  for (const GraphOutput& out : outputs_) {
    if (out.tensor.node < 0 || out.tensor.node >= num_nodes() || remap[out.tensor.node] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("KeepNodes: signature output '", out.name, "' reads a dropped node"));
    }
  }
  std::vector<Node> kept;
  kept.reserve(order.size());
  for (int old : order) {
    Node node = std::move(nodes_[old]);
    for (TensorRef& in : node.inputs) in.node = remap[in.node];
    kept.push_back(std::move(node));
  }
  nodes_ = std::move(kept);
  index_.clear();
  for (int i = 0; i < num_nodes(); ++i) index_[nodes_[i].name] = i;
  for (int& id : inputs_) id = remap[id];
  for (GraphOutput& out : outputs_) out.tensor.node = remap[out.tensor.node];
  return absl::OkStatus();
}

bool GraphsEqual(const Graph& a, const Graph& b) {
  if (a.num_nodes() != b.num_nodes() || a.inputs() != b.inputs() ||
      a.outputs().size() != b.outputs().size() || a.opset_version() != b.opset_version()) {
    return false;
  }
  for (size_t i = 0; i < a.outputs().size(); ++i) {
    if (a.outputs()[i].name != b.outputs()[i].name ||
        a.outputs()[i].tensor != b.outputs()[i].tensor) {
      return false;
    }
  }
  for (int i = 0; i < a.num_nodes(); ++i) {
    const Node& x = a.node(i);
    const Node& y = b.node(i);
    if (x.name != y.name || x.op != y.op || x.inputs != y.inputs ||
        x.attrs.size() != y.attrs.size()) {
      return false;
    }
    for (auto xi = x.attrs.begin(), yi = y.attrs.begin(); xi != x.attrs.end(); ++xi, ++yi) {
      if (xi->first != yi->first || !AttrValuesEqual(xi->second, yi->second)) return false;
    }
  }
  return true;
}

}  // namespace kiln
