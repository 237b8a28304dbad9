#include "runtime/schedule.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "runtime/alignment.h"

namespace kiln {
namespace {

// Dense numbering of every node output: id = first[node] + output.
struct TensorIds {
  explicit TensorIds(const Graph& graph) : first(graph.num_nodes() + 1, 0) {
    for (int n = 0; n < graph.num_nodes(); ++n) {
      first[n + 1] = first[n] + static_cast<int>(graph.node(n).outputs.size());
    }
  }
  int operator()(TensorRef ref) const { return first[ref.node] + ref.output; }
  int size() const { return first.back(); }
  std::vector<int> first;
};

// True when `i` is the first position of inputs[i] among `node`'s inputs (so a tensor
// read twice by one node is counted once).
bool FirstUse(const Node& node, size_t i) {
  for (size_t j = 0; j < i; ++j) {
    if (node.inputs[j] == node.inputs[i]) return false;
  }
  return true;
}

absl::Status CheckFetches(const Graph& graph, absl::Span<const TensorRef> fetches) {
  for (const TensorRef& f : fetches) {
    if (f.node < 0 || f.node >= graph.num_nodes() || f.output < 0 ||
        f.output >= static_cast<int>(graph.node(f.node).outputs.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("fetch ", f.node, ":", f.output, " is not a tensor of the graph"));
    }
  }
  return absl::OkStatus();
}

std::vector<bool> NeededNodes(const Graph& graph, absl::Span<const TensorRef> fetches) {
  std::vector<bool> needed(graph.num_nodes(), false);
  std::vector<int> stack;
  for (const TensorRef& f : fetches) stack.push_back(f.node);
  while (!stack.empty()) {
    int n = stack.back();
    stack.pop_back();
    if (needed[n]) continue;
    needed[n] = true;
    for (const TensorRef& in : graph.node(n).inputs) stack.push_back(in.node);
  }
  return needed;
}

// Per-tensor facts both the scheduler and PeakLiveBytes need.
struct TensorFacts {
  TensorFacts(const Graph& graph, const std::vector<bool>& kernel,
              absl::Span<const TensorRef> fetches)
      : ids(graph), bytes(ids.size(), 0), users(ids.size(), 0), fetched(ids.size(), false) {
    for (int n = 0; n < graph.num_nodes(); ++n) {
      const Node& node = graph.node(n);
      for (int k = 0; k < static_cast<int>(node.outputs.size()); ++k) {
        bytes[ids({n, k})] = AlignUp(TensorBytes(node.outputs[k]));
      }
      if (!kernel[n]) continue;
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        if (FirstUse(node, i)) ++users[ids(node.inputs[i])];
      }
    }
    for (const TensorRef& f : fetches) fetched[ids(f)] = true;
  }
  TensorIds ids;
  std::vector<int64_t> bytes;
  std::vector<int> users;  // distinct kernel nodes reading the tensor
  std::vector<bool> fetched;
};

std::vector<bool> KernelNodes(const Graph& graph, const std::vector<bool>& needed) {
  std::vector<bool> kernel(graph.num_nodes(), false);
  for (int n = 0; n < graph.num_nodes(); ++n) kernel[n] = needed[n] && IsKernelNode(graph.node(n));
  return kernel;
}

}  // namespace

bool IsKernelNode(const Node& node) {
  const OpDef* def = node.def != nullptr ? node.def : OpRegistry::Global().Find(node.op);
  return def == nullptr || !def->Has(kSource);
}

absl::StatusOr<std::vector<int>> ScheduleNodes(const Graph& graph,
                                               absl::Span<const TensorRef> fetches,
                                               ScheduleOrder order) {
  RETURN_IF_ERROR(CheckFetches(graph, fetches));
  std::vector<bool> kernel = KernelNodes(graph, NeededNodes(graph, fetches));
  if (order == ScheduleOrder::kNodeIndex) {
    absl::StatusOr<std::vector<int>> topo = graph.TopologicalOrder();
    if (!topo.ok()) return topo.status();
    std::vector<int> schedule;
    for (int n : *topo) {
      if (kernel[n]) schedule.push_back(n);
    }
    return schedule;
  }

  TensorFacts facts(graph, kernel, fetches);
  // pending[n]: input edges of n whose producer is a kernel node not yet scheduled.
  std::vector<int> pending(graph.num_nodes(), 0);
  std::vector<std::vector<int>> consumers(graph.num_nodes());
  std::vector<int> ready;
  int total = 0;
  for (int n = 0; n < graph.num_nodes(); ++n) {
    if (!kernel[n]) continue;
    ++total;
    for (const TensorRef& in : graph.node(n).inputs) {
      if (kernel[in.node]) {
        ++pending[n];
        consumers[in.node].push_back(n);
      }
    }
    if (pending[n] == 0) ready.push_back(n);
  }

  // Net change of the live bytes if `n` runs now (positive: it frees memory).
  auto net_freed = [&](int n) {
    const Node& node = graph.node(n);
    int64_t net = 0;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      int t = facts.ids(node.inputs[i]);
      if (kernel[node.inputs[i].node] && FirstUse(node, i) && facts.users[t] == 1 &&
          !facts.fetched[t]) {
        net += facts.bytes[t];
      }
    }
    for (int k = 0; k < static_cast<int>(node.outputs.size()); ++k) {
      int t = facts.ids({n, k});
      if (facts.users[t] > 0 || facts.fetched[t]) net -= facts.bytes[t];
    }
    return net;
  };

  std::vector<int> schedule;
  schedule.reserve(total);
  while (!ready.empty()) {
    size_t best = 0;
    int64_t best_net = net_freed(ready[0]);
    for (size_t r = 1; r < ready.size(); ++r) {
      int64_t net = net_freed(ready[r]);
      if (net > best_net || (net == best_net && ready[r] < ready[best])) {
        best = r;
        best_net = net;
      }
    }
    int n = ready[best];
    ready.erase(ready.begin() + best);
    schedule.push_back(n);
    const Node& node = graph.node(n);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (FirstUse(node, i)) --facts.users[facts.ids(node.inputs[i])];
    }
    for (int c : consumers[n]) {
      if (--pending[c] == 0) ready.push_back(c);
    }
  }
  if (static_cast<int>(schedule.size()) != total) {
    return absl::InvalidArgumentError("the graph has a cycle among the fetched nodes");
  }
  return schedule;
}

int64_t PeakLiveBytes(const Graph& graph, absl::Span<const int> schedule,
                      absl::Span<const TensorRef> fetches) {
  std::vector<bool> kernel(graph.num_nodes(), false);
  for (int n : schedule) kernel[n] = true;
  TensorFacts facts(graph, kernel, fetches);
  int64_t live = 0;
  int64_t peak = 0;
  for (int n : schedule) {
    const Node& node = graph.node(n);
    for (int k = 0; k < static_cast<int>(node.outputs.size()); ++k) {
      live += facts.bytes[facts.ids({n, k})];
    }
    peak = std::max(peak, live);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      int t = facts.ids(node.inputs[i]);
      if (kernel[node.inputs[i].node] && FirstUse(node, i) && --facts.users[t] == 0 &&
          !facts.fetched[t]) {
        live -= facts.bytes[t];
      }
    }
    for (int k = 0; k < static_cast<int>(node.outputs.size()); ++k) {
      int t = facts.ids({n, k});
      if (facts.users[t] == 0 && !facts.fetched[t]) live -= facts.bytes[t];
    }
  }
  return peak;
}

}  // namespace kiln
