// `kiln opt GRAPH (--passes=a,b | -O0/-O1/-O2) [-o OUT] [--print] [--verbose]
// [--dump-after-each DIR] [--disable NAME] [--list-passes] [--emit STAGE [--cluster N]]`.
#include "tools/cli/opt.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "graph/graph_io.h"
#include "base/status_macros.h"
#include "graph/text_format.h"
#include "passes/default_pipeline.h"
#include "passes/graph_stats.h"
#include "passes/pipeline.h"
#include "passes/registry.h"
#include "tools/cli/command.h"
#include "tools/cli/emit_kernels.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_model.h"
#include "tools/cli/session_flags.h"

namespace kiln::cli {
namespace {

constexpr absl::string_view kHelp = R"help(Usage: kiln opt GRAPH [--passes=a,b,... | -O0 | -O1 | -O2] [-o OUT] [flags]
       kiln opt --list-passes

Runs graph optimization passes on GRAPH (.onnx: an ONNX model; .kgraph: Kiln's
text form; .pbtxt/.txt: text GraphDef; anything else: binary GraphDef) and
writes the result.

Flags:
  --passes=LIST          comma-separated passes to run in order (see --list-passes)
  -O0, -O1, -O2          no passes, canonicalization only, or the default pipeline
                         (default -O2 when --passes is not given)
  -o OUT, --output OUT   write the optimized graph to OUT (format by extension, as GRAPH)
  --print                print the optimized graph in the text form to stdout
                         (constants of more than 16 values elided)
  --verbose              print per-pass time, changed or not, and node count to stderr,
                         then node, kernel, fusion and transpose counts before and after
  --dump-after-each DIR  write the graph after each pass to DIR as NNN-PASS.kgraph and
                         NNN-PASS.dot (DIR is created)
  --disable NAME         skip pass NAME (may be repeated)
  --fixed-point N        with --passes: repeat the list until nothing changes, at most N
                         rounds (default 1: once)
  --debug                print every rewrite decision with its reason to stderr
  --list-passes          list the passes and exit
  --emit STAGE           print the generated kernel of each Fusion cluster and row
                         kernel (Softmax, LayerNorm) at STAGE: mlir (linalg or scf
                         on tensors), loops (fused, bufferized loops),
                         llvm-dialect, llvm (LLVM IR after -O3 for this CPU) or asm;
                         with --dump-after-each, DIR also gets each cluster's
                         module after every lowering pass
  --cluster N            with --emit: only cluster N (0-based, topological order)
  --batch N              with --emit: size of every -1 input dimension (default 1)

The graph is verified after every pass; an error names the pass that broke it.
)help";

// The command's help with the ONNX import flags it shares with the other commands.
const std::string& Help() {
  static const std::string* help = ComposeHelp({kHelp, kImportFlagsHelp});
  return *help;
}

bool HasSuffix(const std::string& path, absl::string_view suffix) {
  return absl::EndsWith(path, suffix);
}

int OptMain(absl::Span<const std::string> raw_args, std::ostream& out, std::ostream& err) {
  // -O0/-O1/-O2 and -o are single-dash forms; map them before the long-flag parser.
  std::string level;
  absl::StatusOr<std::vector<std::string>> leveled = TakeOptimizationLevel(raw_args, &level);
  if (!leveled.ok()) return UsageError(err, leveled.status().message());
  std::vector<std::string> args;
  for (const std::string& a : *leveled) args.push_back(a == "-o" ? "--output" : a);
  std::string passes, output, dump_dir;
  std::vector<std::string> disabled;
  bool print = false, verbose = false, list = false, debug = false;
  int64_t fixed_point = 1;
  std::string emit;
  EmitRequest emit_request;
  FlagSet flags("kiln opt");
  flags.AddString("emit", &emit);
  flags.AddInt64("cluster", &emit_request.cluster, 0, std::numeric_limits<int32_t>::max());
  flags.AddInt64("batch", &emit_request.batch, 0, std::numeric_limits<int32_t>::max());
  flags.AddString("passes", &passes);
  flags.AddString("output", &output);
  flags.AddString("dump-after-each", &dump_dir);
  flags.AddStringList("disable", &disabled);
  ImportFlags import_flags;
  AddImportFlags(flags, &import_flags);
  flags.AddBool("print", &print);
  flags.AddBool("verbose", &verbose);
  flags.AddBool("debug", &debug);
  flags.AddBool("list-passes", &list);
  flags.AddInt64("fixed-point", &fixed_point, 1, 1000);
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) return UsageError(err, positional.status().message());
  if (flags.help_requested()) {
    out << Help();
    return kExitOk;
  }
  if (list) {
    out << ListPassesText();
    return kExitOk;
  }
  if (positional->size() != 1) {
    return UsageError(err, absl::StrCat("'kiln opt' takes one graph file, got ",
                                        positional->size(), " arguments"));
  }
  if (!emit.empty()) {
    absl::StatusOr<codegen::EmitStage> stage = codegen::ParseEmitStage(emit);
    if (!stage.ok()) return UsageError(err, stage.status().message());
    emit_request.stage = *stage;
    emit_request.dump_dir = dump_dir;
  }
  if (!passes.empty() && !level.empty()) {
    return UsageError(err, "give either --passes or an -O level, not both");
  }
  for (const std::string& name : disabled) {
    if (passes::FindPass(name) == nullptr) {
      return UsageError(err, absl::StrCat("--disable: unknown pass '", name, "'"));
    }
  }
  passes::PassOptions pass_options;
  pass_options.debug = debug;
  pass_options.debug_stream = &err;
  passes::PipelineOptions pipeline_options;
  pipeline_options.verify_each = true;
  pipeline_options.verbose = verbose;
  pipeline_options.log = &err;
  pipeline_options.disabled.insert(disabled.begin(), disabled.end());
  if (!dump_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(dump_dir, error);
    if (error) {
      return Failure(err, absl::PermissionDeniedError(
                              absl::StrCat("cannot create directory '", dump_dir, "'")));
    }
    pipeline_options.dump_dir = dump_dir;
  }

