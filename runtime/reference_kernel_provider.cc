#include "runtime/reference_kernel_provider.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/evaluate.h"
#include "graph/op_registry.h"
#include "graph/shape_inference.h"
#include "base/tensor.h"

namespace kiln {
namespace {

int32_t RunReferenceKernel(const kiln_kernel_call* call, int64_t, int64_t) {
  const auto* params = static_cast<const ReferenceKernelParams*>(call->params);
  const Node& node = *params->node;
  std::vector<Tensor> inputs;
  inputs.reserve(node.inputs.size());
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const TensorType& type = params->graph->type(node.inputs[i]);
    inputs.push_back(Tensor::Borrow(type.dtype, type.shape, call->buffers[i]));
  }
  std::vector<Tensor> outputs;
  outputs.reserve(node.outputs.size());
  for (size_t k = 0; k < node.outputs.size(); ++k) {
    outputs.push_back(Tensor::Borrow(node.outputs[k].dtype, node.outputs[k].shape,
                                     call->buffers[node.inputs.size() + k]));
  }
  absl::Status status = RunReference(node, inputs, absl::MakeSpan(outputs));
  if (status.ok()) return KILN_KERNEL_OK;
  // The reference kernels fail only on data (an index, a divisor) or on cases they do
  // not handle; anything else is a bug.
  int32_t code = KILN_KERNEL_INTERNAL;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      code = KILN_KERNEL_INVALID_ARGUMENT;
      break;
    case absl::StatusCode::kUnimplemented:
      code = KILN_KERNEL_UNIMPLEMENTED;
      break;
    default:
      break;
  }
  std::string message(status.message());  // the reference kernels' own detail
  call->env->report(call->env, code, message.c_str());
  return code;
}

}  // namespace

absl::StatusOr<PreparedKernel> ReferenceKernelProvider::Prepare(const Graph& graph,
                                                                const Node& node) const {
  if (node.def == nullptr || (!node.def->reference && !node.def->structural)) {
    return absl::UnimplementedError(
        absl::StrCat(NodeErrorPrefix(node), "no reference kernel (is the graph verified?)"));
  }
  for (const TensorType& type : node.outputs) {
    if (!type.shape.IsFullyKnown()) {
      return absl::InvalidArgumentError(
          absl::StrCat(NodeErrorPrefix(node), "output shape ", type.shape.ToString(),
                       " is not fully known"));
    }
  }
  PreparedKernel kernel;
  kernel.fn = RunReferenceKernel;
  kernel.params = PackParams(ReferenceKernelParams{&graph, &node});
  kernel.name = absl::StrCat("reference.", node.op);
  // Only input 0: Where copies x or y with memcpy, which must not overlap its output.
  if (node.def->Has(kElementwise) && !node.def->Has(kDataMovement) && !node.outputs.empty() &&
      !node.inputs.empty() && graph.type(node.inputs[0]) == node.outputs[0]) {
    kernel.inplace_input = 0;
  }
  return kernel;
}

}  // namespace kiln
