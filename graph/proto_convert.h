// Conversion between the on-disk GraphDef (proto/graph.proto) and the in-memory Graph.
#ifndef KILN_GRAPH_PROTO_CONVERT_H_
#define KILN_GRAPH_PROTO_CONVERT_H_

#include <string>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "base/tensor.h"
#include "proto/graph.pb.h"

namespace kiln {

struct ImportOptions {
  // Directory that ExternalData locations are relative to. Empty: external data is an
  // error (a GraphDef from memory has no place beside it).
  std::string external_data_dir;
  // Verify (and infer types) after import. Off only for tools that show raw graphs.
  bool verify = true;
};

// Builds a Graph from `def`: parses input references, converts attributes and constant
// tensors (reading external data), and verifies. Errors name the node, attribute or
// signature entry.
absl::StatusOr<Graph> GraphFromProto(const proto::GraphDef& def, const ImportOptions& options = {});

struct ExportOptions {
  // Tensors of at least this many bytes are written to `external_data_path` instead of
  // inline (0: everything inline).
  int64_t external_data_threshold = 0;
  // File that receives external tensors (created or truncated), and the location string
  // recorded for it in the GraphDef (normally its file name, beside the graph).
  std::string external_data_path;
  std::string external_data_location;
};

// Writes `graph` as a GraphDef; lossless for every node, attribute and tensor.
absl::StatusOr<proto::GraphDef> GraphToProto(const Graph& graph, const ExportOptions& options = {});

// Tensor <-> TensorProto with inline data. `what` names the tensor in errors.
absl::StatusOr<Tensor> TensorFromProto(const proto::TensorProto& proto,
                                       const std::string& external_data_dir,
                                       absl::string_view what);
proto::TensorProto TensorToProto(const Tensor& tensor);

}  // namespace kiln

#endif  // KILN_GRAPH_PROTO_CONVERT_H_
