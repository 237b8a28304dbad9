// The pass interface (in the line of XLA's HloPassInterface): a named transformation of a
// verified Graph that reports whether it changed anything.
#ifndef KILN_PASSES_PASS_H_
#define KILN_PASSES_PASS_H_

#include <cstdint>
#include <ostream>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/graph.h"

namespace kiln::passes {

// Knobs shared by the passes; each pass reads the ones it documents.
struct PassOptions {
  // fold-constants: a folded node may produce at most this many bytes, unless its output
  // is no larger than its constant inputs (data movement such as a transposed filter).
  int64_t fold_max_output_bytes = int64_t{1} << 20;
  // Fusion: the most inputs one Fusion node may take (the kernel ABI passes one pointer
  // per buffer; past this a kernel's argument setup outweighs the saved launches).
  int max_fusion_inputs = 32;
  // Constants of at most this many elements are copied into a fusion body instead of
  // becoming fusion inputs (scalars such as epsilon or a softmax scale).
  int64_t max_inline_constant_elements = 16;
  // Print every rewrite decision ("fuse-elementwise: not fusing 'a' into 'b': reason").
  bool debug = false;
  // Where debug lines go; null means std::cerr. Not owned.
  std::ostream* debug_stream = nullptr;
};

// A transformation of a graph. Run receives a verified graph (every node has its def and
// output types) and must leave one that verifies; it returns whether it changed the graph,
// or an error naming the pass, the node and the reason (the graph is then unspecified and
// must be discarded). Passes hold no state between runs that changes their result, so a
// pipeline may run one repeatedly. Not thread-safe: one Run at a time per pass object.
class Pass {
 public:
  virtual ~Pass() = default;
  // The flag name, a verb phrase: "fold-constants".
  virtual absl::string_view name() const = 0;
  // One line for --list-passes and docs/passes.md.
  virtual absl::string_view description() const = 0;
  virtual absl::StatusOr<bool> Run(Graph& graph) = 0;
};

}  // namespace kiln::passes

#endif  // KILN_PASSES_PASS_H_
