// `kiln run GRAPH --input NAME=FILE.npy|random ... --output DIR`: runs a graph file in a
// Session (default kernel library) and writes every output as .npy.
#include "tools/cli/run.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>
#include <system_error>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "graph/graph_io.h"
#include "base/status_macros.h"
#include "runtime/session.h"
#include "tools/cli/command.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_model.h"
#include "tools/cli/run_debug.h"
#include "tools/cli/session_flags.h"
#include "tools/npy.h"

namespace kiln::cli {
namespace {

constexpr absl::string_view kHelp = R"help(Usage: kiln run GRAPH --input NAME=FILE.npy|NAME=random [--input ...]
                [--seed N] [--batch N] [--output DIR] [--check] [--trace]

Runs the graph file or ONNX model GRAPH in a Session (the default kernel
library), prints a summary of every graph output and, with --output, writes
each to DIR as a .npy file.

Flags:
  --input NAME=FILE.npy  feed graph input NAME from a .npy file; its dtype must
                         equal the declared one and its shape match the declared
                         shape (-1 takes any size)
  --input NAME=random    feed random values: floats from a standard normal
                         distribution, integers uniform in [0, 9], bools 0 or 1;
                         -1 dimensions are set to --batch (write ./random for a
                         file named "random")
                         Every graph input must be given exactly once.
  --seed N               seed of the random feeds (default 0); an input's values
                         depend only on the seed, its name, dtype and shape
  --batch N              size of the -1 dimensions of random feeds (default 1)
  --output DIR           directory receiving the outputs, created if missing
  --check                also run the reference interpreter on the optimized graph
                         and compare every computed tensor, node by node; fails
                         naming the first node (and output) beyond the dtype's
                         tolerance with the worst element and both values
  --trace                print min, max, mean and NaN/Inf counts of every computed
                         tensor in execution order; fails at the first NaN or Inf,
                         naming the node

With --output, output NAME is written to DIR/NAME.npy, with characters other
than A-Z a-z 0-9 _ . - in NAME replaced by _; bf16 outputs are written as
float32 ('<f4'), which is exact. One line per output is printed:
  NAME DTYPE[SHAPE] min=MIN max=MAX mean=MEAN values=[V0, V1, ...]
with the first 6 values (", ..." when there are more). min, max and mean are
"nan" when any value is NaN, "-" when the output is empty.
)help";

// The command's help with the ONNX import flags it shares with the other commands.
const std::string& Help() {
  static const std::string* help = ComposeHelp({kHelp, kSessionFlagsHelp, kImportFlagsHelp});
  return *help;
}

int RunMain(absl::Span<const std::string> raw_args, std::ostream& out, std::ostream& err) {
  SessionFlags session_flags;
  absl::StatusOr<std::vector<std::string>> args =
      TakeOptimizationLevel(raw_args, &session_flags.level);
  if (!args.ok()) return UsageError(err, args.status().message());
  std::vector<std::string> input_flags;
  int64_t seed = 0;
  int64_t batch = 1;
  std::string output_dir;
  FlagSet flags("kiln run");
  flags.AddStringList("input", &input_flags);
  flags.AddInt64("seed", &seed, 0, std::numeric_limits<int64_t>::max());
  flags.AddInt64("batch", &batch, 0, kMaxElements);
  flags.AddString("output", &output_dir);
  bool check = false;
  bool trace = false;
  flags.AddBool("check", &check);
  flags.AddBool("trace", &trace);
  ImportFlags import_flags;
  AddImportFlags(flags, &import_flags);
  AddSessionFlags(flags, &session_flags);
  std::string argument;
  if (std::optional<int> exit =
          ParseOneArgument(flags, *args, Help(), "one graph file", &argument, out, err)) {
    return *exit;
  }
  if (flags.WasSet("output") && output_dir.empty()) {
    return UsageError(err, "--output needs a directory");
  }
  absl::StatusOr<std::vector<InputSpec>> specs = ParseInputSpecs(input_flags);
  if (!specs.ok()) return UsageError(err, specs.status().message());

  absl::StatusOr<SessionOptions> session_options = SessionOptionsFromFlags(session_flags, 0);
  if (!session_options.ok()) return UsageError(err, session_options.status().message());

  const std::string& path = argument;
  absl::StatusOr<Graph> graph = LoadModel(path, import_flags);
  if (!graph.ok()) return Failure(err, graph.status());

  // Match the specs against the signature before reading any file.
  std::vector<std::string> input_names;
  for (int id : graph->inputs()) input_names.push_back(graph->node(id).name);
  absl::Status names_ok = CheckInputNames(*specs, input_names, "graph");
  if (!names_ok.ok()) return Failure(err, names_ok);
  Feeds feeds;
  for (int id : graph->inputs()) {
    const Node& input = graph->node(id);
    const InputSpec* spec = FindInputSpec(*specs, input.name);
    if (spec == nullptr) {
      return Failure(err, absl::InvalidArgumentError(absl::StrCat(
                              "input '", input.name, "' is not given; pass --input ", input.name,
                              "=FILE.npy or --input ", input.name, "=random")));
    }
    absl::StatusOr<Tensor> tensor = LoadInput(*spec, input.outputs[0].dtype,
                                              input.outputs[0].shape, batch,
                                              static_cast<uint64_t>(seed));
    if (!tensor.ok()) return Failure(err, tensor.status());
    feeds.emplace_back(input.name, *std::move(tensor));
  }

  // With --output: two outputs must not overwrite one another's file, and the directory
  // must exist before anything runs.
  absl::flat_hash_map<std::string, std::string> file_owner;
  std::error_code error;
  if (!output_dir.empty()) {
    for (const GraphOutput& output : graph->outputs()) {
      std::string file = OutputFileName(output.name);
      auto [it, inserted] = file_owner.emplace(file, output.name);
      if (!inserted) {
        return Failure(err, absl::InvalidArgumentError(
                                absl::StrCat("outputs '", it->second, "' and '", output.name,
                                             "' would both be written to ", file)));
      }
    }
    std::filesystem::create_directories(output_dir, error);
  }
  if (!output_dir.empty() && (error || !std::filesystem::is_directory(output_dir))) {
    return Failure(err, absl::PermissionDeniedError(absl::StrCat(
                            "cannot create output directory '", output_dir,
                            "': ", error ? error.message() : "a file of that name exists")));
  }

  std::vector<std::string> output_names;
  for (const GraphOutput& output : graph->outputs()) output_names.push_back(output.name);
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(*std::move(graph), *session_options);
  if (!session.ok()) return Failure(err, session.status());
  if (check) {
    absl::Status checked = CheckAgainstReference(**session, feeds, out);
    if (!checked.ok()) return Failure(err, checked);
  }
  if (trace) {
    absl::Status traced = TraceValues(**session, feeds, out);
    if (!traced.ok()) return Failure(err, traced);
  }
  absl::StatusOr<std::vector<Tensor>> results = (*session)->Run(feeds);
  if (!results.ok()) return Failure(err, results.status());

  for (size_t i = 0; i < results->size(); ++i) {
    if (!output_dir.empty()) {
      std::string file =
          (std::filesystem::path(output_dir) / OutputFileName(output_names[i])).string();
      absl::Status written = WriteNpy((*results)[i], file);
      if (!written.ok()) return Failure(err, written);
    }
    out << SummarizeTensor(output_names[i], (*results)[i]) << "\n";
  }
  return kExitOk;
}

}  // namespace

const Command& RunCommand() {
  static const Command command{
      "run", "run a graph and save its outputs as .npy", Help(),
      RunMain};
  return command;
}

}  // namespace kiln::cli
