#include "runtime/memory_planner.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "graph/shape_inference.h"
#include "base/tensor.h"
#include "runtime/alignment.h"
#include "runtime/schedule.h"

namespace kiln {
namespace {

// Plans beyond this many bytes are refused: keeps every sum far from int64 overflow.
constexpr int64_t kMaxPlanBytes = int64_t{1} << 62;

absl::string_view GreedyOrderName(GreedyOrder order) {
  switch (order) {
    case GreedyOrder::kWholeLifetimeThenSize:
      return "greedy-by-size";
    case GreedyOrder::kArea:
      return "greedy-by-area";
    case GreedyOrder::kLongestLifetime:
      return "greedy-by-lifetime";
  }
  return "greedy";
}

// The order in which `order` considers `buffers`.
std::vector<int> SortBuffers(absl::Span<const BufferRequest> buffers, int num_steps,
                             GreedyOrder order) {
  std::vector<int> idx(buffers.size());
  std::iota(idx.begin(), idx.end(), 0);
  auto whole = [&](const BufferRequest& b) { return b.first <= 0 && b.last >= num_steps - 1; };
  auto length = [](const BufferRequest& b) { return int64_t{b.last} - b.first + 1; };
  std::stable_sort(idx.begin(), idx.end(), [&](int i, int j) {
    const BufferRequest& a = buffers[i];
    const BufferRequest& b = buffers[j];
    switch (order) {
      case GreedyOrder::kWholeLifetimeThenSize:
        if (whole(a) != whole(b)) return whole(a);
        break;
      case GreedyOrder::kArea: {
        // size < 2^62 and length < 2^31 would overflow; compare as long double.
        long double area_a = static_cast<long double>(AlignUp(a.size)) * length(a);
        long double area_b = static_cast<long double>(AlignUp(b.size)) * length(b);
        if (area_a != area_b) return area_a > area_b;
        break;
      }
      case GreedyOrder::kLongestLifetime:
        if (length(a) != length(b)) return length(a) > length(b);
        break;
    }
    if (AlignUp(a.size) != AlignUp(b.size)) return AlignUp(a.size) > AlignUp(b.size);
    return a.first < b.first;
  });
  return idx;
}

Placement PlaceGreedy(absl::Span<const BufferRequest> buffers, int num_steps,
                      GreedyOrder order) {
  Placement placement;
  placement.strategy = std::string(GreedyOrderName(order));
  placement.offsets.assign(buffers.size(), 0);
  // Buffers already placed, by increasing offset (ties in placement order).
  std::vector<int> placed;
  for (int i : SortBuffers(buffers, num_steps, order)) {
    const BufferRequest& buffer = buffers[i];
    int64_t size = AlignUp(buffer.size);
    if (size == 0) continue;  // takes no space; offset 0
    int64_t current = 0;  // the lowest offset above every overlapping buffer seen so far
    int64_t best = -1;
    int64_t best_gap = std::numeric_limits<int64_t>::max();
    for (int j : placed) {
      const BufferRequest& other = buffers[j];
      if (other.last < buffer.first || other.first > buffer.last) continue;
      int64_t offset = placement.offsets[j];
      if (offset >= current + size && offset - current < best_gap) {
        best = current;
        best_gap = offset - current;
      }
      current = std::max(current, offset + AlignUp(other.size));
    }
    if (best < 0) best = current;
    placement.offsets[i] = best;
    auto pos = std::upper_bound(placed.begin(), placed.end(), best,
                                [&](int64_t off, int j) { return off < placement.offsets[j]; });
    placed.insert(pos, i);
    placement.arena_bytes = std::max(placement.arena_bytes, best + size);
  }
  return placement;
}

class GreedyBestFitPlanner : public MemoryPlanner {
 public:
  explicit GreedyBestFitPlanner(GreedyOrder order) : order_(order) {}
  absl::string_view name() const override { return GreedyOrderName(order_); }
  Placement Place(absl::Span<const BufferRequest> buffers, int num_steps) const override {
    return PlaceGreedy(buffers, num_steps, order_);
  }