  passes::Pipeline pipeline(pipeline_options);
  if (!passes.empty()) {
    absl::StatusOr<std::vector<std::unique_ptr<passes::Pass>>> list_passes =
        passes::CreatePasses(passes, pass_options);
    if (!list_passes.ok()) return UsageError(err, list_passes.status().message());
    if (fixed_point > 1) {
      pipeline.AddFixedPoint("passes", std::move(*list_passes), static_cast<int>(fixed_point));
    } else {
      for (auto& pass : *list_passes) pipeline.AddPass(std::move(pass));
    }
  } else if (level == "0") {
    // nothing to run
  } else if (level == "1") {
    pipeline = passes::BuildCanonicalizePipeline(pass_options, pipeline_options);
  } else {
    pipeline = passes::BuildDefaultPipeline(pass_options, pipeline_options);
  }

  absl::StatusOr<Graph> graph = LoadModel((*positional)[0], import_flags);
  if (!graph.ok()) return Failure(err, graph.status());
  passes::GraphStats before = passes::ComputeGraphStats(*graph);
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<bool> changed = pipeline.Run(*graph);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!changed.ok()) return Failure(err, changed.status());
  if (verbose) {
    err << "before: " << before.ToString() << "\n";
    err << "after:  " << passes::ComputeGraphStats(*graph).ToString() << "\n";
    err << absl::StrFormat("pipeline: %.3f ms\n", seconds * 1e3);
  }
  if (!output.empty()) {
    absl::Status saved = SaveAnyGraph(*graph, output);
    if (!saved.ok()) return Failure(err, saved);
  }
  if (!emit.empty()) {
    absl::Status emitted = EmitKernels(*graph, emit_request, out);
    if (!emitted.ok()) return Failure(err, emitted);
  }
  if (print) {
    TextPrintOptions print_options;
    print_options.max_inline_elements = 16;
    out << PrintGraph(*graph, print_options);
  }
  return kExitOk;
}

}  // namespace

absl::Status SaveAnyGraph(const Graph& graph, const std::string& path) {
  if (!HasSuffix(path, ".kgraph")) return SaveGraph(graph, path);
  std::ofstream out(path, std::ios::trunc);
  out << PrintGraph(graph);
  out.flush();
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write '", path, "'"));
  return absl::OkStatus();
}

std::string ListPassesText() {
  size_t width = 0;
  for (const passes::PassInfo& info : passes::AllPasses()) width = std::max(width, info.name.size());
  std::string text;
  for (const passes::PassInfo& info : passes::AllPasses()) {
    absl::StrAppend(&text, info.name, std::string(width - info.name.size() + 2, ' '),
                    info.summary, "\n");
  }
  return text;
}

const Command& OptCommand() {
  static const Command command{"opt", "run graph optimization passes and write the result",
                               Help(), OptMain};
  return command;
}

}  // namespace kiln::cli
