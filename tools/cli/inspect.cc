// `kiln inspect GRAPH [--batch N] [--memory]`: summary of a graph file, or its static
// memory plan, for humans (and golden tests).
#include "tools/cli/inspect.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "graph/bind_shapes.h"
#include "graph/fusion.h"
#include "graph/graph_io.h"
#include "graph/op_registry.h"
#include "graph/shape_inference.h"
#include "base/status_macros.h"
#include "base/tensor.h"
#include "runtime/default_provider.h"
#include "runtime/build_plan.h"
#include "runtime/plan.h"
#include "tools/cli/command.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_model.h"

namespace kiln::cli {
namespace {

constexpr absl::string_view kHelp = R"help(Usage: kiln inspect GRAPH [--batch N] [--memory]

Prints a summary of the graph file GRAPH (.onnx: an ONNX model; .kgraph: Kiln's
text form; .pbtxt or .txt: text GraphDef; any other name: binary GraphDef).

Flags:
  --batch N   size bound to every unknown (-1) input dimension when counting
              FLOPs or planning memory (default 1)
  --memory    print the static memory plan of a run instead of the summary

Output, one item per line; list entries are indented by two spaces and their
columns separated by two or more spaces:
  graph: GRAPH
  inputs: COUNT
    NAME  DTYPE[SHAPE]          declared shape; -1 is bound at run time
  outputs: COUNT
    NAME  DTYPE[SHAPE]          inferred shape
  ops: COUNT types
    OP  NODES                   most frequent first, ties by name
  nodes: COUNT
  parameters: E elements, B bytes
                                total size of the Constant tensors
  flops: F [at batch N]         sum of every node's FLOP count; "at batch N"
                                when some input has unknown dimensions
  flops: unknown at batch N (REASON)
                                when the shapes cannot be bound at N
Numbers of 1000 or more are followed by a rounded form in parentheses:
"(25.6M)" elements, "(97.5 MiB)", "(4.09 GFLOP)".

With --memory, the plan a Session makes for one run with every graph output
fetched and kept in the arena (kernels from the default kernel library; the
weights live in a separate region and are not counted):
  arena: N bytes                the arena one run needs
  naive: N bytes                every intermediate in its own 64-byte-aligned
                                buffer
  lower bound: N bytes          the most bytes live at one step: no placement
                                of this schedule needs less
  largest live step: S of T, node 'NAME' (OP), K tensors
    NAME  DTYPE[SHAPE]  N bytes  the tensors live at that step, largest first
)help";

// The command's help with the ONNX import flags it shares with the other commands.
const std::string& Help() {
  static const std::string* help = ComposeHelp({kHelp, kImportFlagsHelp});
  return *help;
}

// " (25.6M)", " (4.09 GFLOP)": three significant digits with an SI prefix; empty below
// 1000. Values are scaled below 999.5 so %.3g never switches to exponent notation.
std::string Rounded(int64_t n, absl::string_view unit) {
  static constexpr const char* kPrefixes[] = {"K", "M", "G", "T", "P", "E"};
  if (n < 1000) return "";
  double value = static_cast<double>(n);
  int i = -1;
  while (value >= 999.5 && i < 5) {
    value /= 1000;
    ++i;
  }
  return absl::StrFormat(" (%.3g%s%s%s)", value, unit.empty() ? "" : " ", kPrefixes[i], unit);
}

// " (97.5 MiB)": the same with binary prefixes; empty below 1024.
std::string RoundedBytes(int64_t n) {
  static constexpr const char* kPrefixes[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (n < 1024) return "";
  double value = static_cast<double>(n);
  int i = -1;
  while (value >= 999.5 && i < 5) {
    value /= 1024;
    ++i;
  }
  return absl::StrFormat(" (%.3g %s)", value, kPrefixes[i]);
}

// Rows of two columns, the first padded so the second lines up.
std::string Table(const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  std::string out;
  for (const auto& [left, right] : rows) {
    absl::StrAppend(&out, "  ", left, std::string(width - left.size() + 2, ' '), right, "\n");
  }
  return out;
}

int InspectMain(absl::Span<const std::string> args, std::ostream& out, std::ostream& err) {
  int64_t batch = 1;
  bool memory = false;
  FlagSet flags("kiln inspect");
  flags.AddInt64("batch", &batch, 0, kMaxElements);
  flags.AddBool("memory", &memory);
  ImportFlags import_flags;
  AddImportFlags(flags, &import_flags);
  std::string argument;
  if (std::optional<int> exit =
          ParseOneArgument(flags, args, Help(), "one graph file", &argument, out, err)) {
    return *exit;
  }
  const std::string& path = argument;
  absl::StatusOr<Graph> graph = LoadModel(path, import_flags);
  if (!graph.ok()) return Failure(err, graph.status());
  if (memory) {
    absl::StatusOr<std::string> report = MemoryReport(*graph, batch, *DefaultKernelProvider());
    if (!report.ok()) return Failure(err, report.status());
    out << *report;
    return kExitOk;
  }
  out << FormatGraphSummary(SummarizeGraph(*graph, batch), path);
  return kExitOk;
}

// Input shapes with every -1 replaced by `batch`, keyed by input name.
absl::flat_hash_map<std::string, Shape> BatchShapes(const Graph& graph, int64_t batch) {
  absl::flat_hash_map<std::string, Shape> shapes;
  for (int id : graph.inputs()) {
    Shape shape = graph.node(id).outputs[0].shape;
    for (int64_t& d : shape.dims()) {
      if (d == kUnknownDim) d = batch;
    }
    shapes[graph.node(id).name] = shape;
  }
  return shapes;
}

}  // namespace

absl::StatusOr<int64_t> CountFlops(const Graph& graph) {
  int64_t total = 0;
  for (int i = 0; i < graph.num_nodes(); ++i) {
    const Node& node = graph.node(i);
    if (node.def == nullptr) continue;
    std::vector<TensorType> inputs;
    inputs.reserve(node.inputs.size());
    for (const TensorRef& ref : node.inputs) inputs.push_back(graph.type(ref));
    int64_t flops = NodeFlops(node, inputs, node.outputs);  // recurses into fusions
    if (flops < 0) {
      return absl::InternalError(
          absl::StrCat(NodeErrorPrefix(node), "the op reports a negative FLOP count ", flops));
    }
    if (total > std::numeric_limits<int64_t>::max() - flops) {
      return absl::OutOfRangeError("the FLOP count exceeds 2^63");
    }
    total += flops;
  }
  return total;
}

GraphSummary SummarizeGraph(const Graph& graph, int64_t batch) {
  GraphSummary summary;
  summary.batch = batch;
  summary.num_nodes = graph.num_nodes();

  absl::flat_hash_map<std::string, Shape> bound_shapes;
  for (int id : graph.inputs()) {
    const Node& node = graph.node(id);
    TensorType type = node.outputs[0];
    Shape bound = type.shape;
    for (int64_t& d : bound.dims()) {
      if (d == kUnknownDim) {
        d = batch;
        summary.has_unknown_dims = true;
      }
    }
    bound_shapes[node.name] = bound;
    summary.inputs.push_back({node.name, type});
  }
  for (const GraphOutput& output : graph.outputs()) {
    summary.outputs.push_back({output.name, graph.type(output.tensor)});
  }

  absl::flat_hash_map<std::string, int64_t> counts;
  for (const Node& node : graph.nodes()) {
    ++counts[node.op];
    if (node.op == "Constant" && node.HasAttr("value")) {
      const Tensor& value = node.attr<Tensor>("value");
      summary.parameter_elements += value.NumElements();
      summary.parameter_bytes += value.ByteSize();
    }
  }
  summary.op_counts.assign(counts.begin(), counts.end());
  std::sort(summary.op_counts.begin(), summary.op_counts.end(),
            [](const auto& a, const auto& b) {
              return a.second != b.second ? a.second > b.second : a.first < b.first;
            });

  absl::StatusOr<Graph> bound = BindInputShapes(graph, bound_shapes);
  absl::StatusOr<int64_t> flops = bound.ok() ? CountFlops(*bound) : bound.status();
  if (flops.ok()) {
    summary.flops = *flops;
  } else {
    summary.flops_error = std::string(flops.status().message());
  }
  return summary;
}

std::string FormatGraphSummary(const GraphSummary& summary, absl::string_view label) {
  std::string out = absl::StrCat("graph: ", label, "\n");
  std::vector<std::pair<std::string, std::string>> rows;
  absl::StrAppend(&out, "inputs: ", summary.inputs.size(), "\n");
  for (const auto& port : summary.inputs) rows.push_back({port.name, port.type.ToString()});
  absl::StrAppend(&out, Table(rows));
  rows.clear();
  absl::StrAppend(&out, "outputs: ", summary.outputs.size(), "\n");
  for (const auto& port : summary.outputs) rows.push_back({port.name, port.type.ToString()});
  absl::StrAppend(&out, Table(rows));
  rows.clear();
  absl::StrAppend(&out, "ops: ", summary.op_counts.size(), " types\n");
  for (const auto& [op, count] : summary.op_counts) rows.push_back({op, absl::StrCat(count)});
  absl::StrAppend(&out, Table(rows));
  absl::StrAppend(&out, "nodes: ", summary.num_nodes, "\n");
  absl::StrAppend(&out, "parameters: ", summary.parameter_elements, " elements",
                  Rounded(summary.parameter_elements, ""), ", ", summary.parameter_bytes,
                  " bytes", RoundedBytes(summary.parameter_bytes), "\n");
  std::string at_batch =
      summary.has_unknown_dims ? absl::StrCat(" at batch ", summary.batch) : "";
  if (summary.flops) {
    absl::StrAppend(&out, "flops: ", *summary.flops, Rounded(*summary.flops, "FLOP"), at_batch,
                    "\n");
  } else {
    absl::StrAppend(&out, "flops: unknown", at_batch, " (", summary.flops_error, ")\n");
  }
  return out;
}

absl::StatusOr<Plan> PlanForInspection(const Graph& graph, int64_t batch,
                                        const KernelProvider& provider, Graph& bound) {
  ASSIGN_OR_RETURN(bound, BindInputShapes(graph, BatchShapes(graph, batch)));
  std::vector<TensorRef> fetches;
  for (const GraphOutput& output : bound.outputs()) fetches.push_back(output.tensor);
  return BuildPlan(bound, fetches, provider);
}

std::string FormatMemoryReport(const Plan& plan) {
  const MemoryPlan& memory = plan.memory;
  std::string out = absl::StrCat("arena: ", memory.arena_bytes, " bytes\n",
                                 "naive: ", memory.naive_bytes, " bytes\n",
                                 "lower bound: ", memory.lower_bound_bytes, " bytes\n");
  if (memory.peak_step < 0) {
    absl::StrAppend(&out, "largest live step: none (no kernels run)\n");
    return out;
  }
  const PlanStep& step = plan.steps[memory.peak_step];
  absl::StrAppend(&out, "largest live step: ", memory.peak_step, " of ", plan.steps.size(),
                  ", node '", step.node_name, "' (", step.op, "), ", memory.peak_values.size(),
                  " tensors\n");
  // Three columns: name and type padded so the byte counts line up.
  size_t type_width = 0;
  for (int v : memory.peak_values) {
    type_width = std::max(type_width, memory.values[v].type.ToString().size());
  }
  std::vector<std::pair<std::string, std::string>> rows;
  for (int v : memory.peak_values) {
    const PlannedValue& value = memory.values[v];
    std::string type = value.type.ToString();
    rows.push_back({value.name, absl::StrCat(type, std::string(type_width - type.size() + 2, ' '),
                                             value.bytes, " bytes")});
  }
  absl::StrAppend(&out, Table(rows));
  return out;
}

absl::StatusOr<std::string> MemoryReport(const Graph& graph, int64_t batch,
                                         const KernelProvider& provider) {
  Graph bound;
  ASSIGN_OR_RETURN(Plan plan, PlanForInspection(graph, batch, provider, bound));
  return FormatMemoryReport(plan);
}

const Command& InspectCommand() {
  static const Command command{
      "inspect", "print a graph's inputs, outputs, op counts, parameters and FLOPs, or its memory plan", Help(),
      InspectMain};
  return command;
}

}  // namespace kiln::cli
