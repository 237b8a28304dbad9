// `kiln opt`: runs graph passes (a list, or the default pipeline) on a graph file and
// writes or prints the result. Pieces exposed for tests.
#ifndef KILN_TOOLS_CLI_OPT_H_
#define KILN_TOOLS_CLI_OPT_H_

#include <string>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace kiln::cli {

// Writes `graph` as kgraph text for .kgraph paths, else a GraphDef (by extension).
absl::Status SaveAnyGraph(const Graph& graph, const std::string& path);

// The --list-passes text: one "NAME  SUMMARY" line per pass of the table.
std::string ListPassesText();

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_OPT_H_
