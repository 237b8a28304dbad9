// Debugging a compiled graph as easily as an eager one: `kiln run --check` runs the
// reference interpreter beside the Session and names the first node whose output
// diverges; `kiln run --trace` prints every node's value statistics and stops at the
// first NaN or Inf.
#ifndef KILN_TOOLS_CLI_RUN_DEBUG_H_
#define KILN_TOOLS_CLI_RUN_DEBUG_H_

#include <ostream>

#include "absl/status/status.h"
#include "runtime/session.h"

namespace kiln::cli {

// Tolerance of --check for a dtype: |got - want| <= rtol * |want| + atol * max|want| over
// the tensor. f32 rtol 1e-3, atol 1e-5 (kernels accumulate in f32 in another order than
// the reference's doubles; errors grow with reduction length); f64 1e-9, 1e-12; f16
// 1e-2, 1e-3 and bf16 6e-2, 1e-2 (half an ulp of the storage type, a few times over);
// integers and bool exact.
struct CheckTolerance {
  double rtol = 0;
  double atol = 0;
};
CheckTolerance ToleranceFor(DataType dtype);

// Runs `session` on `feeds` fetching every tensor a kernel computes in its optimized
// graph, evaluates the same graph with the reference interpreter, and compares node by
// node in topological order. Prints "check: N tensors of M nodes within tolerance" and
// returns OK, or returns FailedPrecondition naming the first diverging node, its op, the
// output, the worst element's index and both values.
absl::Status CheckAgainstReference(const Session& session, const Feeds& feeds,
                                   std::ostream& out);

// Runs `session` on `feeds` fetching every computed tensor and prints one line per tensor
// in topological order: "trace: NAME OP DTYPE[SHAPE] min=.. max=.. mean=.. nan=N inf=N".
// Stops at the first tensor holding a NaN or an Inf and returns FailedPrecondition naming
// its node; OK when there is none.
absl::Status TraceValues(const Session& session, const Feeds& feeds, std::ostream& out);

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_RUN_DEBUG_H_
