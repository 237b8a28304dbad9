// The importer's command-line flags (graph/onnx/model_file.cc reads the model).
#include "tools/cli/load_model.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

absl::StatusOr<Graph> LoadModel(const std::string& path, const ImportFlags& flags) {
  absl::StatusOr<OnnxImportOptions> options = ImportOptionsFromFlags(flags);
  if (!options.ok()) return options.status();
  return kiln::LoadModel(path, *options);
}

}  // namespace kiln::cli
