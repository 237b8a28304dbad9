#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"

namespace kiln {

void RegisterNormalizationOps(OpRegistry& registry) {}

}  // namespace kiln
