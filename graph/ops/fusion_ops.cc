// Fusion: a kernel cluster held as a subgraph. Registered as a schema only: the
// verifier binds and verifies its body (graph/fusion.h), the evaluator runs it and the
// FLOP count recurses into it, so the registry depends on neither.
#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"

namespace kiln {

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
      .structural = true,
  });
}

}  // namespace kiln
