// Loading the model a `kiln` command works on: a GraphDef (.pb, .pbtxt), the kgraph text
// form (.kgraph) or an ONNX model (.onnx, imported in memory), with the importer's flags
// shared by every command that takes a model.
#ifndef KILN_TOOLS_CLI_LOAD_MODEL_H_
#define KILN_TOOLS_CLI_LOAD_MODEL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "graph/onnx/model_file.h"
#include "graph/onnx/onnx_importer.h"
#include "tools/cli/flags.h"

namespace kiln::cli {

// The ONNX importer's options as command-line flags (--freeze, --input-shape, --no-fold).
struct ImportFlags {
  std::vector<std::string> freeze;        // NAME=FILE.npy
  std::vector<std::string> input_shapes;  // NAME=D0,D1,...
  bool no_fold = false;
};

// Declares the flags on `flags`, bound to `import`.
void AddImportFlags(FlagSet& flags, ImportFlags* import);

// The help text of those flags, for a command's --help.
extern const char kImportFlagsHelp[];

// The importer options the flags ask for (reads the --freeze files). Errors: a malformed
// flag is InvalidArgument naming it ("--freeze 'x' is not NAME=FILE.npy"); an unreadable
// file keeps the .npy reader's error.
absl::StatusOr<OnnxImportOptions> ImportOptionsFromFlags(const ImportFlags& flags);

using ::kiln::IsOnnxPath;
using ::kiln::LoadModel;  // graph/onnx/model_file.h

// LoadModel with the importer options from `flags` (ImportOptionsFromFlags's errors).
absl::StatusOr<Graph> LoadModel(const std::string& path, const ImportFlags& flags);

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_LOAD_MODEL_H_
