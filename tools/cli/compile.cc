// `kiln compile MODEL -o FILE.kiln`: compiles a model into a one-file artifact (one
// Executable per batch size over one copy of the weights), which the runtime core loads
// and runs without the compiler (`kiln run FILE.kiln`, kiln-runner, kiln-serve).
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "runtime/artifact.h"
#include "runtime/compile_artifact.h"
#include "tools/cli/command.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_model.h"
#include "tools/cli/session_flags.h"

namespace kiln::cli {
namespace {

constexpr absl::string_view kHelp = R"help(Usage: kiln compile MODEL -o FILE.kiln [--batch N[,N...]] [-O0|-O1|-O2] [--disable PASS]

Compiles the graph file or ONNX model MODEL and writes an artifact: one file
with an Executable (signature, schedule, memory plan, kernels by name) per
batch size, one copy of the weights (mapped at load, never copied), the
generated kernels' code (one shared object for this CPU) and checksums. The
runtime core loads it without the compiler:
  kiln inspect FILE.kiln      kiln run FILE.kiln ...      kiln bench FILE.kiln
  kiln-runner FILE.kiln ...   kiln serve --model_dir DIR  (DIR/NAME/VERSION/model.kiln)

Flags:
  -o FILE, --output FILE  the artifact to write (replaced atomically)
  --batch N[,N...]        sizes of every -1 input dimension, one Executable
                          each (default 1); ignored for a graph without one

The kernels are those `kiln run` uses: generated for this CPU where the code
generator runs a node, the CPU library elsewhere; the generated code is linked
with the system linker (ld.lld-14). Such an artifact runs on CPUs with the
compiling CPU's features; --kernels library writes one with library kernels
only, which runs wherever the runtime does. Every other kernel must come from
a kernel library the loading binary links: an op the CPU library lacks is an
error naming the node.
)help";

const std::string& Help() {
  static const std::string* help = ComposeHelp({kHelp, kSessionFlagsHelp, kImportFlagsHelp});
  return *help;
}

int CompileMain(absl::Span<const std::string> raw_args, std::ostream& out, std::ostream& err) {
  SessionFlags session_flags;
  absl::StatusOr<std::vector<std::string>> args =
      TakeOptimizationLevel(raw_args, &session_flags.level);
  if (!args.ok()) return UsageError(err, args.status().message());
  std::string output;
  std::string batch_list = "1";
  FlagSet flags("kiln compile");
  flags.AddString("output", &output);
  flags.AddShortAlias('o', "output");
  flags.AddString("batch", &batch_list);
  ImportFlags import_flags;
  AddImportFlags(flags, &import_flags);
  AddSessionFlags(flags, &session_flags);
  std::string argument;
  if (std::optional<int> exit =
          ParseOneArgument(flags, *args, Help(), "one model file", &argument, out, err)) {
    return *exit;
  }
  if (output.empty()) return UsageError(err, "-o FILE (the artifact to write) is required");
  std::vector<int64_t> batch_sizes;
  for (absl::string_view part : absl::StrSplit(batch_list, ',')) {
    int64_t batch = 0;
    if (!absl::SimpleAtoi(part, &batch) || batch < 1 ||
        batch > std::numeric_limits<int32_t>::max()) {
      return UsageError(err, absl::StrCat("--batch: '", part,
                                          "' is not a positive size (--batch 1,8,32)"));
    }
    batch_sizes.push_back(batch);
  }
  absl::StatusOr<SessionOptions> session_options = SessionOptionsFromFlags(session_flags, 0);
  if (!session_options.ok()) return UsageError(err, session_options.status().message());

  absl::StatusOr<Graph> graph = LoadModel(argument, import_flags);
  if (!graph.ok()) return Failure(err, graph.status());
  CompileOptions options = session_options->compile;
  options.kernel_provider = session_options->kernel_provider;
  absl::StatusOr<ArtifactContents> contents = CompileArtifact(
      *graph, options, batch_sizes, std::filesystem::path(argument).filename().string());
  if (!contents.ok()) return Failure(err, contents.status());
  absl::Status written = WriteArtifact(*contents, output);
  if (!written.ok()) return Failure(err, written);
  const Executable& first = contents->executables.front().executable;
  out << "wrote " << output << ": " << contents->executables.size()
      << " executable(s) (batch";
  for (const ArtifactExecutable& e : contents->executables) out << " " << e.batch_size;
  out << "), " << first.plan.steps.size() << " steps, weights "
      << first.plan.memory.weights_bytes << " bytes";
  if (!contents->code.kernels.empty()) {
    out << ", " << contents->code.kernels.size() << " generated kernels ("
        << contents->code.shared_object.size() << " bytes of code)";
  }
  out << "\n";
  return kExitOk;
}

}  // namespace

const Command& CompileCommand() {
  static const Command command{"compile", "compile a model into an Executable file", Help(),
                               CompileMain};
  return command;
}

}  // namespace kiln::cli
