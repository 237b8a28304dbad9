// Numerical checks of passes: the reference interpreter on the same random inputs before
// and after a rewrite must agree within a tolerance stated per dtype.
#ifndef KILN_TESTS_UTIL_PASS_TEST_UTIL_H_
#define KILN_TESTS_UTIL_PASS_TEST_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace kiln::testing {

// |got - want| <= atol + rtol * |want|, elementwise; NaN matches NaN only.
struct Tolerance {
  double rtol = 0;
  double atol = 0;
};

// The tolerance a rewrite may need for outputs of `dtype`. A rewrite moves, removes or
// merges roundings: each rounding of an intermediate to the dtype changes a value by at
// most half an ulp (2^-24 relative for f32, 2^-11 for f16, 2^-8 for bf16), and the
// reference kernels compute each op in double, so a rewritten chain of a few dozen ops
// differs by a few dozen such steps at most. Hence f32 1e-5 (about 170 ulps), f64 1e-12,
// f16 1e-2, bf16 6e-2; integers and bools exactly. BatchNorm folding also rounds the
// folded weights once (not the products), which the f32 bound covers for the O(1) values
// used here (measured error below 1e-6).
Tolerance DefaultTolerance(DataType dtype);

// Evaluates `before` and `after` on the same deterministic random inputs (floats uniform
// in [-1, 1), integers in [1, 4), unknown dims bound to `unknown_dim`) and compares the
// outputs of equal name. OK when all agree within `tolerance` (default per dtype);
// otherwise an error naming the output, the element and both values.
absl::Status CompareGraphsNumerically(const Graph& before, const Graph& after, uint64_t seed = 1,
                                      int64_t unknown_dim = 2,
                                      std::optional<Tolerance> tolerance = std::nullopt);

// Runs the comma-separated `passes` (each verified after) on a copy of `graph` and returns
// the result.
absl::StatusOr<Graph> RunPasses(const Graph& graph, const std::string& passes);

}  // namespace kiln::testing

#endif  // KILN_TESTS_UTIL_PASS_TEST_UTIL_H_
