#include "runtime/build_plan.h"

#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "graph/shape_inference.h"
#include "runtime/alignment.h"

namespace kiln {

absl::StatusOr<Plan> BuildPlan(const Graph& graph, absl::Span<const TensorRef> fetches,
                               const KernelProvider& provider, const PlanOptions& options) {
  Plan plan;
  plan.provider = std::string(provider.name());
  ASSIGN_OR_RETURN(plan.schedule, ScheduleNodes(graph, fetches, options.order));

  std::vector<PreparedKernel> kernels;
  std::vector<StepMemoryInfo> infos;
  kernels.reserve(plan.schedule.size());
  for (int n : plan.schedule) {
    const Node& node = graph.node(n);
    ASSIGN_OR_RETURN(PreparedKernel kernel, provider.Prepare(graph, node));
    auto bad = [&](absl::string_view what) {
      return absl::InternalError(absl::StrCat(NodeErrorPrefix(node), "kernel '", kernel.name,
                                              "' of ", provider.name(), " ", what));
    };
    if (kernel.fn == nullptr) return bad("has no function");
    if (kernel.workgroup_count < 1 || kernel.workgroup_count > kMaxWorkgroups) {
      return bad(absl::StrCat("has workgroup_count ", kernel.workgroup_count));
    }
    if (kernel.scratch_bytes < 0) {
      return bad(absl::StrCat("asks for ", kernel.scratch_bytes, " scratch bytes"));
    }
    if (kernel.inplace_input < -1 || kernel.inplace_input >= static_cast<int>(node.inputs.size())) {
      return bad(absl::StrCat("has inplace_input ", kernel.inplace_input, " of ",
                              node.inputs.size(), " inputs"));
    }
    infos.push_back({kernel.scratch_bytes, kernel.inplace_input});
    kernels.push_back(std::move(kernel));
  }
  ASSIGN_OR_RETURN(plan.memory, PlanMemory(graph, plan.schedule, infos, fetches, options.memory));

  // Parameter blocks, each at a 64-byte-aligned offset of one block.
  int64_t params_bytes = 0;
  for (const PreparedKernel& kernel : kernels) {
    params_bytes += AlignUp(static_cast<int64_t>(kernel.params.size()));
  }
  plan.params = AlignedBlock(params_bytes);

  // Value index by tensor, for the operand lists.
  absl::flat_hash_map<int64_t, int> value_of;
  auto key = [](TensorRef ref) { return (int64_t{ref.node} << 32) + (ref.output + 1); };
  for (size_t v = 0; v < plan.memory.values.size(); ++v) {
    value_of[key(plan.memory.values[v].tensor)] = static_cast<int>(v);
  }

  int64_t offset = 0;
  for (size_t s = 0; s < kernels.size(); ++s) {
    const Node& node = graph.node(plan.schedule[s]);
    PreparedKernel& kernel = kernels[s];
    PlanStep step;
    step.node = plan.schedule[s];
    step.node_name = node.name;
    step.op = node.op;
    step.kernel = kernel.name;
    step.params_version = kernel.params_version;
    step.dispatch.fn = kernel.fn;
    step.dispatch.workgroup_count = kernel.workgroup_count;
    step.params_offset = offset;
    step.params_size = static_cast<int64_t>(kernel.params.size());
    if (step.params_size > 0) {
      std::memcpy(plan.params.data() + offset, kernel.params.data(), step.params_size);
    }
    offset += AlignUp(step.params_size);
    step.num_inputs = static_cast<int>(node.inputs.size());
    step.num_outputs = static_cast<int>(node.outputs.size());
    for (const TensorRef& in : node.inputs) step.operands.push_back(value_of.at(key(in)));
    for (int k = 0; k < step.num_outputs; ++k) {
      step.operands.push_back(value_of.at(key({step.node, k})));
    }
    if (kernel.scratch_bytes > 0) step.operands.push_back(value_of.at(key({step.node, -1})));
    plan.steps.push_back(std::move(step));
  }

  for (int id : graph.inputs()) {
    plan.input_types.push_back(graph.node(id).outputs[0]);
    auto it = value_of.find(key({id, 0}));
    plan.inputs.push_back(it == value_of.end() ? -1 : it->second);
  }
  for (const TensorRef& f : fetches) plan.fetches.push_back(value_of.at(key(f)));
  return plan;
}

}  // namespace kiln
