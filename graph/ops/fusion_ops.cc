// Fusion: a kernel cluster held as a subgraph. Its shape function binds and verifies the
// body; its reference kernel evaluates the body with the shared evaluation loop.
#include <cstring>

#include "graph/evaluate.h"
#include "graph/fusion.h"
#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"
#include "graph/status_macros.h"

namespace kiln {
namespace {

absl::StatusOr<const Graph*> BodyAttr(const Node& node) {
  const Graph* body = FusionBody(node);
  if (body == nullptr) return absl::InvalidArgumentError("attribute 'body' is empty");
  return body;
}

absl::Status InferFusion(InferContext& ctx) {
  ASSIGN_OR_RETURN(const Graph* body, BodyAttr(ctx.node));
  if (ctx.node.string_attr(kFusionKindAttr).empty()) {
    return absl::InvalidArgumentError("attribute 'kind' is empty");
  }
  ASSIGN_OR_RETURN(Graph bound, BindFusionBody(*body, ctx.inputs));
  for (const GraphOutput& out : bound.outputs()) ctx.outputs.push_back(bound.type(out.tensor));
  return absl::OkStatus();
}

absl::Status RunFusion(KernelContext& ctx) {
  ASSIGN_OR_RETURN(const Graph* body, BodyAttr(ctx.node));
  std::vector<TensorType> types;
  for (const Tensor& t : ctx.inputs) types.push_back({t.dtype(), t.shape()});
  ASSIGN_OR_RETURN(Graph bound, BindFusionBody(*body, types));
  absl::flat_hash_map<int, Tensor> feeds;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) feeds[bound.inputs()[i]] = ctx.inputs[i];
  std::vector<TensorRef> fetches;
  for (const GraphOutput& out : bound.outputs()) fetches.push_back(out.tensor);
  ASSIGN_OR_RETURN(std::vector<Tensor> results, EvaluateGraph(bound, feeds, fetches));
  for (size_t k = 0; k < results.size() && k < ctx.outputs.size(); ++k) {
    if (results[k].ByteSize() != ctx.outputs[k].ByteSize()) {
      return absl::InternalError("fusion body output size differs from the node's output");
    }
    if (results[k].ByteSize() > 0) {
      std::memcpy(ctx.outputs[k].raw_data(), results[k].raw_data(), results[k].ByteSize());
    }
  }
  return absl::OkStatus();
}

int64_t FusionFlops(const Node& node, absl::Span<const TensorType> inputs,
                    absl::Span<const TensorType>) {
  const Graph* body = FusionBody(node);
  if (body == nullptr) return 0;
  absl::StatusOr<Graph> bound = BindFusionBody(*body, inputs);
  if (!bound.ok()) return 0;
  int64_t total = 0;
  for (const Node& n : bound->nodes()) {
    if (n.def == nullptr || !n.def->flops) continue;
    std::vector<TensorType> in;
    for (const TensorRef& ref : n.inputs) in.push_back(bound->type(ref));
    int64_t f = n.def->flops(n, in, n.outputs);
    if (f > 0 && total <= INT64_MAX - f) total += f;
  }
  return total;
}

}  // namespace

void RegisterFusionOps(OpRegistry& registry) {
  MustRegister(registry, OpDef{
      .name = "Fusion",
      .summary =
          "A kernel cluster made by the fusion passes: computes its `body` graph, whose Input "
          "nodes take the fusion's inputs in order and whose signature outputs are the "
          "fusion's outputs; `kind` names the cluster's shape for lowering (loop, reduction, "
          "matmul_epilogue, conv2d_epilogue, attention). Bodies hold no nested Fusion.",
      .input_names = {"x"},
      .min_inputs = 0,
      .max_inputs = -1,
      .num_outputs = -1,
      .attrs = {{"body", AttrType::kGraph, std::nullopt},
                {"kind", AttrType::kString, std::string("loop")}},
      .traits = kTraitNone,
      .infer = InferFusion,
      .reference = RunFusion,
      .flops = FusionFlops,
  });
}

}  // namespace kiln
