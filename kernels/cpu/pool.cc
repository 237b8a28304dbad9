#include "kernels/cpu/kernels.h"
namespace kiln::cpu {
#define STUB(F) PrepareResult F(const PrepareContext& ctx) { return NodeError(absl::StatusCode::kUnimplemented, ctx.node, "todo"); }
STUB(PreparePool) STUB(PrepareGlobalAvgPool)
}
