#include "runtime/executable_proto.h"

#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "runtime/alignment.h"
#include "runtime/memory_plan_proto.h"

namespace kiln {
namespace {

absl::Status FieldError(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("executable: ", field, ": ", what));
}

}  // namespace

void SignatureToProto(const std::vector<TensorSignature>& side,
                      google::protobuf::RepeatedPtrField<proto::TensorSignature>* out) {
  for (const TensorSignature& t : side) {
    proto::TensorSignature* p = out->Add();
    p->set_name(t.name);
    p->set_dtype(static_cast<proto::DataType>(t.type.dtype));
    for (int64_t d : t.type.shape.dims()) p->add_dims(d);
  }
}

absl::StatusOr<std::vector<TensorSignature>> SignatureFromProto(
    const google::protobuf::RepeatedPtrField<proto::TensorSignature>& side,
    absl::string_view what) {
  std::vector<TensorSignature> out;
  for (int i = 0; i < side.size(); ++i) {
    const proto::TensorSignature& p = side.Get(i);
    absl::StatusOr<TensorType> type =
        TensorTypeFromProto(p.dtype(), absl::MakeConstSpan(p.dims().data(), p.dims_size()));
    if (!type.ok()) {
      return FieldError(absl::StrCat(what, " ", i, " ('", p.name(), "')"),
                        type.status().message());
    }
    out.push_back({p.name(), *std::move(type)});
  }
  return out;
}

absl::StatusOr<proto::Executable> ExecutableToProto(
    const Executable& executable, WeightsForm weights,
    absl::Span<const KernelLibrary* const> libraries) {
  const Plan& plan = executable.plan;
  // A file names kernels that the loading binary resolves in its libraries (or in the code
  // an artifact carries); a step bound to code made in this process (the reference
  // interpreter's kernels, generated kernels outside an artifact) has no such name. Steps
  // not bound yet (an Executable read from a file) keep theirs, whatever the libraries of
  // this binary.
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const PlanStep& step = plan.steps[s];
    if (step.dispatch.fn == nullptr) continue;
    bool in_library = false;
    for (const KernelLibrary* library : libraries) {
      in_library = in_library || library->Find(step.kernel) != nullptr;
    }
    if (!in_library) {
      return absl::FailedPreconditionError(absl::StrCat(
          "executable: step ", s, " (node '", step.node_name, "') runs kernel '", step.kernel,
          "', which is in no kernel library (generated in this process, or a reference "
          "kernel), so it cannot be written out; an artifact (kiln compile) carries "
          "generated kernels, or compile with library kernels"));
    }
  }
  const int64_t total =
      plan.params.size() + (weights == WeightsForm::kInline ? plan.memory.weights_bytes : 0);
  if (total > std::numeric_limits<int32_t>::max()) {
    return absl::FailedPreconditionError(
        absl::StrCat("executable: ", total, " bytes of parameters and weights exceed the ",
                     "2 GiB of one proto"));
  }
  proto::Executable out;
  out.set_format_version(kExecutableFormatVersion);
  out.set_kernel_abi_version(executable.abi_version);
  SignatureToProto(executable.inputs, out.mutable_inputs());
  SignatureToProto(executable.outputs, out.mutable_outputs());
  for (int n : plan.schedule) out.add_schedule(n);
  *out.mutable_memory() = MemoryPlanToProto(plan.memory);
  for (const PlanStep& step : plan.steps) {
    proto::PlanStep* p = out.add_steps();
    p->set_node(step.node);
    p->set_node_name(step.node_name);
    p->set_op(step.op);
    p->set_kernel(step.kernel);
    p->set_params_version(step.params_version);
    p->set_dispatch_kind(proto::DISPATCH_KIND_HOST_FUNCTION);
    p->set_workgroup_count(step.dispatch.workgroup_count);
    p->set_params_offset(step.params_offset);
    p->set_params_size(step.params_size);
    for (int v : step.operands) p->add_operands(v);
    p->set_num_inputs(step.num_inputs);
    p->set_num_outputs(step.num_outputs);
  }
  out.set_params(plan.params.data(), plan.params.size());
  for (int v : plan.inputs) out.add_input_values(v);
  for (int v : plan.fetches) out.add_fetch_values(v);
  out.set_provider(plan.provider);
  if (weights == WeightsForm::kInline && plan.memory.weights_bytes > 0) {
    if (executable.weights == nullptr) {
      return absl::FailedPreconditionError("executable: the plan has weights, the executable none");
    }
    out.set_weights(executable.weights.get(), plan.memory.weights_bytes);
  }
  return out;
}

