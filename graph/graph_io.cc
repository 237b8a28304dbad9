#include "graph/graph_io.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace kiln {
namespace {

// Collects the first text-format error instead of letting protobuf log it.
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (error_.empty())
      error_ = absl::StrCat("line ", line + 1, ", column ", column + 1, ": ", message);
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool IsTextGraphPath(absl::string_view path) {
  return absl::EndsWith(path, ".pbtxt") || absl::EndsWith(path, ".txt");
}

absl::StatusOr<proto::GraphDef> ParseGraphDef(absl::string_view bytes, bool text) {
  proto::GraphDef def;
  if (text) {
    google::protobuf::TextFormat::Parser parser;
    FirstErrorCollector errors;
    parser.RecordErrorsTo(&errors);
    if (!parser.ParseFromString(std::string(bytes), &def)) {
      return absl::InvalidArgumentError(absl::StrCat("malformed text GraphDef: ", errors.error()));
    }
    return def;
  }
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError(
        "binary GraphDef is larger than 2 GiB; keep weights in external data");
  }
  if (!def.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("malformed binary GraphDef (not a valid protobuf message)");
  }
  return def;
}

absl::StatusOr<proto::GraphDef> LoadGraphDef(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open graph file '", path, "'"));
  // A directory opens, then reads as no bytes: an empty GraphDef.
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is a directory, not a graph file"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("reading '", path, "' failed"));
  absl::StatusOr<proto::GraphDef> def = ParseGraphDef(buffer.str(), IsTextGraphPath(path));
  if (!def.ok()) {
    return absl::Status(def.status().code(), absl::StrCat(path, ": ", def.status().message()));
  }
  return def;
}

absl::Status SaveGraphDef(const proto::GraphDef& def, const std::string& path) {
  std::string bytes;
  if (IsTextGraphPath(path)) {
    if (!google::protobuf::TextFormat::PrintToString(def, &bytes)) {
      return absl::InternalError("text serialization of the GraphDef failed");
    }
  } else if (!def.SerializeToString(&bytes)) {
    return absl::InvalidArgumentError(
        "binary serialization failed (over 2 GiB? keep weights in external data)");
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write '", path, "'"));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) return absl::DataLossError(absl::StrCat("writing '", path, "' failed"));
  return absl::OkStatus();
}

absl::StatusOr<Graph> LoadGraph(const std::string& path) {
  ASSIGN_OR_RETURN(proto::GraphDef def, LoadGraphDef(path));
  ImportOptions options;
  options.external_data_dir = DirectoryOf(path);
  absl::StatusOr<Graph> graph = GraphFromProto(def, options);
  if (!graph.ok()) {
    return absl::Status(graph.status().code(), absl::StrCat(path, ": ", graph.status().message()));
  }
  return graph;
}

absl::Status SaveGraph(const Graph& graph, const std::string& path,
                       int64_t external_data_threshold) {
  ExportOptions options;
  if (external_data_threshold > 0) {
    options.external_data_threshold = external_data_threshold;
    options.external_data_path = absl::StrCat(path, ".data");
    options.external_data_location = BaseName(options.external_data_path);
  }
  ASSIGN_OR_RETURN(proto::GraphDef def, GraphToProto(graph, options));
  return SaveGraphDef(def, path);
}

}  // namespace kiln
