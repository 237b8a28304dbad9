// Kiln's text form of graphs ("kgraph"): compact, line per node, round-trippable, used by
// golden pass tests, `kiln opt --print` and pass dumps. Also the Graphviz (.dot) export.
//
//   graph(%x: f32[-1,4]) {
//     %w = Constant() {value = f32[4,2]{0.5, -1, 2, 0, 1, 1, 0.25, 3}} : f32[4,2]
//     %mm = MatMul(%x, %w) : f32[-1,2]
//     %s = Mul(%mm, %half) {..} : f32[-1,2]
//     return y = %s
//   }
//
// Inputs are the header's parameters (signature order); nodes follow in topological order
// as `%name = Op(%in, %other:1) {attrs} : type` (`:k` picks output k; several outputs
// print as `(t0, t1)`); attributes equal to the op's default are omitted. Attribute values:
// 3 (int), 3.0 / 1e-05 / inf / nan (float: always with '.', 'e' or a word), "s", true,
// f32 (dtype), [1,2] / [1.5,2.0] / ["a"] (lists), DTYPE[DIMS]{v, v, ...} (tensor, exact
// values in shortest round-trip form; {splat v} when all equal), graph(...) {...}
// (subgraph). `//` starts a comment. Types after ':' are optional when parsing; when given
// they must match the inferred ones.
#ifndef KILN_GRAPH_TEXT_FORMAT_H_
#define KILN_GRAPH_TEXT_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/graph.h"

namespace kiln {

struct TextPrintOptions {
  // Constants with more elements than this (and not a splat) print as
  // `f32[64,3]{elided 0xHASH}` (FNV-1a of the bytes), which does not parse back.
  // -1: print every value (exact round trip).
  int64_t max_inline_elements = -1;
  // Print attributes equal to the op's default too.
  bool print_defaults = false;
};

// The text form of `graph`. Types are printed for nodes that have been inferred.
std::string PrintGraph(const Graph& graph, const TextPrintOptions& options = {});

struct TextParseOptions {
  // Verify the parsed graph (and check declared types); off to read graphs the verifier
  // rejects, as expected-error tests do.
  bool verify = true;
};

// Parses the text form. Errors read "line N: reason" for syntax errors, or carry the
// verifier's message (prefixed by the line of the node when a declared type differs).
absl::StatusOr<Graph> ParseGraph(absl::string_view text, const TextParseOptions& options = {});

// Graphviz: one box per node labelled name, op and output types (Fusion nodes show their
// kind and body size), an edge per input. Constants and Inputs are ellipses.
std::string GraphToDot(const Graph& graph);

}  // namespace kiln

#endif  // KILN_GRAPH_TEXT_FORMAT_H_
