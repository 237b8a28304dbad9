// Shared by the fuzzers: runs a verified graph on the reference interpreter when it is
// small, so fuzzed graphs exercise the kernels as well as the verifier.
#ifndef KILN_TESTS_FUZZ_RUN_SMALL_GRAPH_H_
#define KILN_TESTS_FUZZ_RUN_SMALL_GRAPH_H_

#include <cstdint>

#include "graph/graph.h"

namespace kiln::fuzzing {

// Binds every -1 input dimension to 2, and when all tensors together hold at most
// `max_elements` elements, feeds deterministic small values and evaluates the graph's
// outputs (and, with `fetch_all`, every node's outputs). Errors are ignored: only
// crashes, leaks and undefined behaviour matter to a fuzzer.
void RunIfSmall(const Graph& graph, int64_t max_elements, bool fetch_all);

}  // namespace kiln::fuzzing

#endif  // KILN_TESTS_FUZZ_RUN_SMALL_GRAPH_H_
