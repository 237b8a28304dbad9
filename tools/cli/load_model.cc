// Reading a model for a `kiln` command in any of the formats Kiln accepts.
#include "tools/cli/load_model.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "graph/graph_io.h"
#include "graph/text_format.h"
#include "tools/npy.h"

namespace kiln::cli {

const char kImportFlagsHelp[] = R"help(ONNX models (.onnx) are imported in memory as 'kiln import' does; its flags:
  --input-shape NAME=D0,D1,...
                         give input NAME these dimensions instead of its
                         symbolic ones (-1 keeps one unknown)
  --freeze NAME=FILE.npy replace input NAME by the constant in FILE.npy
  --no-fold              keep nodes whose inputs are all constants
)help";

void AddImportFlags(FlagSet& flags, ImportFlags* import) {
  flags.AddStringList("freeze", &import->freeze);
  flags.AddStringList("input-shape", &import->input_shapes);
  flags.AddBool("no-fold", &import->no_fold);
}

absl::StatusOr<OnnxImportOptions> ImportOptionsFromFlags(const ImportFlags& flags) {
  OnnxImportOptions options;
  options.fold_constants = !flags.no_fold;
  for (const std::string& flag : flags.freeze) {
    size_t eq = flag.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size()) {
      return absl::InvalidArgumentError(absl::StrCat("--freeze '", flag, "' is not NAME=FILE.npy"));
    }
    absl::StatusOr<Tensor> value = ReadNpy(flag.substr(eq + 1));
    if (!value.ok()) return value.status();
    options.frozen_inputs[flag.substr(0, eq)] = *std::move(value);
  }
  for (const std::string& flag : flags.input_shapes) {
    size_t eq = flag.find('=');
    std::vector<int64_t> dims;
    bool ok = eq != std::string::npos && eq > 0 && eq + 1 < flag.size();
    if (ok) {
      for (absl::string_view part : absl::StrSplit(flag.substr(eq + 1), ',')) {
        int64_t d = 0;
        ok = ok && absl::SimpleAtoi(part, &d) && d >= -1;
        dims.push_back(d);
      }
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("--input-shape '", flag, "' is not NAME=D0,D1,..."));
    }
    options.input_shapes[flag.substr(0, eq)] = Shape(dims);
  }
  return options;
}

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
    if (!graph.ok()) {
      return absl::Status(graph.status().code(),
                          absl::StrCat(path, ": ", graph.status().message()));
    }
    return graph;
  }
  if (!absl::EndsWith(path, ".kgraph")) return LoadGraph(path);
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open '", path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<Graph> graph = ParseGraph(text.str());
  if (!graph.ok()) {
    return absl::Status(graph.status().code(), absl::StrCat(path, ": ", graph.status().message()));
  }
  return graph;
}

absl::StatusOr<Graph> LoadModel(const std::string& path, const ImportFlags& flags) {
  absl::StatusOr<OnnxImportOptions> options = ImportOptionsFromFlags(flags);
  if (!options.ok()) return options.status();
  return LoadModel(path, *options);
}

}  // namespace kiln::cli