namespace {

// Everything but the weights.
absl::StatusOr<Executable> PlanFromProto(const proto::Executable& proto) {
  if (proto.format_version() != kExecutableFormatVersion) {
    return FieldError("format_version", absl::StrCat(proto.format_version(), ", expected ",
                                                     kExecutableFormatVersion));
  }
  Executable executable;
  executable.abi_version = proto.kernel_abi_version();
  ASSIGN_OR_RETURN(executable.inputs, SignatureFromProto(proto.inputs(), "input"));
  ASSIGN_OR_RETURN(executable.outputs, SignatureFromProto(proto.outputs(), "output"));
  Plan& plan = executable.plan;
  ASSIGN_OR_RETURN(plan.memory, MemoryPlanFromProto(proto.memory()));
  const int num_values = static_cast<int>(plan.memory.values.size());
  plan.schedule.assign(proto.schedule().begin(), proto.schedule().end());
  for (int s = 0; s < proto.steps_size(); ++s) {
    const proto::PlanStep& p = proto.steps(s);
    const std::string field = absl::StrCat("step ", s, " ('", p.node_name(), "')");
    if (p.dispatch_kind() != proto::DISPATCH_KIND_HOST_FUNCTION) {
      return FieldError(field, absl::StrCat("dispatch kind ", p.dispatch_kind(),
                                            " is not a host function"));
    }
    PlanStep step;
    step.node = p.node();
    step.node_name = p.node_name();
    step.op = p.op();
    step.kernel = p.kernel();
    step.params_version = p.params_version();
    step.dispatch.workgroup_count = p.workgroup_count();
    step.params_offset = p.params_offset();
    step.params_size = p.params_size();
    step.operands.assign(p.operands().begin(), p.operands().end());
    step.num_inputs = p.num_inputs();
    step.num_outputs = p.num_outputs();
    for (int v : step.operands) {
      if (v < 0 || v >= num_values) {
        return FieldError(field, absl::StrCat("operand value ", v, " of ", num_values));
      }
    }
    plan.steps.push_back(std::move(step));
  }
  plan.params = AlignedBlock(static_cast<int64_t>(proto.params().size()));
  if (!proto.params().empty()) {
    std::memcpy(plan.params.data(), proto.params().data(), proto.params().size());
  }
  for (const TensorSignature& input : executable.inputs) plan.input_types.push_back(input.type);
  plan.inputs.assign(proto.input_values().begin(), proto.input_values().end());
  plan.fetches.assign(proto.fetch_values().begin(), proto.fetch_values().end());
  for (int v : plan.inputs) {
    if (v < -1 || v >= num_values) return FieldError("input_values", absl::StrCat("value ", v));
  }
  for (int v : plan.fetches) {
    if (v < 0 || v >= num_values) return FieldError("fetch_values", absl::StrCat("value ", v));
  }
  plan.provider = proto.provider();
  return executable;
}

}  // namespace

absl::StatusOr<Executable> ExecutableFromProto(const proto::Executable& proto) {
  ASSIGN_OR_RETURN(Executable executable, PlanFromProto(proto));
  const Plan& plan = executable.plan;
  if (static_cast<int64_t>(proto.weights().size()) != plan.memory.weights_bytes) {
    return FieldError("weights", absl::StrCat(proto.weights().size(),
                                              " bytes, the memory plan has ",
                                              plan.memory.weights_bytes));
  }
  if (plan.memory.weights_bytes > 0) {
    auto block = std::make_shared<AlignedBlock>(plan.memory.weights_bytes);
    std::memcpy(block->data(), proto.weights().data(), proto.weights().size());
    executable.weights = std::shared_ptr<const uint8_t>(block, block->data());
  }
  return executable;
}

absl::StatusOr<Executable> ExecutableFromProto(const proto::Executable& proto,
                                               std::shared_ptr<const uint8_t> weights,
                                               int64_t weights_bytes) {
  ASSIGN_OR_RETURN(Executable executable, PlanFromProto(proto));
  const int64_t needed = executable.plan.memory.weights_bytes;
  if (!proto.weights().empty()) {
    return FieldError("weights", "inline weights in an Executable whose weights are external");
  }
  if (needed > weights_bytes) {
    return FieldError("weights", absl::StrCat("the memory plan reads ", needed,
                                              " bytes of weights, there are ", weights_bytes));
  }
  if (needed > 0) executable.weights = std::move(weights);
  return executable;
}

}  // namespace kiln
