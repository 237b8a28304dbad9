// Helpers shared by the rewrite passes: local rules with reasons, permutations, constant
// tensors built at compile time, and small pattern matchers over producers.
#ifndef KILN_PASSES_REWRITE_UTIL_H_
#define KILN_PASSES_REWRITE_UTIL_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/graph.h"
#include "graph/graph_rewrite.h"
#include "base/tensor.h"
#include "passes/pass.h"

namespace kiln::passes {

// A local rewrite: looks at node `id` and either returns the tensor that replaces its
// output 0 (possibly a node the rule appended) or nullopt when it does not apply. Rules
// only append nodes; the pass rewires uses and removes what died. Errors are bugs or
// unsupported graphs and stop the pass.
using RewriteFn = std::function<absl::StatusOr<std::optional<TensorRef>>(Graph&, int id)>;
struct RewriteRule {
  std::string name;  // "mul-by-one": shown in debug output
  RewriteFn apply;
};

// Applies `rules` to every node in topological order (the first rule that matches wins;
// a replaced node is not revisited), rewires, then removes dead nodes. Returns whether
// anything changed. `pass` names the pass in debug lines.
absl::StatusOr<bool> ApplyRewriteRules(Graph& graph, const std::vector<RewriteRule>& rules,
                                       const PassOptions& options, absl::string_view pass);

// The rules of simplify-algebra (simplify_algebra.cc), for passes that want them too.
void PopulateAlgebraicRules(std::vector<RewriteRule>& rules);

// Permutations: out dim i = in dim perm[i] (Transpose's convention).
bool IsPermutation(const std::vector<int64_t>& perm);
bool IsIdentityPermutation(const std::vector<int64_t>& perm);
std::vector<int64_t> InversePermutation(const std::vector<int64_t>& perm);
// Transpose(Transpose(x, first), second) == Transpose(x, Compose(first, second)).
std::vector<int64_t> ComposePermutations(const std::vector<int64_t>& first,
                                         const std::vector<int64_t>& second);

// `value` with 1-dims prepended up to `rank` (NumPy broadcasting alignment), then its
// dimensions permuted by `perm` (of length `rank`). Exact: elements only move.
absl::StatusOr<Tensor> BroadcastRankAndTranspose(const Tensor& value, int rank,
                                                 const std::vector<int64_t>& perm);

// A Reshape spec for `shape` with at most one unknown dim (-1), or nullopt when it has
// more than one.
std::optional<std::vector<int64_t>> ReshapeSpec(const Shape& shape);

// When `value` broadcast against an output of rank `rank` varies only along dimension
// `axis` (every other dimension 1 after right-alignment; a scalar qualifies), its value per
// index of that axis (`size` entries); otherwise nullopt.
std::optional<std::vector<double>> PerAxisValues(const Tensor& value, int rank, int axis,
                                                 int64_t size);

// The node producing `ref` when its op is `op`, else null.
const Node* ProducerIs(const Graph& graph, TensorRef ref, absl::string_view op);

// True when `ref` is a splat Constant equal to `value` within relative tolerance `rel`
// (absolute for value 0).
bool IsSplat(const Graph& graph, TensorRef ref, double value, double rel = 0);

// True when every node of `nodes` other than `root` is read only by nodes of `nodes` and is
// not a signature output, so replacing `root` makes all of them dead.
bool OnlyUsedInside(const Graph& graph, const UseInfo& uses, const std::vector<int>& nodes,
                    int root);

// A tensor of `dtype` and `shape` from doubles (rounded once to the dtype).
absl::StatusOr<Tensor> TensorFromDoubles(DataType dtype, const Shape& shape,
                                         const std::vector<double>& values);

}  // namespace kiln::passes

#endif  // KILN_PASSES_REWRITE_UTIL_H_
