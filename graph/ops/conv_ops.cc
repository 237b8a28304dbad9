#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"

namespace kiln {

void RegisterConvOps(OpRegistry& registry) {}

}  // namespace kiln
