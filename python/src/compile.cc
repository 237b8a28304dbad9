#include "python/src/compile.h"

#include <pybind11/stl.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "graph/graph_io.h"
#include "graph/onnx/model_file.h"
#include "graph/onnx/onnx_importer.h"
#include "python/src/errors.h"
#include "runtime/artifact.h"
#include "runtime/compile_artifact.h"

namespace kiln::python {
namespace py = pybind11;
namespace {

absl::Status Prefixed(const std::string& path, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
}

// As `kiln compile MODEL -o OUTPUT --batch ... -O<level>` (tools/cli/compile.cc).
absl::Status CompileModel(const std::string& model, const std::string& output,
                          const std::vector<int64_t>& batch_sizes, int opt_level) {
  ASSIGN_OR_RETURN(Graph graph, LoadModel(model));  // errors name the path
  CompileOptions options;
  options.optimization_level = opt_level;
  absl::StatusOr<ArtifactContents> contents = CompileArtifact(
      graph, options, batch_sizes, std::filesystem::path(model).filename().string());
  if (!contents.ok()) return Prefixed(model, contents.status());
  return WriteArtifact(*contents, output);
}

// As `kiln import MODEL.onnx -o OUTPUT` (tools/cli/import.cc).
absl::Status ImportModel(const std::string& onnx_path, const std::string& output) {
  ASSIGN_OR_RETURN(onnx::ModelProto model, ReadOnnxModel(onnx_path));  // errors name the path
  OnnxImportOptions options;
  std::string dir = std::filesystem::path(onnx_path).parent_path().string();
  options.external_data_dir = dir.empty() ? "." : dir;
  absl::StatusOr<Graph> graph = ImportOnnxModel(model, options);
  if (!graph.ok()) return Prefixed(onnx_path, graph.status());
  return SaveGraph(*graph, output);
}

}  // namespace

void BindCompile(py::module_& module) {
  module.def(
      "_compile",
      [](const std::string& model, const std::string& output, const std::vector<int64_t>& batch,
         int opt_level) {
        absl::Status status;
        {
          py::gil_scoped_release release;  // compiling takes seconds
          status = CompileModel(model, output, batch, opt_level);
        }
        ThrowIfError(status);
      },
      py::arg("model_path"), py::arg("output_path"), py::arg("batch"), py::arg("opt_level"));
  module.def(
      "_import_onnx",
      [](const std::string& onnx_path, const std::string& output) {
        absl::Status status;
        {
          py::gil_scoped_release release;
          status = ImportModel(onnx_path, output);
        }
        ThrowIfError(status);
      },
      py::arg("onnx_path"), py::arg("output_path"));
}

}  // namespace kiln::python
