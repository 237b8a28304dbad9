// kiln-runner: loads an Executable file (`kiln compile`) and runs it on the runtime core
// alone: no graph, no passes, no compiler. It is the smallest program that serves a
// compiled model, and what //tests/runtime:core_deps_test measures.
//
//   kiln-runner FILE --input NAME=FILE.npy|NAME=random ... [--seed N] [--threads N]
//               [--output DIR]
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/executable_proto.h"
#include "runtime/loaded_executable.h"
#include "runtime/thread_pool.h"
#include "tools/cli/command.h"
#include "tools/cli/flags.h"
#include "tools/cli/tensors.h"
#include "tools/npy.h"

namespace kiln::cli {
namespace {

constexpr char kHelp[] = R"help(Usage: kiln-runner FILE --input NAME=FILE.npy|NAME=random [--input ...]
                   [--seed N] [--threads N] [--output DIR]

Loads the Executable FILE (written by `kiln compile`), verifies it, runs it once
on the runtime core and prints one summary line per output (as `kiln run`).

Flags:
  --input NAME=FILE.npy  feed input NAME from a .npy file of exactly the
                         Executable's input type
  --input NAME=random    random values, as `kiln run` makes them
  --seed N               seed of the random feeds (default 0)
  --threads N            threads, the caller included (default 1)
  --output DIR           write each output to DIR/NAME.npy
)help";

int RunnerMain(absl::Span<const std::string> args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> input_flags;
  int64_t seed = 0;
  int64_t threads = 1;
  std::string output_dir;
  FlagSet flags("kiln-runner");
  flags.AddStringList("input", &input_flags);
  flags.AddInt64("seed", &seed, 0, std::numeric_limits<int64_t>::max());
  flags.AddInt64("threads", &threads, 1, 1024);
  flags.AddString("output", &output_dir);
  std::string argument;
  if (std::optional<int> exit =
          ParseOneArgument(flags, args, kHelp, "one Executable file", &argument, out, err)) {
    return *exit;
  }
  absl::StatusOr<std::vector<InputSpec>> specs = ParseInputSpecs(input_flags);
  if (!specs.ok()) return UsageError(err, specs.status().message());
  absl::StatusOr<Executable> executable = ReadExecutableFile(argument);
  if (!executable.ok()) return Failure(err, executable.status());
  std::vector<std::string> input_names;
  for (const TensorSignature& input : executable->inputs) input_names.push_back(input.name);
  absl::Status names_ok = CheckInputNames(*specs, input_names, "executable");
  if (!names_ok.ok()) return Failure(err, names_ok);

  std::vector<Tensor> inputs;
  for (const TensorSignature& input : executable->inputs) {
    const InputSpec* spec = FindInputSpec(*specs, input.name);
    if (spec == nullptr) {
      return Failure(err, absl::InvalidArgumentError(absl::StrCat(
          "input '", input.name, "' (", input.type.ToString(), ") is not given; pass --input ",
          input.name, "=FILE.npy or =random")));
    }
    absl::StatusOr<Tensor> tensor = LoadInput(*spec, input.type.dtype, input.type.shape, 1,
                                              static_cast<uint64_t>(seed));
    if (!tensor.ok()) return Failure(err, tensor.status());
    inputs.push_back(*std::move(tensor));
  }

  std::unique_ptr<ThreadPool> pool;
  if (threads > 1) pool = std::make_unique<ThreadPool>(static_cast<int>(threads));
  absl::StatusOr<std::unique_ptr<LoadedExecutable>> loaded =
      LoadedExecutable::Load(*std::move(executable), pool.get());
  if (!loaded.ok()) return Failure(err, loaded.status());
  absl::StatusOr<std::vector<Tensor>> outputs = (*loaded)->Run(inputs);
  if (!outputs.ok()) return Failure(err, outputs.status());

  const std::vector<TensorSignature>& names = (*loaded)->executable().outputs;
  if (!output_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(output_dir, error);
    if (error) {
      return Failure(err, absl::PermissionDeniedError(absl::StrCat(
                              "cannot create '", output_dir, "': ", error.message())));
    }
  }
  for (size_t i = 0; i < outputs->size(); ++i) {
    if (!output_dir.empty()) {
      absl::Status written =
          WriteNpy((*outputs)[i], (std::filesystem::path(output_dir) /
                                   OutputFileName(names[i].name)).string());
      if (!written.ok()) return Failure(err, written);
    }
    out << SummarizeTensor(names[i].name, (*outputs)[i]) << "\n";
  }
  return kExitOk;
}

}  // namespace
}  // namespace kiln::cli

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return kiln::cli::RunnerMain(args, std::cout, std::cerr);
}
