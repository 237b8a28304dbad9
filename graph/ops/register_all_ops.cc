// The one list of built-in op families. Adding a family means adding a line here.
#include "graph/ops/register_ops.h"

namespace kiln {

void RegisterAllOps(OpRegistry& registry) {
  RegisterSourceOps(registry);
  RegisterElementwiseOps(registry);
  RegisterMatMulOps(registry);
  RegisterConvOps(registry);
  RegisterPoolOps(registry);
  RegisterNormalizationOps(registry);
  RegisterReductionOps(registry);
  RegisterShapeOps(registry);
  RegisterFusionOps(registry);
  RegisterMathExtraOps(registry);
  RegisterMiscOps(registry);
  RegisterResizeOps(registry);
}

}  // namespace kiln
