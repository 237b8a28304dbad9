// `kiln compile MODEL -o FILE`: compiles a model for one input-shape signature into an
// Executable file, which the runtime core loads and runs without the compiler
// (kiln-runner, and later `kiln serve`).
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "runtime/compile.h"
#include "runtime/executable_proto.h"
#include "tools/cli/command.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_model.h"
#include "tools/cli/session_flags.h"

namespace kiln::cli {
namespace {

constexpr absl::string_view kHelp = R"help(Usage: kiln compile MODEL -o FILE [--batch N] [-O0|-O1|-O2] [--disable PASS]

Compiles the graph file or ONNX model MODEL for one input-shape signature and
writes the Executable (signature, schedule, memory plan, kernels by name and
weights) to FILE. The runtime core loads it without the compiler:
  kiln-runner FILE --input NAME=FILE.npy|random ...

Flags:
  -o FILE, --output FILE  the Executable file to write
  --batch N               size of every -1 input dimension (default 1)

Every kernel must come from a kernel library the loading binary links: an op
the CPU library lacks is an error naming the node. The file cannot carry
generated code yet, so `kiln compile` uses --kernels library by default.
)help";

const std::string& Help() {
  static const std::string* help = ComposeHelp({kHelp, kSessionFlagsHelp, kImportFlagsHelp});
  return *help;
}

int CompileMain(absl::Span<const std::string> raw_args, std::ostream& out, std::ostream& err) {
  SessionFlags session_flags;
  session_flags.kernels = "library";
  absl::StatusOr<std::vector<std::string>> args =
      TakeOptimizationLevel(raw_args, &session_flags.level);
  if (!args.ok()) return UsageError(err, args.status().message());
  std::string output;
  int64_t batch = 1;
  FlagSet flags("kiln compile");
  flags.AddString("output", &output);
  flags.AddShortAlias('o', "output");
  flags.AddInt64("batch", &batch, 0, std::numeric_limits<int32_t>::max());
  ImportFlags import_flags;
  AddImportFlags(flags, &import_flags);
  AddSessionFlags(flags, &session_flags);
  std::string argument;
  if (std::optional<int> exit =
          ParseOneArgument(flags, *args, Help(), "one model file", &argument, out, err)) {
    return *exit;
  }
  if (output.empty()) return UsageError(err, "-o FILE (the Executable to write) is required");
  absl::StatusOr<SessionOptions> session_options = SessionOptionsFromFlags(session_flags, 0);
  if (!session_options.ok()) return UsageError(err, session_options.status().message());

  absl::StatusOr<Graph> graph = LoadModel(argument, import_flags);
  if (!graph.ok()) return Failure(err, graph.status());
  CompileOptions options = session_options->compile;
  options.kernel_provider = session_options->kernel_provider;
  for (int id : graph->inputs()) {
    const Node& input = graph->node(id);
    Shape shape = input.outputs[0].shape;
    for (int64_t& d : shape.dims()) {
      if (d == kUnknownDim) d = batch;
    }
    options.input_shapes[input.name] = shape;
  }
  absl::StatusOr<Executable> executable = Compile(*graph, options);
  if (!executable.ok()) return Failure(err, executable.status());
  absl::Status written = WriteExecutableFile(*executable, output);
  if (!written.ok()) return Failure(err, written);
  const Plan& plan = executable->plan;
  out << "wrote " << output << ": " << plan.steps.size() << " steps, arena "
      << plan.memory.arena_bytes << " bytes, weights " << plan.memory.weights_bytes
      << " bytes\n";
  return kExitOk;
}

}  // namespace

const Command& CompileCommand() {
  static const Command command{"compile", "compile a model into an Executable file", Help(),
                               CompileMain};
  return command;
}

}  // namespace kiln::cli
