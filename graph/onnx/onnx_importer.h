// Importing ONNX models into Kiln graphs, built on the protobuf classes of Debian's
// libonnx-dev. Each ONNX node goes through one converter of the op table
// (onnx_op_table.cc), which emits Kiln ops; nodes whose inputs are all constants are
// folded through the ops' reference kernels as they are emitted.
#ifndef KILN_GRAPH_ONNX_ONNX_IMPORTER_H_
#define KILN_GRAPH_ONNX_ONNX_IMPORTER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/graph.h"
#include "base/tensor.h"
#include "onnx/onnx-ml.pb.h"

namespace kiln {

// Opsets of the default ONNX domain the importer accepts. A model declares one opset for
// the default domain; each converter states the opsets at which the op it converts has
// the semantics it implements, so an older model is accepted op by op where its ops are
// unchanged since (Sin has not changed since opset 7, Softmax changed at 13).
inline constexpr int64_t kOnnxMinOpset = 1;
inline constexpr int64_t kOnnxMaxOpset = 17;

struct OnnxImportOptions {
  // Directory that external-data locations are relative to. ImportOnnx(path) sets it to
  // the model file's directory when empty; for models from memory, empty makes external
  // data an error.
  std::string external_data_dir;
  // Fold every node whose inputs are all constants into a Constant (through the Kiln
  // ops' reference kernels), so shape subgraphs (Shape -> Gather -> Unsqueeze -> Concat ->
  // Reshape) become constants when shapes are static.
  bool fold_constants = true;
  // Results larger than this many elements are not folded (the nodes stay).
  int64_t max_folded_elements = int64_t{1} << 22;
  // Graph inputs to replace by constant values (name -> value): specializes a model on
  // inputs that Kiln needs as constants, such as Reshape's shape fed at run time. The
  // value must match the input's declared dtype and shape.
  std::map<std::string, Tensor, std::less<>> frozen_inputs;
  // Shapes for graph inputs (name -> shape), replacing symbolic dimensions with sizes
  // (-1 keeps one unknown); known declared sizes must match. Static shapes let shape
  // subgraphs fold (ONNX Runtime's free-dimension overrides).
  std::map<std::string, Shape, std::less<>> input_shapes;
};

// Reads and imports the model at `path`. Nodes that no graph output depends on are
// skipped. The Graph is verified; its inputs are the ONNX graph inputs that are not
// initializers (in order, with symbolic dimensions as -1) and
// its outputs the ONNX graph outputs (in order, under their ONNX names). Errors:
//  - UnimplementedError for what Kiln does not support (an op, an op version, an
//    attribute value, a type); the message names the node, its op type and the opset:
//    "node 'conv1' (Conv, opset 13): 3-D convolution is not supported".
//  - InvalidArgumentError / NotFoundError for malformed models and unreadable files.
// A value that a converter needs as a constant but that is computed from graph inputs is
// UnimplementedError with the payload kOnnxNeedsConstantPayload holding those inputs'
// names, one per line (see frozen_inputs).
absl::StatusOr<Graph> ImportOnnx(const std::string& path, const OnnxImportOptions& options = {});
// The same for serialized ModelProto bytes.
absl::StatusOr<Graph> ImportOnnxFromBytes(absl::string_view bytes,
                                          const OnnxImportOptions& options = {});
absl::StatusOr<Graph> ImportOnnxModel(const onnx::ModelProto& model,
                                      const OnnxImportOptions& options = {});

// Status payload URL naming a graph input that had to be a constant.
inline constexpr absl::string_view kOnnxNeedsConstantPayload = "kiln.onnx/needs-constant-input";

// One node the importer cannot convert.
struct OnnxUnsupportedNode {
  std::string node;     // the ONNX node name (or its first output's name when unnamed)
  std::string op_type;  // "Conv", or "domain.Op" outside the default domain
  int64_t opset = 0;
  std::string reason;
};

// Converts as much of the model as possible and lists every node that cannot be
// converted (UnimplementedError of its converter, or no converter for its op and opset),
// in graph order. Nodes downstream of an unsupported one are checked against the op table
// only. Errors: a malformed model (not an unsupported one).
absl::StatusOr<std::vector<OnnxUnsupportedNode>> ListUnsupportedOnnxNodes(
    const onnx::ModelProto& model, const OnnxImportOptions& options = {});

// Reads and parses a model file (no import). Errors name the path.
absl::StatusOr<onnx::ModelProto> ReadOnnxModel(const std::string& path);

// One line per converter of the op table: "Op opsets FIRST-LAST", sorted by op type.
std::vector<std::string> OnnxSupportedOps();

}  // namespace kiln

#endif  // KILN_GRAPH_ONNX_ONNX_IMPORTER_H_
