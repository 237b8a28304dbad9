// Reading and writing graph files: text (.pbtxt) and binary (.pb) GraphDefs, with
// external weight files beside them.
#ifndef KILN_GRAPH_GRAPH_IO_H_
#define KILN_GRAPH_GRAPH_IO_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "graph/proto_convert.h"
#include "proto/graph.pb.h"

namespace kiln {

// Parses GraphDef bytes: protobuf text format when `text` is true, binary otherwise.
// Errors carry the parser's line and column for text.
absl::StatusOr<proto::GraphDef> ParseGraphDef(absl::string_view bytes, bool text);

// True for paths ending in .pbtxt or .txt (text format); everything else is binary.
bool IsTextGraphPath(absl::string_view path);

// Reads a GraphDef file (format from the extension). Errors name the path.
absl::StatusOr<proto::GraphDef> LoadGraphDef(const std::string& path);
// Writes a GraphDef file (format from the extension).
absl::Status SaveGraphDef(const proto::GraphDef& def, const std::string& path);

// LoadGraphDef + GraphFromProto with external data resolved beside `path`, verified.
absl::StatusOr<Graph> LoadGraph(const std::string& path);

// Writes `graph` to `path`. With `external_data_threshold` > 0, tensors of at least that
// many bytes go to "<path>.data" beside it, referenced by file name.
absl::Status SaveGraph(const Graph& graph, const std::string& path,
                       int64_t external_data_threshold = 0);

}  // namespace kiln

#endif  // KILN_GRAPH_GRAPH_IO_H_