 private:
  GreedyOrder order_;
};

class BestOfGreedyPlanner : public MemoryPlanner {
 public:
  absl::string_view name() const override { return "best-of-greedy"; }
  Placement Place(absl::Span<const BufferRequest> buffers, int num_steps) const override {
    Placement best;
    bool first = true;
    for (GreedyOrder order : {GreedyOrder::kWholeLifetimeThenSize, GreedyOrder::kArea,
                              GreedyOrder::kLongestLifetime}) {
      Placement candidate = PlaceGreedy(buffers, num_steps, order);
      if (first || candidate.arena_bytes < best.arena_bytes) best = std::move(candidate);
      first = false;
    }
    return best;
  }
};

// Dense numbering of every node output: id = first[node] + output.
class TensorIds {
 public:
  explicit TensorIds(const Graph& graph) : first_(graph.num_nodes() + 1, 0) {
    for (int n = 0; n < graph.num_nodes(); ++n) {
      first_[n + 1] = first_[n] + static_cast<int>(graph.node(n).outputs.size());
    }
  }
  int operator()(TensorRef ref) const { return first_[ref.node] + ref.output; }
  int size() const { return first_.back(); }

 private:
  std::vector<int> first_;
};

}  // namespace

std::unique_ptr<MemoryPlanner> CreateGreedyBestFitPlanner(GreedyOrder order) {
  return std::make_unique<GreedyBestFitPlanner>(order);
}

std::unique_ptr<MemoryPlanner> CreateBestOfGreedyPlanner() {
  return std::make_unique<BestOfGreedyPlanner>();
}

WeightsLayout LayoutWeights(const Graph& graph) {
  WeightsLayout layout;
  layout.offset.assign(graph.num_nodes(), -1);
  for (int n = 0; n < graph.num_nodes(); ++n) {
    const Node& node = graph.node(n);
    if (node.op != "Constant" || node.outputs.size() != 1) continue;
    layout.offset[n] = layout.bytes;
    layout.bytes += AlignUp(TensorBytes(node.outputs[0]));
  }
  return layout;
}

void CopyWeights(const Graph& graph, const WeightsLayout& layout, uint8_t* region) {
  for (int n = 0; n < graph.num_nodes(); ++n) {
    if (layout.offset[n] < 0) continue;
    const Tensor& value = graph.node(n).attr<Tensor>("value");
    if (value.ByteSize() > 0) {
      std::memcpy(region + layout.offset[n], value.raw_data(), value.ByteSize());
    }
  }
}

absl::StatusOr<MemoryPlan> PlanMemory(const Graph& graph, absl::Span<const int> schedule,
                                      absl::Span<const StepMemoryInfo> steps,
                                      absl::Span<const TensorRef> fetches,
                                      const MemoryPlanOptions& options) {
  if (steps.size() != schedule.size()) {
    return absl::InvalidArgumentError(absl::StrCat("memory plan: ", steps.size(),
                                                   " kernels for ", schedule.size(), " steps"));
  }
  for (const TensorRef& f : fetches) {
    if (f.node < 0 || f.node >= graph.num_nodes() || f.output < 0 ||
        f.output >= static_cast<int>(graph.node(f.node).outputs.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("memory plan: fetch ", f.node, ":", f.output, " is not a tensor"));
    }
  }
  const int num_steps = static_cast<int>(schedule.size());
  std::unique_ptr<MemoryPlanner> default_planner;
  const MemoryPlanner* planner = options.planner;
  if (planner == nullptr) {
    default_planner = CreateBestOfGreedyPlanner();
    planner = default_planner.get();
  }

  MemoryPlan plan;
  plan.num_steps = num_steps;
  plan.outputs = options.outputs;
  WeightsLayout weights = LayoutWeights(graph);
  plan.weights_bytes = weights.bytes;

  TensorIds ids(graph);
  std::vector<int> value_of(ids.size(), -1);
  std::vector<int> input_position(graph.num_nodes(), -1);
  for (size_t i = 0; i < graph.inputs().size(); ++i) input_position[graph.inputs()[i]] = i;

  // The value of `ref`, created on first use for graph inputs and constants; -1 when
  // `ref` is computed by a kernel, or is an Input node missing from the signature.
  auto source_value = [&](TensorRef ref) {
    int& v = value_of[ids(ref)];
    if (v >= 0) return v;
    const Node& node = graph.node(ref.node);
    if (IsKernelNode(node)) return -1;
    if (input_position[ref.node] < 0 && weights.offset[ref.node] < 0) return -1;
    PlannedValue value;
    value.name = graph.TensorName(ref);
    value.tensor = ref;
    value.type = node.outputs[ref.output];
    value.bytes = TensorBytes(value.type);
    if (input_position[ref.node] >= 0) {
      value.slice = {Region::kInput, 0, value.bytes};
      value.index = input_position[ref.node];
      value.first_step = value.last_step = 0;
    } else {
      value.slice = {Region::kWeights, weights.offset[ref.node], value.bytes};
    }
    v = static_cast<int>(plan.values.size());
    plan.values.push_back(std::move(value));
    return v;
  };

  std::vector<std::vector<int>> step_inputs(num_steps);
  for (int s = 0; s < num_steps; ++s) {
    const Node& node = graph.node(schedule[s]);
    for (const TensorRef& in : node.inputs) {
      int v = value_of[ids(in)];
      if (v < 0) v = source_value(in);
      if (v < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "memory plan: ", NodeErrorPrefix(node), "input '", graph.TensorName(in),
            "' is neither fed, constant, nor computed before step ", s));
      }
      plan.values[v].last_step = std::max(plan.values[v].last_step, s);
      step_inputs[s].push_back(v);
    }
    for (int k = 0; k < static_cast<int>(node.outputs.size()); ++k) {
      PlannedValue value;
      value.tensor = {schedule[s], k};
      value.name = graph.TensorName(value.tensor);
      value.type = node.outputs[k];
      value.bytes = TensorBytes(value.type);
      value.first_step = value.last_step = s;
      value.slice = {Region::kArena, 0, value.bytes};
      value_of[ids(value.tensor)] = static_cast<int>(plan.values.size());
      plan.values.push_back(std::move(value));
    }
    if (steps[s].scratch_bytes < 0 || steps[s].scratch_bytes > kMaxPlanBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "memory plan: ", NodeErrorPrefix(node), "scratch of ", steps[s].scratch_bytes, " bytes"));
    }
    if (steps[s].scratch_bytes > 0) {
      PlannedValue value;
      value.tensor = {schedule[s], -1};
      value.name = absl::StrCat(node.name, "#scratch");
      value.type = {DataType::kU8, Shape{steps[s].scratch_bytes}};
      value.bytes = steps[s].scratch_bytes;
      value.first_step = value.last_step = s;
      value.slice = {Region::kArena, 0, value.bytes};
      plan.values.push_back(std::move(value));
    }
  }

  std::vector<bool> fetched(plan.values.size(), false);
  for (size_t i = 0; i < fetches.size(); ++i) {
    int v = value_of[ids(fetches[i])];
    if (v < 0) {
      v = source_value(fetches[i]);
      if (v < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "memory plan: fetch '", graph.TensorName(fetches[i]), "' is not computed"));
      }
      fetched.resize(plan.values.size(), false);
    }
    fetched[v] = true;
    PlannedValue& value = plan.values[v];
    if (value.slice.region != Region::kArena) continue;  // a source, or fetched twice
    if (options.outputs == OutputPlacement::kCallerBuffer) {
      value.slice.region = Region::kOutput;
      value.index = static_cast<int>(i);
    } else {
      value.last_step = num_steps - 1;  // stays for the copy-out after the last step
    }
  }
  fetched.resize(plan.values.size(), false);

  // In-place reuse: output 0 of step s takes the slice of its in-place input when that
  // input dies at s.
  if (options.inplace) {
    for (int s = 0; s < num_steps; ++s) {
      const Node& node = graph.node(schedule[s]);
      int k = steps[s].inplace_input;
      if (k < 0) continue;
      if (k >= static_cast<int>(node.inputs.size())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "memory plan: ", NodeErrorPrefix(node), "kernel's inplace_input ", k,
            " is out of range (", node.inputs.size(), " inputs)"));
      }
      if (node.outputs.empty()) continue;
      int in = step_inputs[s][k];
      int out = value_of[ids({schedule[s], 0})];
      const PlannedValue& a = plan.values[in];
      PlannedValue& b = plan.values[out];
      if (a.slice.region == Region::kArena && b.slice.region == Region::kArena && !fetched[in] &&
          a.last_step == s && a.bytes == b.bytes && b.bytes > 0) {
        b.reuses = in;
      }
    }
  }

  // Buffers: a value that reuses another joins its buffer (chains follow the schedule, so
  // the root was created first).
  std::vector<int> buffer_of(plan.values.size(), -1);
  std::vector<BufferRequest> buffers;
  for (size_t v = 0; v < plan.values.size(); ++v) {
    const PlannedValue& value = plan.values[v];
    if (value.slice.region != Region::kArena) continue;
    if (value.reuses >= 0) {
      int b = buffer_of[value.reuses];
      buffer_of[v] = b;
      buffers[b].last = std::max(buffers[b].last, value.last_step);
      continue;
    }
    buffer_of[v] = static_cast<int>(buffers.size());
    buffers.push_back({value.bytes, value.first_step, value.last_step});
    plan.naive_bytes += AlignUp(value.bytes);
    if (plan.naive_bytes > kMaxPlanBytes) {
      return absl::ResourceExhaustedError("memory plan: the arena would exceed 2^62 bytes");
    }
  }
  for (size_t v = 0; v < plan.values.size(); ++v) {
    if (plan.values[v].reuses >= 0) plan.naive_bytes += AlignUp(plan.values[v].bytes);
  }

  Placement placement = planner->Place(buffers, num_steps);
  plan.planner = placement.strategy;
  plan.arena_bytes = placement.arena_bytes;
  for (size_t v = 0; v < plan.values.size(); ++v) {
    if (buffer_of[v] >= 0) plan.values[v].slice.offset = placement.offsets[buffer_of[v]];
  }

  // Lower bound: the most aligned buffer bytes live at one step.
  std::vector<int64_t> delta(num_steps + 1, 0);
  for (const BufferRequest& b : buffers) {
    delta[b.first] += AlignUp(b.size);
    delta[b.last + 1] -= AlignUp(b.size);
  }
  int64_t live = 0;
  for (int s = 0; s < num_steps; ++s) {
    live += delta[s];
    if (live > plan.lower_bound_bytes || plan.peak_step < 0) {
      plan.lower_bound_bytes = live;
      plan.peak_step = s;
    }
  }
  if (plan.peak_step >= 0) {
    for (size_t v = 0; v < plan.values.size(); ++v) {
      const PlannedValue& value = plan.values[v];
      if (value.slice.region == Region::kArena && value.bytes > 0 &&
          value.first_step <= plan.peak_step && plan.peak_step <= value.last_step) {
        plan.peak_values.push_back(static_cast<int>(v));
      }
    }
    std::stable_sort(plan.peak_values.begin(), plan.peak_values.end(), [&](int a, int b) {
      return plan.values[a].bytes > plan.values[b].bytes;
    });
  }
  return plan;
}

}  // namespace kiln
