// Reading a model in any of the formats Kiln accepts, by its file name: a
// GraphDef (.pb, .pbtxt), the kgraph text form (.kgraph) or an ONNX model
// (.onnx, imported in memory). Shared by the `kiln` commands, the C API and the
// Python package.
#ifndef KILN_GRAPH_ONNX_MODEL_FILE_H_
#define KILN_GRAPH_ONNX_MODEL_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "graph/onnx/onnx_importer.h"

namespace kiln {

// True when `path` names an ONNX model (by its extension).
bool IsOnnxPath(const std::string& path);

// Reads the model at `path`: ONNX models (.onnx) are imported with `import`
// (external data beside the model unless `import` names a directory), kgraph
// text (.kgraph) is parsed, anything else is read as a GraphDef (text for
// .pbtxt/.txt, else binary). The graph is verified. Errors name the path, and
// for ONNX the node, op type and opset (the importer's errors).
absl::StatusOr<Graph> LoadModel(const std::string& path, const OnnxImportOptions& import = {});

}  // namespace kiln

#endif  // KILN_GRAPH_ONNX_MODEL_FILE_H_
