#include "tools/cli/artifact_commands.h"

#include <chrono>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "runtime/artifact.h"
#include "runtime/loaded_artifact.h"
#include "runtime/thread_pool.h"
#include "tools/cli/command.h"
#include "tools/cli/flags.h"
#include "tools/cli/latency.h"
#include "tools/cli/tensors.h"
#include "tools/npy.h"

namespace kiln::cli {
namespace {

using Clock = std::chrono::steady_clock;

double ElapsedMs(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

constexpr absl::string_view kRunHelp = R"help(Usage: %s MODEL.kiln --input NAME=FILE.npy|NAME=random [--input ...]
          [--batch N] [--seed N] [--threads N] [--output DIR]

Loads the artifact MODEL.kiln (written by `kiln compile`) on the runtime core
alone, runs it once and prints one summary line per output, as `kiln run` does
for graphs. The compiled batch size whose input shapes the feeds have runs.

Flags:
  --input NAME=FILE.npy  feed input NAME from a .npy file of one compiled
                         signature's type
  --input NAME=random    random values, as `kiln run` makes them; -1
                         dimensions set to --batch
  --batch N              batch size of random feeds (default: the smallest
                         compiled one)
  --seed N               seed of the random feeds (default 0)
  --threads N            threads, the caller included (default 1)
  --output DIR           write each output to DIR/NAME.npy
)help";

constexpr absl::string_view kBenchHelp = R"help(Usage: kiln bench MODEL.kiln [--batch N] [--iterations N] [--warmup N] [--threads N] [--seed N]

Loads the artifact MODEL.kiln on the runtime core alone and times runs of the
Executable compiled for --batch (default: the smallest) on random inputs made
once, outputs into buffers allocated once.

Output:
  artifact: MODEL.kiln (SOURCE, N bytes, weights N bytes)
  load: X ms (open, map and check X ms, load executables X ms)
  first run: X ms
  threads: N, batch: N
  runs: N after N warm-up runs
  latency min/median/p90/max: X ms
  throughput: X inferences/s
  json: {"graph": ..., "threads": N, "batch": N, "median_ms": X, "p90_ms": X,
         "min_ms": X, "max_ms": X, "throughput": X, "load_ms": X,
         "first_run_ms": X}   (one line)
)help";

constexpr absl::string_view kInspectHelp = R"help(Usage: kiln inspect MODEL.kiln

Describes an artifact: its format, target, producer and source model, its
sections, the generated kernels its code holds (entry symbol, CPU features
they need, the CPU they were generated for), the declared signature (-1: the
batch dimension) and, per compiled batch size, the steps, arena, parameter
bytes and kernels. The code is not loaded.
)help";

// Opens and loads `path`, timing both halves.
struct Opened {
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<LoadedArtifact> loaded;
  double open_ms = 0;
  double load_ms = 0;
};

absl::StatusOr<Opened> OpenArtifact(const std::string& path, int64_t threads) {
  Opened opened;
  const Clock::time_point start = Clock::now();
  absl::StatusOr<std::shared_ptr<const Artifact>> artifact = Artifact::Open(path);
  if (!artifact.ok()) return artifact.status();
  const Clock::time_point mapped = Clock::now();
  if (threads > 1) opened.pool = std::make_unique<ThreadPool>(static_cast<int>(threads));
  absl::StatusOr<std::unique_ptr<LoadedArtifact>> loaded =
      LoadedArtifact::Load(*std::move(artifact), opened.pool.get());
  if (!loaded.ok()) return loaded.status();
  opened.loaded = *std::move(loaded);
  opened.open_ms = ElapsedMs(start, mapped);
  opened.load_ms = ElapsedMs(mapped, Clock::now());
  return opened;
}

// The batch a command runs: --batch when given (it must be compiled), else the smallest.
absl::StatusOr<int64_t> ChooseBatch(const LoadedArtifact& loaded, int64_t batch) {
  if (batch < 0) return loaded.batch_sizes().front();
  if (loaded.ForBatch(batch) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--batch ", batch, ": the artifact was compiled for batch sizes ",
        absl::StrJoin(loaded.batch_sizes(), ", ")));
  }
  return batch;
}

std::string RunHelp(absl::string_view program) {
  return absl::StrFormat(kRunHelp, program);
}

}  // namespace

bool NamesArtifact(absl::Span<const std::string> args) {
  for (const std::string& arg : args) {
    if (!absl::StartsWith(arg, "-") && IsArtifactFile(arg)) return true;
  }
  return false;
}

