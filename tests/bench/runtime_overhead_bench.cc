// Per-run overhead of the runtime on a graph of 100 tiny ops (f32[64] each): the median
// time of Session::Run next to the time of its kernels called directly, and the heap
// allocations of a steady-state run.
//
//   bazel run -c opt //tests/bench:runtime_overhead_bench -- --benchmark_repetitions=5
//
// BM_SessionRun's counters: run_ns (thread CPU time per Run in the timed loop),
// kernels_ns (thread CPU time of the 100 prepared kernels called back to back, median of
// 201 samples), overhead_ratio (run_ns / kernels_ns), allocs_per_run (heap allocations
// per steady-state Run, over 1000 runs). Thread CPU time, because on a shared machine
// wall time also counts time the thread waits for a core.
// BM_KernelsOnly times the same direct kernel calls with Google Benchmark.
#include <algorithm>
#include <ctime>
#include <cstring>
#include <memory>

#include "benchmark/benchmark.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "runtime/default_provider.h"
#include "runtime/executor.h"
#include "runtime/build_plan.h"
#include "runtime/plan.h"
#include "runtime/session.h"
#include "tests/runtime/alloc_counter.h"
#include "tests/runtime/test_kernel_provider.h"

namespace kiln {
namespace {

constexpr int kOps = 100;
constexpr int64_t kElements = 64;

// x -> 100 ops cycling add c, relu, mul c, neg -> y.
Graph TinyOps() {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{kElements});
  Value c = b.Constant(Tensor::F32(Shape{kElements}, std::vector<float>(kElements, 0.5f)), "c");
  Value v = x;
  for (int i = 0; i < kOps; ++i) {
    switch (i % 4) {
      case 0: v = ops::Add(b, v, c); break;
      case 1: v = ops::Relu(b, v); break;
      case 2: v = ops::Mul(b, v, c); break;
      default: v = ops::Neg(b, v); break;
    }
  }
  b.Output("y", v);
  return b.BuildGraph().value();
}

std::shared_ptr<const KernelProvider> Provider(int64_t which) {
  if (which == 0) return std::make_shared<testing::TestKernelProvider>();
  return DefaultKernelProvider();
}

// The plan of TinyOps() bound by an executor, for calling its kernels directly.
struct DirectKernels {
  Graph graph = TinyOps();
  std::shared_ptr<const Plan> plan;
  AlignedBlock weights;
  std::unique_ptr<Executor> executor;
  std::unique_ptr<ExecutionContext> context;
  Tensor x = Tensor::F32(Shape{kElements}, std::vector<float>(kElements, 1.0f));
  Tensor y = Tensor::Allocate(DataType::kF32, Shape{kElements}).value();

  explicit DirectKernels(const KernelProvider& provider) {
    plan = std::make_shared<const Plan>(
        BuildPlan(graph, {graph.outputs()[0].tensor}, provider).value());
    WeightsLayout layout = LayoutWeights(graph);
    weights = AlignedBlock(layout.bytes);
    for (int n = 0; n < graph.num_nodes(); ++n) {
      if (layout.offset[n] < 0) continue;
      const Tensor& value = graph.node(n).attr<Tensor>("value");
      std::memcpy(weights.data() + layout.offset[n], value.raw_data(), value.ByteSize());
    }
    executor = Executor::Create(plan, weights.data(), nullptr).value();
    context = executor->NewContext().value();
    (void)Run();  // binds the feed and output pointers into the context
  }
  absl::Status Run() {
    const void* inputs[] = {x.raw_data()};
    void* outputs[] = {y.raw_data()};
    return executor->Run(*context, inputs, outputs);
  }
  // Every step's kernel once, back to back, as the executor binds them.
  void CallKernels() {
    for (size_t s = 0; s < plan->steps.size(); ++s) {
      plan->steps[s].dispatch.fn(&context->call(static_cast<int>(s)), 0, 1);
    }
  }
};

double ThreadCpuNanos() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

// Median thread-CPU nanoseconds of one CallKernels() (CPU time, as Google Benchmark's
// "CPU" column, so contention from other processes does not count).
double KernelsOnlyNanos(const KernelProvider& provider) {
  DirectKernels direct(provider);
  std::vector<double> samples;
  for (int sample = 0; sample < 201; ++sample) {
    constexpr int kLoops = 50;
    double start = ThreadCpuNanos();
    for (int loop = 0; loop < kLoops; ++loop) direct.CallKernels();
    samples.push_back((ThreadCpuNanos() - start) / kLoops);
  }
  std::nth_element(samples.begin(), samples.begin() + samples.size() / 2, samples.end());
  return samples[samples.size() / 2];
}

// The 100 prepared kernels called directly. Arg as BM_SessionRun.
void BM_KernelsOnly(benchmark::State& state) {
  auto provider = Provider(state.range(0));
  DirectKernels direct(*provider);
  for (auto _ : state) direct.CallKernels();
  state.SetLabel(std::string(provider->name()));
}
BENCHMARK(BM_KernelsOnly)->Arg(0)->Arg(1);

// Session::Run into caller buffers, one thread. Arg 0: test kernels (non-allocating,
// like the CPU kernel library); 1: DefaultKernelProvider().
void BM_SessionRun(benchmark::State& state) {
  auto provider = Provider(state.range(0));
  SessionOptions options;
  options.num_threads = 1;
  options.kernel_provider = provider;
  auto session = Session::Create(TinyOps(), options).value();
  Feeds feeds = {{"x", Tensor::F32(Shape{kElements}, std::vector<float>(kElements, 1.0f))}};
  std::vector<std::string> fetches = {"y"};
  std::vector<Tensor> outputs = {Tensor::Allocate(DataType::kF32, Shape{kElements}).value()};
  if (!session->Run(feeds, fetches, absl::MakeSpan(outputs)).ok()) {
    state.SkipWithError("run failed");
    return;
  }
  double start = ThreadCpuNanos();
  for (auto _ : state) {
    benchmark::DoNotOptimize(session->Run(feeds, fetches, absl::MakeSpan(outputs)));
  }
  double run_ns = (ThreadCpuNanos() - start) / static_cast<double>(state.iterations());
  // Outside the timed loop: allocations of 1000 steady-state runs, and the kernels alone.
  int64_t allocations = 0;
  {
    testing::AllocationCounter counter;
    for (int i = 0; i < 1000; ++i) (void)session->Run(feeds, fetches, absl::MakeSpan(outputs));
    allocations = counter.Stop();
  }
  state.counters["allocs_per_run"] = static_cast<double>(allocations) / 1000;
  double kernels = KernelsOnlyNanos(*provider);
  state.counters["kernels_ns"] = kernels;
  state.counters["run_ns"] = run_ns;
  state.counters["overhead_ratio"] = run_ns / kernels;
  state.SetLabel(std::string(provider->name()));
}
BENCHMARK(BM_SessionRun)->Arg(0)->Arg(1);

// The executor's loop alone (no feed checks, no plan lookup), test kernels.
void BM_ExecutorRun(benchmark::State& state) {
  testing::TestKernelProvider provider;
  DirectKernels direct(provider);
  for (auto _ : state) benchmark::DoNotOptimize(direct.Run());
}
BENCHMARK(BM_ExecutorRun);

}  // namespace
}  // namespace kiln
