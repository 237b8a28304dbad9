#include "graph/onnx/model_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "graph/graph_io.h"
#include "graph/text_format.h"

namespace kiln {
namespace {

absl::Status Prefixed(const std::string& path, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
}

}  // namespace

bool IsOnnxPath(const std::string& path) { return absl::EndsWithIgnoreCase(path, ".onnx"); }

absl::StatusOr<Graph> LoadModel(const std::string& path, const OnnxImportOptions& import) {
  if (IsOnnxPath(path)) {
    absl::StatusOr<onnx::ModelProto> model = ReadOnnxModel(path);  // errors name the path
    if (!model.ok()) return model.status();
    OnnxImportOptions options = import;
    if (options.external_data_dir.empty()) {
      std::string dir = std::filesystem::path(path).parent_path().string();
      options.external_data_dir = dir.empty() ? "." : dir;
    }
    absl::StatusOr<Graph> graph = ImportOnnxModel(*model, options);
    if (!graph.ok()) return Prefixed(path, graph.status());
    return graph;
  }
  if (!absl::EndsWith(path, ".kgraph")) return LoadGraph(path);
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open '", path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<Graph> graph = ParseGraph(text.str());
  if (!graph.ok()) return Prefixed(path, graph.status());
  return graph;
}

}  // namespace kiln