int RunArtifactMain(absl::string_view program, absl::Span<const std::string> args,
                    std::ostream& out, std::ostream& err) {
  std::vector<std::string> input_flags;
  int64_t seed = 0;
  int64_t threads = 1;
  int64_t batch = -1;
  std::string output_dir;
  FlagSet flags{std::string(program)};
  flags.AddStringList("input", &input_flags);
  flags.AddInt64("seed", &seed, 0, std::numeric_limits<int64_t>::max());
  flags.AddInt64("threads", &threads, 1, 1024);
  flags.AddInt64("batch", &batch, 0, std::numeric_limits<int32_t>::max());
  flags.AddString("output", &output_dir);
  std::string path;
  const std::string help = RunHelp(program);
  if (std::optional<int> exit =
          ParseOneArgument(flags, args, help, "one artifact file", &path, out, err)) {
    return *exit;
  }
  absl::StatusOr<std::vector<InputSpec>> specs = ParseInputSpecs(input_flags);
  if (!specs.ok()) return UsageError(err, specs.status().message());
  absl::StatusOr<Opened> opened = OpenArtifact(path, threads);
  if (!opened.ok()) return Failure(err, opened.status());
  const LoadedArtifact& loaded = *opened->loaded;
  const Artifact& artifact = loaded.artifact();
  std::vector<std::string> input_names;
  for (const TensorSignature& input : artifact.inputs()) input_names.push_back(input.name);
  absl::Status names_ok = CheckInputNames(*specs, input_names, "artifact");
  if (!names_ok.ok()) return Failure(err, names_ok);
  absl::StatusOr<int64_t> run_batch = ChooseBatch(loaded, batch);
  if (!run_batch.ok()) return UsageError(err, run_batch.status().message());

  std::vector<Tensor> inputs;
  for (const TensorSignature& input : artifact.inputs()) {
    const InputSpec* spec = FindInputSpec(*specs, input.name);
    if (spec == nullptr) {
      return Failure(err, absl::InvalidArgumentError(absl::StrCat(
          "input '", input.name, "' (", input.type.ToString(), ") is not given; pass --input ",
          input.name, "=FILE.npy or =random")));
    }
    absl::StatusOr<Tensor> tensor = LoadInput(*spec, input.type.dtype, input.type.shape,
                                              *run_batch, static_cast<uint64_t>(seed));
    if (!tensor.ok()) return Failure(err, tensor.status());
    inputs.push_back(*std::move(tensor));
  }
  absl::StatusOr<std::vector<Tensor>> outputs = loaded.Run(inputs);
  if (!outputs.ok()) return Failure(err, outputs.status());

  if (!output_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(output_dir, error);
    if (error) {
      return Failure(err, absl::PermissionDeniedError(absl::StrCat(
                              "cannot create '", output_dir, "': ", error.message())));
    }
  }
  const std::vector<TensorSignature>& names = artifact.outputs();
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

int BenchArtifactMain(absl::Span<const std::string> args, std::ostream& out, std::ostream& err) {
  int64_t batch = -1;
  int64_t iterations = 50;
  int64_t warmup = 5;
  int64_t threads = 0;
  int64_t seed = 0;
  FlagSet flags("kiln bench");
  flags.AddInt64("batch", &batch, 0, std::numeric_limits<int32_t>::max());
  flags.AddInt64("iterations", &iterations, 1, 100000000);
  flags.AddInt64("warmup", &warmup, 0, 100000000);
  flags.AddInt64("threads", &threads, 1, 4096);
  flags.AddInt64("seed", &seed, 0, std::numeric_limits<int64_t>::max());
  std::string path;
  if (std::optional<int> exit =
          ParseOneArgument(flags, args, kBenchHelp, "one artifact file", &path, out, err)) {
    return *exit;
  }
  const int used_threads =
      threads > 0 ? static_cast<int>(threads) : ThreadPool::DefaultThreadCount();
  absl::StatusOr<Opened> opened = OpenArtifact(path, used_threads);
  if (!opened.ok()) return Failure(err, opened.status());
  const LoadedArtifact& loaded = *opened->loaded;
  absl::StatusOr<int64_t> run_batch = ChooseBatch(loaded, batch);
  if (!run_batch.ok()) return UsageError(err, run_batch.status().message());
  const LoadedExecutable& executable = *loaded.ForBatch(*run_batch);

  std::vector<Tensor> inputs;
  std::vector<const void*> input_data;
  for (const TensorSignature& input : executable.executable().inputs) {
    absl::StatusOr<Tensor> tensor =
        RandomTensor(input.type.dtype, input.type.shape, static_cast<uint64_t>(seed), input.name);
    if (!tensor.ok()) return Failure(err, tensor.status());
    inputs.push_back(*std::move(tensor));
    input_data.push_back(inputs.back().raw_data());
  }
  std::vector<Tensor> outputs;
  std::vector<void*> output_data;
  for (const TensorSignature& output : executable.executable().outputs) {
    absl::StatusOr<Tensor> buffer = Tensor::Allocate(output.type.dtype, output.type.shape);
    if (!buffer.ok()) return Failure(err, buffer.status());
    outputs.push_back(*std::move(buffer));
    output_data.push_back(outputs.back().data<void>());
  }
  auto run = [&]() { return executable.Run(input_data, output_data); };
  const Clock::time_point first_start = Clock::now();
  absl::Status first = run();
  const double first_ms = ElapsedMs(first_start, Clock::now());
  if (!first.ok()) return Failure(err, first);
  for (int64_t i = 0; i < warmup; ++i) {
    absl::Status status = run();
    if (!status.ok()) return Failure(err, status);
  }
  std::vector<double> ms;
  ms.reserve(iterations);
  for (int64_t i = 0; i < iterations; ++i) {
    const Clock::time_point start = Clock::now();
    absl::Status status = run();
    ms.push_back(ElapsedMs(start, Clock::now()));
    if (!status.ok()) return Failure(err, status);
  }
  const LatencySummary latency = SummarizeLatencies(ms);
  const int64_t items = std::max<int64_t>(*run_batch, 1);
  const double throughput = latency.median > 0 ? items * 1e3 / latency.median : 0;
  const double load_ms = opened->open_ms + opened->load_ms;
  const Artifact& artifact = loaded.artifact();
  out << "artifact: " << path << " (" << artifact.source() << ", " << artifact.file_bytes()
      << " bytes, weights " << artifact.weights_bytes() << " bytes)\n"
      << absl::StrFormat("load: %.1f ms (open, map and check %.1f ms, load executables %.1f ms)\n",
                         load_ms, opened->open_ms, opened->load_ms)
      << absl::StrFormat("first run: %.3f ms\n", first_ms)
      << "threads: " << used_threads << ", batch: " << *run_batch << "\n"
      << "runs: " << iterations << " after " << warmup << " warm-up runs\n"
      << absl::StrFormat("latency min: %.3f ms\n", latency.min)
      << absl::StrFormat("latency median: %.3f ms\n", latency.median)
      << absl::StrFormat("latency p90: %.3f ms\n", latency.p90)
      << absl::StrFormat("latency max: %.3f ms\n", latency.max)
      << absl::StrFormat("throughput: %.2f inferences/s\n", throughput)
      << absl::StrFormat(
             "json: {\"graph\": \"%s\", \"threads\": %d, \"batch\": %d, \"median_ms\": %.9g, "
             "\"p90_ms\": %.9g, \"min_ms\": %.9g, \"max_ms\": %.9g, \"throughput\": %.9g, "
             "\"load_ms\": %.9g, \"first_run_ms\": %.9g}\n",
             absl::CHexEscape(path), used_threads, *run_batch, latency.median, latency.p90,
             latency.min, latency.max, throughput, load_ms, first_ms);
  return kExitOk;
}

int InspectArtifactMain(absl::Span<const std::string> args, std::ostream& out,
                        std::ostream& err) {
  FlagSet flags("kiln inspect");
  std::string path;
  if (std::optional<int> exit =
          ParseOneArgument(flags, args, kInspectHelp, "one artifact file", &path, out, err)) {
    return *exit;
  }
  // Describing needs no code: an artifact for another CPU is described too.
  Artifact::Options options;
  options.load_code = false;
  absl::StatusOr<std::shared_ptr<const Artifact>> opened = Artifact::Open(path, options);
  if (!opened.ok()) return Failure(err, opened.status());
  const Artifact& artifact = **opened;
  out << "artifact: " << path << "\n"
      << "format: " << kArtifactFormatVersion << ", target: " << artifact.target()
      << ", producer: " << artifact.producer() << "\n"
      << "source: " << artifact.source() << "\n"
      << "file: " << artifact.file_bytes() << " bytes (manifest " << artifact.manifest_bytes()
      << ", weights " << artifact.weights_bytes() << ", code " << artifact.code_bytes()
      << "), checksums verified\n";
  if (!artifact.code_kernels().empty()) {
    // "TRIPLE/CPU" of "TRIPLE/CPU/FEATURES": the feature list is LLVM's, hundreds long.
    const std::string& target = artifact.code_target();
    out << "code: " << artifact.code_bytes() << " bytes, " << artifact.code_kernels().size()
        << " generated kernels for " << target.substr(0, target.find('/', target.find('/') + 1))
        << "\n";
    for (const CodeKernel& kernel : artifact.code_kernels()) {
      out << "  " << kernel.name << " -> " << kernel.entry_symbol << " (needs "
          << CpuFeatureNames(kernel.cpu_features) << ")\n";
    }
  }
  for (const TensorSignature& input : artifact.inputs()) {
    out << "input " << input.name << ": " << input.type.ToString() << "\n";
  }
  for (const TensorSignature& output : artifact.outputs()) {
    out << "output " << output.name << ": " << output.type.ToString() << "\n";
  }
  for (const ArtifactExecutable& e : artifact.executables()) {
    const Plan& plan = e.executable.plan;
    std::map<std::string, int> kernels;
    for (const PlanStep& step : plan.steps) ++kernels[step.kernel];
    out << "batch " << e.batch_size << ": " << plan.steps.size() << " steps, arena "
        << plan.memory.arena_bytes << " bytes, parameters " << plan.params.size()
        << " bytes, " << kernels.size() << " kernels\n";
    for (const auto& [name, count] : kernels) {
      out << "  " << name << " x" << count << "\n";
    }
  }
  return kExitOk;
}

}  // namespace kiln::cli
