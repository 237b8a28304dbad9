// `kiln import MODEL.onnx -o GRAPH [--report]`: converts an ONNX model into a Kiln graph
// file, or lists every node the importer cannot convert.
#include <chrono>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "graph/graph_io.h"
#include "graph/onnx/onnx_importer.h"
#include "tools/cli/command.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_model.h"
#include "tools/npy.h"

namespace kiln::cli {
namespace {

constexpr absl::string_view kHelp = R"help(Usage: kiln import MODEL.onnx -o GRAPH [--freeze NAME=FILE.npy ...] [--input-shape NAME=D0,D1,...]
                   [--external-data-threshold BYTES] [--no-fold]
       kiln import MODEL.onnx --report
       kiln import --list-ops

Converts the ONNX model MODEL.onnx (opsets 1 to 17, op by op; external data is
read beside the model; nodes no output depends on are skipped) into the Kiln graph file GRAPH (.pbtxt/.txt: text
GraphDef, else binary). The graph's inputs are the model's inputs that are not
initializers, with symbolic dimensions as -1; its outputs keep the model's
output names. Nodes whose inputs are all constants (shape computations on
static shapes) are folded into constants.

Flags:
  -o, --output GRAPH     the graph file to write
  --freeze NAME=FILE.npy replace graph input NAME by the constant in FILE.npy
                         (for inputs Kiln needs as constants, such as a shape)
  --input-shape NAME=D0,D1,...
                         give graph input NAME these dimensions instead of its
                         symbolic ones (-1 keeps one unknown), so shape
                         computations on it fold to constants
  --external-data-threshold BYTES
                         write constants of at least BYTES bytes to GRAPH.data
                         beside the graph (default 0: all inline)
  --no-fold              keep nodes whose inputs are all constants
  --report               convert nothing; list every node that cannot be
                         converted, one per line: NODE  OP  opset N  REASON,
                         then 'unsupported: N nodes'; exit status 1 when N > 0
  --list-ops             print the supported ONNX ops and their opsets

On success prints one line:
  imported MODEL: N ONNX nodes (opset V) -> M Kiln nodes, I inputs, O outputs;
    read R ms, import C ms, write W ms
(reading and parsing the file, converting and verifying, writing GRAPH).
An unsupported op or attribute is an error naming the node, op type and opset.
)help";

int ImportMain(absl::Span<const std::string> args, std::ostream& out, std::ostream& err) {
  std::string output;
  ImportFlags import_flags;
  int64_t threshold = 0;
  bool report = false;
  bool list_ops = false;
  FlagSet flags("kiln import");
  flags.AddString("output", &output);
  flags.AddShortAlias('o', "output");
  AddImportFlags(flags, &import_flags);
  flags.AddInt64("external-data-threshold", &threshold, 0, std::numeric_limits<int64_t>::max());
  flags.AddBool("report", &report);
  flags.AddBool("list-ops", &list_ops);
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) return UsageError(err, positional.status().message());
  if (flags.help_requested()) {
    out << kHelp;
    return kExitOk;
  }
  if (list_ops) {
    for (const std::string& line : OnnxSupportedOps()) out << line << "\n";
    return kExitOk;
  }
  if (positional->size() != 1) {
    return UsageError(err, absl::StrCat("'kiln import' takes one model file, got ",
                                        positional->size(), " arguments"));
  }
  if (!report && output.empty()) return UsageError(err, "'kiln import' needs -o GRAPH (or --report)");
  const std::string& path = (*positional)[0];

  absl::StatusOr<OnnxImportOptions> parsed = ImportOptionsFromFlags(import_flags);
  if (!parsed.ok()) {
    return parsed.status().code() == absl::StatusCode::kInvalidArgument
               ? UsageError(err, parsed.status().message())
               : Failure(err, parsed.status());
  }
  OnnxImportOptions options = *std::move(parsed);

  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<onnx::ModelProto> model = ReadOnnxModel(path);
  if (!model.ok()) return Failure(err, model.status());
  size_t slash = path.rfind('/');
  options.external_data_dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);

  if (report) {
    absl::StatusOr<std::vector<OnnxUnsupportedNode>> nodes = ListUnsupportedOnnxNodes(*model, options);
    if (!nodes.ok()) return Failure(err, nodes.status());
    std::map<std::string, int> by_op;
    for (const OnnxUnsupportedNode& n : *nodes) {
      out << n.node << "  " << n.op_type << "  opset " << n.opset << "  " << n.reason << "\n";
      ++by_op[n.op_type];
    }
    std::vector<std::string> ops;
    for (const auto& [op, count] : by_op) ops.push_back(absl::StrCat(op, " (", count, ")"));
    out << "unsupported: " << nodes->size() << " nodes"
        << (ops.empty() ? "" : absl::StrCat(": ", absl::StrJoin(ops, ", "))) << "\n";
    return nodes->empty() ? kExitOk : kExitFailure;
  }

  const auto read = std::chrono::steady_clock::now();
  absl::StatusOr<Graph> graph = ImportOnnxModel(*model, options);
  if (!graph.ok()) return Failure(err, graph.status());
  const auto imported = std::chrono::steady_clock::now();
  absl::Status saved = SaveGraph(*graph, output, threshold);
  if (!saved.ok()) return Failure(err, saved);
  const auto written = std::chrono::steady_clock::now();
  auto ms = [](auto from, auto to) {
    return static_cast<int64_t>(std::chrono::duration<double, std::milli>(to - from).count() + 0.5);
  };
  int64_t opset = 0;
  for (const onnx::OperatorSetIdProto& op_set : model->opset_import()) {
    if (op_set.domain().empty() || op_set.domain() == "ai.onnx") opset = op_set.version();
  }
  out << "imported " << path << ": " << model->graph().node_size() << " ONNX nodes (opset " << opset
      << ") -> " << graph->num_nodes() << " Kiln nodes, " << graph->inputs().size() << " inputs, "
      << graph->outputs().size() << " outputs; read " << ms(start, read) << " ms, import "
      << ms(read, imported) << " ms, write " << ms(imported, written) << " ms\n";
  return kExitOk;
}

}  // namespace

const Command& ImportCommand() {
  static const Command command{"import", "convert an ONNX model into a Kiln graph file", kHelp,
                               ImportMain};
  return command;
}

}  // namespace kiln::cli
