// `kiln bench GRAPH`: times Session::Run on random inputs and prints latency (minimum,
// median, p90, maximum), throughput, GFLOP/s against the FMA peak measured in the same
// run, the compile time, and one JSON line with the figures.
#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "graph/bind_shapes.h"
#include "graph/graph_io.h"
#include "runtime/session.h"
#include "runtime/thread_pool.h"
#include "tools/cli/command.h"
#include "tools/cli/flags.h"
#include "tools/cli/copy_bandwidth.h"
#include "tools/cli/fma_peak.h"
#include "tools/cli/inspect.h"
#include "tools/cli/latency.h"
#include "tools/cli/load_model.h"
#include "tools/cli/session_flags.h"
#include "tools/cli/step_profile.h"
#include "tools/cli/run.h"

namespace kiln::cli {
namespace {

constexpr absl::string_view kHelp = R"help(Usage: kiln bench GRAPH [--batch N] [--iterations N] [--warmup N] [--threads N]
                  [--seed N] [--profile] [--profile-top N]

Runs the graph file or ONNX model GRAPH repeatedly in one Session, on random
inputs made once (as 'kiln run --input NAME=random'), fetching every output into
buffers allocated once, and prints the latency of each Run.

Flags:
  --batch N       size of the -1 input dimensions (default 1)
  --iterations N  timed runs (default 50)
  --warmup N      untimed runs first (default 5)
  --threads N     intra-op threads, the caller included (default: one per core)
  --seed N        seed of the random inputs (default 0)
  --profile       also time every step of the plan and print, after the
                  figures, the time per run of each op and of the slowest
                  steps ('profile by op:' and 'profile step:' lines)
  --profile-top N slowest steps printed with --profile (default 20)

Output:
  graph: GRAPH
  kernels: PROVIDER, threads: N, batch: N, optimization: -ON
  compile: X ms (session X ms, plan X ms)
                  Session::Create (verify, optimize, weights) and the plan
                  for these shapes (schedule, memory, kernels, first arena)
  runs: N after N warm-up runs
  latency min: X ms
  latency median: X ms
  latency p90: X ms
  latency max: X ms
  throughput: X inferences/s   (batch / median; the batch is the first input's
                                leading dimension)
  work: X GFLOP per run, X GFLOP/s at the median, X% of the FMA peak (X GFLOP/s,
        measured just before the runs on the same threads)
  json: {"graph": ..., "threads": N, "batch": N, "optimization": N, "median_ms": X,
         "p90_ms": X, "min_ms": X, "max_ms": X, "throughput": X, "gflop": X,
         "gflops": X, "peak_gflops": X, "peak_fraction": X, "gbytes": X, "gbs": X,
         "copy_gbs": X, "bandwidth_fraction": X, "compile_ms": X}
                  (one line)
)help";

// The command's help with the ONNX import flags it shares with the other commands.
const std::string& Help() {
  static const std::string* help = ComposeHelp({kHelp, kSessionFlagsHelp, kImportFlagsHelp});
  return *help;
}

int BenchMain(absl::Span<const std::string> raw_args, std::ostream& out, std::ostream& err) {
  SessionFlags session_flags;
  absl::StatusOr<std::vector<std::string>> args =
      TakeOptimizationLevel(raw_args, &session_flags.level);
  if (!args.ok()) return UsageError(err, args.status().message());
  int64_t batch = 1;
  int64_t iterations = 50;
  int64_t warmup = 5;
  int64_t threads = 0;
  int64_t seed = 0;
  bool profile = false;
  int64_t profile_top = 20;
  FlagSet flags("kiln bench");
  flags.AddInt64("batch", &batch, 0, kMaxElements);
  flags.AddInt64("iterations", &iterations, 1, 100000000);
  flags.AddInt64("warmup", &warmup, 0, 100000000);
  flags.AddInt64("threads", &threads, 1, 4096);
  flags.AddInt64("seed", &seed, 0, std::numeric_limits<int64_t>::max());
  flags.AddBool("profile", &profile);
  flags.AddInt64("profile-top", &profile_top, 1, 100000);
  ImportFlags import_flags;
  AddImportFlags(flags, &import_flags);
  AddSessionFlags(flags, &session_flags);
  std::string argument;
  if (std::optional<int> exit =
          ParseOneArgument(flags, *args, Help(), "one graph file", &argument, out, err)) {
    return *exit;
  }
  const std::string& path = argument;
  absl::StatusOr<Graph> graph = LoadModel(path, import_flags);
  if (!graph.ok()) return Failure(err, graph.status());

  Feeds feeds;
  for (int id : graph->inputs()) {
    const Node& input = graph->node(id);
    Shape shape = input.outputs[0].shape;
    for (int64_t& d : shape.dims()) {
      if (d == kUnknownDim) d = batch;
    }
    absl::StatusOr<Tensor> tensor =
        RandomTensor(input.outputs[0].dtype, shape, static_cast<uint64_t>(seed), input.name);
    if (!tensor.ok()) {
      return Failure(err, absl::Status(tensor.status().code(),
                                       absl::StrCat("random input '", input.name,
                                                    "': ", tensor.status().message())));
    }
    feeds.emplace_back(input.name, *std::move(tensor));
  }
  std::vector<std::string> fetches;
  for (const GraphOutput& output : graph->outputs()) fetches.push_back(output.name);
  // The model's work at these shapes, counted on the graph as given (before optimization).
  absl::flat_hash_map<std::string, Shape> shapes;
  for (const auto& [name, tensor] : feeds) shapes[name] = tensor.shape();
  absl::StatusOr<Graph> bound = BindInputShapes(*graph, shapes);
  if (!bound.ok()) return Failure(err, bound.status());
  absl::StatusOr<int64_t> flops = CountFlops(*bound);
  if (!flops.ok()) return Failure(err, flops.status());

  absl::StatusOr<SessionOptions> options =
      SessionOptionsFromFlags(session_flags, static_cast<int>(threads));
  if (!options.ok()) return UsageError(err, options.status().message());
  options->profile_steps = profile;
  // Compile time: the Session's creation (verification, optimization, weights) and the
  // plan for these shapes (schedule, memory plan, kernel preparation, first arena).
  auto create_start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(*std::move(graph), *options);
  if (!session.ok()) return Failure(err, session.status());
  auto created = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<TensorType>> types = (*session)->FetchTypes(feeds, fetches);
  if (!types.ok()) return Failure(err, types.status());
  auto planned = std::chrono::steady_clock::now();
  auto elapsed_ms = [](auto from, auto to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
  };
  std::vector<Tensor> outputs;
  for (const TensorType& type : *types) {
    absl::StatusOr<Tensor> buffer = Tensor::Allocate(type.dtype, type.shape);
    if (!buffer.ok()) return Failure(err, buffer.status());
    outputs.push_back(*std::move(buffer));
  }

  for (int64_t i = 0; i < warmup; ++i) {
    absl::Status status = (*session)->Run(feeds, fetches, absl::MakeSpan(outputs));
    if (!status.ok()) return Failure(err, status);
  }
  // The profile counts the timed runs only: first runs touch cold memory.
  const std::vector<StepTime> warmup_profile =
      profile ? (*session)->Profile() : std::vector<StepTime>{};
  const int used_threads =
      threads > 0 ? static_cast<int>(threads) : ThreadPool::DefaultThreadCount();
  const double peak_gflops = MeasureFmaPeakGflops(used_threads, 0.25);
  // The run's unavoidable memory traffic: every input read and every output written once.
  int64_t moved_bytes = 0;
  for (const auto& [name, tensor] : feeds) moved_bytes += tensor.ByteSize();
  for (const Tensor& tensor : outputs) moved_bytes += tensor.ByteSize();
  const double copy_gbs = MeasureCopyBandwidthGbs(used_threads, moved_bytes / 2, 0.25);
  std::vector<double> ms;
  ms.reserve(iterations);
  for (int64_t i = 0; i < iterations; ++i) {
    auto start = std::chrono::steady_clock::now();
    absl::Status status = (*session)->Run(feeds, fetches, absl::MakeSpan(outputs));
    auto end = std::chrono::steady_clock::now();
    if (!status.ok()) return Failure(err, status);
    ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  const LatencySummary latency = SummarizeLatencies(ms);
  const double median = latency.median;
  const double p90 = latency.p90;
  const double compile_ms = elapsed_ms(create_start, planned);
  const double gflop = static_cast<double>(*flops) / 1e9;
  const double gflops = median > 0 ? gflop / (median / 1e3) : 0;
  // Inferences per run: the leading dimension of the first input (the batch, whether the
  // model fixes it or --batch set it).
  int64_t items = 1;
  if (!feeds.empty() && feeds[0].second.shape().rank() > 0) {
    items = feeds[0].second.shape().dim(0);
  }
  const double throughput = median > 0 ? static_cast<double>(items) * 1e3 / median : 0;
  const double fraction = peak_gflops > 0 ? gflops / peak_gflops : 0;
  const double gbytes = static_cast<double>(moved_bytes) / 1e9;
  const double gbs = median > 0 ? gbytes / (median / 1e3) : 0;
  const double bandwidth_fraction = copy_gbs > 0 ? gbs / copy_gbs : 0;
  out << "graph: " << path << "\n"
      << "kernels: " << (*session)->kernel_provider().name() << ", threads: " << used_threads
      << ", batch: " << items << ", optimization: -O" << options->compile.optimization_level
      << "\n"
      << absl::StrFormat("compile: %.1f ms (session %.1f ms, plan %.1f ms)\n",
                         compile_ms, elapsed_ms(create_start, created),
                         elapsed_ms(created, planned))
      << "runs: " << iterations << " after " << warmup << " warm-up runs\n"
      << absl::StrFormat("latency min: %.3f ms\n", latency.min)
      << absl::StrFormat("latency median: %.3f ms\n", median)
      << absl::StrFormat("latency p90: %.3f ms\n", p90)
      << absl::StrFormat("latency max: %.3f ms\n", latency.max)
      << absl::StrFormat("throughput: %.2f inferences/s\n", throughput)
      << absl::StrFormat("work: %.4g GFLOP per run, %.1f GFLOP/s, %.1f%% of the FMA peak "
                         "(%.1f GFLOP/s)\n",
                         gflop, gflops, 100 * fraction, peak_gflops)
      << absl::StrFormat("memory: %.4g GB per run (inputs read, outputs written), %.1f GB/s, "
                         "%.1f%% of the copy bandwidth (%.1f GB/s)\n",
                         gbytes, gbs, 100 * bandwidth_fraction, copy_gbs)
      << absl::StrFormat(
             "json: {\"graph\": \"%s\", \"threads\": %d, \"batch\": %d, "
             "\"optimization\": %d, \"median_ms\": %.9g, \"p90_ms\": %.9g, "
             "\"min_ms\": %.9g, \"max_ms\": %.9g, \"throughput\": %.9g, \"gflop\": %.9g, "
             "\"gflops\": %.9g, \"peak_gflops\": %.9g, \"peak_fraction\": %.9g, "
             "\"gbytes\": %.9g, \"gbs\": %.9g, \"copy_gbs\": %.9g, "
             "\"bandwidth_fraction\": %.9g, \"compile_ms\": %.9g}\n",
             absl::CHexEscape(path), used_threads, items, options->compile.optimization_level,
             median, p90, latency.min, latency.max, throughput, gflop, gflops, peak_gflops,
             fraction, gbytes, gbs, copy_gbs, bandwidth_fraction, compile_ms);
  if (profile) {
    PrintStepProfile(ProfileSince((*session)->Profile(), warmup_profile),
                     static_cast<int>(profile_top), out);
  }
  return kExitOk;
}

}  // namespace

const Command& BenchCommand() {
  static const Command command{"bench", "time Session::Run on random inputs (latency, GFLOP/s, peak fraction)",
                               Help(), BenchMain};
  return command;
}

}  // namespace kiln::cli
