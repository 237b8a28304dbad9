#include "kernels/cpu/kernels.h"
namespace kiln::cpu {
PrepareResult PrepareConv2D(const PrepareContext& ctx) { return NodeError(absl::StatusCode::kUnimplemented, ctx.node, "todo"); }
}
