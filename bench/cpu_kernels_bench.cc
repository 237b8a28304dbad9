// Benchmarks of the portable CPU kernels: SGEMM (square and the MLP's shapes), ResNet-50
// convolutions, and 16M-element elementwise ops, on 1 and 2 threads. Workgroups are
// spread over a small spinning thread pool here (the runtime's pool lives elsewhere).
// GEMM-like benchmarks report GFLOP/s and the fraction of the FMA peak measured by
// BM_FmaPeak on the same machine ("peak_frac"). Run:
//   bazel run -c opt //bench:cpu_kernels_bench -- --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true
#include <algorithm>
#include <atomic>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <immintrin.h>

#include "benchmark/benchmark.h"
#include "graph/builder.h"
#include "graph/graph.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "kernels/cpu/gemm.h"
#include "runtime/kernel_env.h"
#include "runtime/region.h"

namespace kiln {
namespace {

// Runs workgroups 0..count-1 on `threads` threads (the caller is one of them): each takes
// the next workgroup from an atomic counter. Workers spin between runs so a run's start
// costs no wake-up latency (this is a benchmark, not a production pool).
class SpinPool {
 public:
  explicit SpinPool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~SpinPool() {
    stop_.store(true);
    for (auto& t : workers_) t.join();
  }
  void Run(kiln_kernel_fn fn, const kiln_kernel_call* call, int64_t count) {
    fn_ = fn;
    call_ = call;
    count_ = count;
    next_.store(0);
    done_.store(0);
    generation_.fetch_add(1);
    Drain();
    while (done_.load() < static_cast<int>(workers_.size())) {
    }
  }

 private:
  void Drain() {
    for (int64_t w = next_.fetch_add(1); w < count_; w = next_.fetch_add(1)) fn_(call_, w, count_);
  }
  void Work() {
    uint64_t seen = 0;  // the initial generation, even if a Run already bumped it
    while (!stop_.load()) {
      if (generation_.load() == seen) {
        _mm_pause();
        continue;
      }
      seen = generation_.load();
      Drain();
      done_.fetch_add(1);
    }
  }
  std::vector<std::thread> workers_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> next_{0};
  std::atomic<int> done_{0};
  kiln_kernel_fn fn_ = nullptr;
  const kiln_kernel_call* call_ = nullptr;
  int64_t count_ = 0;
};

// One prepared node with random f32 inputs and allocated outputs/scratch.
class PreparedOp {
 public:
  static std::unique_ptr<PreparedOp> Make(const std::string& op, std::vector<Shape> inputs,
                                          AttrMap attrs, CpuKernelOptions options = {}) {
    auto p = std::unique_ptr<PreparedOp>(new PreparedOp);
    GraphBuilder b;
    std::vector<Value> values;
    for (size_t i = 0; i < inputs.size(); ++i) {
      values.push_back(b.Input("in" + std::to_string(i), DataType::kF32, inputs[i]));
    }
    b.AddOp1(op, values, std::move(attrs), "op");
    absl::StatusOr<Graph> graph = b.BuildGraph();
    if (!graph.ok()) {
      p->error_ = std::string(graph.status().message());
      return p;
    }
    const Node& node = graph->node(*graph->FindNode("op"));
    absl::StatusOr<PreparedKernel> kernel = CreateCpuKernelProvider(options)->Prepare(*graph, node);
    if (!kernel.ok()) {
      p->error_ = std::string(kernel.status().message());
      return p;
    }
    p->kernel_ = *std::move(kernel);
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (const Shape& s : inputs) {
      float* data = static_cast<float*>(p->Own(s.NumElements() * 4));
      for (int64_t i = 0; i < s.NumElements(); ++i) data[i] = dist(rng);
      p->pointers_.push_back(data);
    }
    for (const TensorType& t : node.outputs) {
      p->pointers_.push_back(p->Own(t.shape.NumElements() * DataTypeSize(t.dtype)));
    }
    if (p->kernel_.scratch_bytes > 0) p->pointers_.push_back(p->Own(p->kernel_.scratch_bytes));
    p->params_ = p->Own(static_cast<int64_t>(p->kernel_.params.size()));
    std::memcpy(p->params_, p->kernel_.params.data(), p->kernel_.params.size());
    p->call_.buffers = p->pointers_.data();
    p->call_.num_buffers = static_cast<uint32_t>(p->pointers_.size());
    p->call_.params = p->params_;
    p->call_.env = p->env_.env();
    return p;
  }
  const std::string& error() const { return error_; }
  const PreparedKernel& kernel() const { return kernel_; }
  void Run(SpinPool& pool) { pool.Run(kernel_.fn, &call_, kernel_.workgroup_count); }

 private:
  // Operands, outputs and scratch in regions mapped as the executor maps its arena
  // (2 MiB pages from 2 MiB up), so TLB misses cost what they cost in a run.
  void* Own(int64_t bytes) {
    absl::StatusOr<MappedRegion> region = MappedRegion::Create(std::max<int64_t>(bytes, 64));
    if (!region.ok()) {
      std::fprintf(stderr, "%s\n", std::string(region.status().message()).c_str());
      std::abort();
    }
    owned_.push_back(*std::move(region));
    return owned_.back().data();
  }
  std::string error_;
  PreparedKernel kernel_;
  std::vector<MappedRegion> owned_;
  std::vector<void*> pointers_;
  void* params_ = nullptr;
  KernelEnv env_;
  kiln_kernel_call call_{};
};

// ---------------------------------------------------------------------------------------
// Machine peak: 12 independent FMA chains (more than latency x throughput on Zen 3 and
// Zen 5), in the widest vectors the CPU has.

__attribute__((target("avx2,fma"))) double FmaLoopAvx2(int64_t iterations) {
  __m256 acc[12];
  const __m256 b = _mm256_set1_ps(0.999999f);
  const __m256 c = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  for (int64_t k = 0; k < iterations; ++k) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], b, c);
  }
  float sum = 0;
  for (int i = 0; i < 12; ++i) sum += _mm256_cvtss_f32(acc[i]);
  benchmark::DoNotOptimize(sum);
  return static_cast<double>(iterations) * 12 * 8 * 2;
}

__attribute__((target("avx512f"))) double FmaLoopAvx512(int64_t iterations) {
  __m512 acc[12];
  const __m512 b = _mm512_set1_ps(0.999999f);
  const __m512 c = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  for (int64_t k = 0; k < iterations; ++k) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], b, c);
  }
  // Summed through memory: GCC 12's _mm512_reduce_add_ps warns of an undefined lane.
  alignas(64) float lanes[16];
  float sum = 0;
  for (int i = 0; i < 12; ++i) {
    _mm512_store_ps(lanes, acc[i]);
    for (float lane : lanes) sum += lane;
  }
  benchmark::DoNotOptimize(sum);
  return static_cast<double>(iterations) * 12 * 16 * 2;
}

double FmaLoop(int64_t iterations) {
  if (__builtin_cpu_supports("avx512f")) return FmaLoopAvx512(iterations);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return FmaLoopAvx2(iterations);
  }
  return 0;
}

// Seconds on `clock`: this thread's CPU time, the process's, or the wall clock.
double ClockSeconds(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Per-core FMA peak used for the peak fractions: the best of several runs, per second of
// this thread's CPU time (so a loaded machine's time slicing does not lower it). Also
// printed by BM_FmaPeak.
double PeakGflopsPerCore() {
  static const double peak = [] {
    FmaLoop(1 << 20);  // warm up (clock ramp)
    double best = 0;
    for (int rep = 0; rep < 7; ++rep) {
      const double t0 = ClockSeconds(CLOCK_THREAD_CPUTIME_ID);
      const double flops = FmaLoop(1 << 23);
      const double s = ClockSeconds(CLOCK_THREAD_CPUTIME_ID) - t0;
      if (s > 0 && flops / s / 1e9 > best) best = flops / s / 1e9;
    }
    return best;
  }();
  return peak;
}

void BM_FmaPeak(benchmark::State& state) {
  double flops = 0;
  for (auto _ : state) flops += FmaLoop(1 << 22);
  state.counters["GFLOPS"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsRate);
  state.counters["cpu_peak_GFLOPS"] = PeakGflopsPerCore();
}
BENCHMARK(BM_FmaPeak)->Unit(benchmark::kMillisecond);

// One workgroup of the FMA loop: params point to its iteration count.
int32_t FmaWorkgroup(const kiln_kernel_call* call, int64_t, int64_t) {
  FmaLoop(*static_cast<const int64_t*>(call->params));
  return KILN_KERNEL_OK;
}

// GFLOP/s of the FMA loop on `pool`'s threads (whose idle workers spin, so the loop must
// run on them), over about `seconds`: 16 workgroups a thread, so they spread evenly.
double FmaGflops(SpinPool& pool, int threads, double seconds) {
  const double per_iteration = FmaLoop(1);  // the flops of one iteration
  const int64_t workgroups = 16 * static_cast<int64_t>(threads);
  int64_t count = std::max<int64_t>(
      1, static_cast<int64_t>(seconds * threads * PeakGflopsPerCore() * 1e9 / per_iteration /
                              static_cast<double>(workgroups)));
  kiln_kernel_call call{};
  call.params = &count;
  const double t0 = ClockSeconds(CLOCK_MONOTONIC);
  pool.Run(&FmaWorkgroup, &call, workgroups);
  const double s = ClockSeconds(CLOCK_MONOTONIC) - t0;
  return s > 0 ? static_cast<double>(workgroups * count) * per_iteration / s / 1e9 : 0;
}

// The median over 7 pairs of (one run's GFLOP/s) / (the FMA loop's GFLOP/s on as many
// threads, run right after it for as long): each pair sees the same load on this shared
// machine, where a peak measured once at start-up and a later run may not.
double PairedPeakFraction(PreparedOp& op, SpinPool& pool, double flops, int threads) {
  std::vector<double> ratios;
  for (int pair = 0; pair < 7; ++pair) {
    const double t0 = ClockSeconds(CLOCK_MONOTONIC);
    op.Run(pool);
    const double s = ClockSeconds(CLOCK_MONOTONIC) - t0;
    if (s <= 0) continue;
    const double fma = FmaGflops(pool, threads, s);
    if (fma > 0) ratios.push_back(flops / s / 1e9 / fma);
  }
  if (ratios.empty()) return 0;
  std::sort(ratios.begin(), ratios.end());
  return ratios[ratios.size() / 2];
}

// Counters: GFLOPS (per wall-clock second), peak_frac (GFLOPS over threads x the per-core
// FMA peak), and the same per second of CPU time the process got (cpu_GFLOPS_per_core,
// cpu_peak_frac): on a shared, oversubscribed machine the wall-clock figures fall with
// the load, the CPU-time ones much less (time spent waiting for work counts against them).
// paired_peak_frac (PairedPeakFraction) holds best under load.
void RunGemmLike(benchmark::State& state, PreparedOp& op, double flops, int threads) {
  if (!op.error().empty()) {
    state.SkipWithError(op.error().c_str());
    return;
  }
  const double peak = PeakGflopsPerCore();
  SpinPool pool(threads);
  op.Run(pool);  // warm up: page in operands and scratch
  const double cpu0 = ClockSeconds(CLOCK_PROCESS_CPUTIME_ID);
  for (auto _ : state) op.Run(pool);
  const double cpu = ClockSeconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  const double gflop = flops * static_cast<double>(state.iterations()) / 1e9;
  state.counters["GFLOPS"] = benchmark::Counter(gflop, benchmark::Counter::kIsRate);
  state.counters["peak_frac"] =
      benchmark::Counter(gflop / (peak * threads), benchmark::Counter::kIsRate);
  state.counters["cpu_GFLOPS_per_core"] = gflop / cpu;
  state.counters["cpu_peak_frac"] = gflop / cpu / peak;
  state.counters["workgroups"] = static_cast<double>(op.kernel().workgroup_count);
  state.counters["paired_peak_frac"] = PairedPeakFraction(op, pool, flops, threads);
}

// ---------------------------------------------------------------------------------------
// SGEMM: args M, N, K, threads, isa.

void BM_Sgemm(benchmark::State& state) {
  const int64_t m = state.range(0);
  const int64_t n = state.range(1);
  const int64_t k = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  CpuKernelOptions options;
  options.gemm_isa = static_cast<GemmIsa>(state.range(4));
  auto op = PreparedOp::Make("MatMul", {Shape{m, k}, Shape{k, n}}, {}, options);
  state.SetLabel(std::string(GemmIsaName(options.gemm_isa)));
  RunGemmLike(state, *op, 2.0 * m * n * k, threads);
}

void SgemmArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"M", "N", "K", "threads", "isa"});
  for (int threads : {1, 2}) {
    b->Args({2048, 2048, 2048, threads, 0});
    b->Args({64, 2048, 784, threads, 0});   // MLP layer 1: [64, 784] x [784, 2048]
    b->Args({64, 2048, 2048, threads, 0});  // MLP hidden: [64, 2048] x [2048, 2048]
  }
  b->Args({2048, 2048, 2048, 1, static_cast<int>(GemmIsa::kPortable)});
}
BENCHMARK(BM_Sgemm)->Apply(SgemmArgs)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---------------------------------------------------------------------------------------
// ResNet-50 convolutions (batch 1): args C, H(=W), O, kernel, stride, threads, nhwc.

void BM_Conv(benchmark::State& state) {
  const int64_t c = state.range(0);
  const int64_t hw = state.range(1);
  const int64_t o = state.range(2);
  const int64_t kk = state.range(3);
  const int64_t stride = state.range(4);
  const int threads = static_cast<int>(state.range(5));
  const bool nhwc = state.range(6) != 0;
  const int64_t pad = kk / 2;
  AttrMap attrs = {{"strides", std::vector<int64_t>{stride, stride}},
                   {"pads", std::vector<int64_t>{pad, pad, pad, pad}},
                   {"data_format", std::string(nhwc ? "NHWC" : "NCHW")},
                   {"filter_format", std::string(nhwc ? "HWIO" : "OIHW")}};
  const Shape x = nhwc ? Shape{1, hw, hw, c} : Shape{1, c, hw, hw};
  const Shape f = nhwc ? Shape{kk, kk, c, o} : Shape{o, c, kk, kk};
  auto op = PreparedOp::Make("Conv2D", {x, f}, attrs);
  const int64_t out_hw = (hw + 2 * pad - kk) / stride + 1;
  const double flops = 2.0 * out_hw * out_hw * o * c * kk * kk;
  state.SetLabel(nhwc ? "NHWC" : "NCHW");
  RunGemmLike(state, *op, flops, threads);
}

void ConvArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"C", "HW", "O", "k", "s", "threads", "nhwc"});
  for (int nhwc : {0, 1}) {
    for (int threads : {1, 2}) {
      b->Args({3, 224, 64, 7, 2, threads, nhwc});     // conv1
      b->Args({64, 56, 64, 3, 1, threads, nhwc});     // conv2_x 3x3
      b->Args({256, 56, 64, 1, 1, threads, nhwc});    // conv2_x 1x1 reduce
      b->Args({128, 28, 128, 3, 1, threads, nhwc});   // conv3_x 3x3
      b->Args({1024, 14, 256, 1, 1, threads, nhwc});  // conv4_x 1x1 reduce
      b->Args({512, 7, 512, 3, 1, threads, nhwc});    // conv5_x 3x3
    }
  }
}
BENCHMARK(BM_Conv)->Apply(ConvArgs)->Unit(benchmark::kMillisecond)->UseRealTime();

// ResNet-50 convolutions with the filter packed at compile time (PackedConv2D, NHWC, as
// the default pipeline runs them): args C, H(=W), O, kernel, stride, threads, indirect
// (1: the indirect GEMM over row pointers; 0: im2col or in-place rows and the packing
// GEMM).

void BM_PackedConv(benchmark::State& state) {
  const int64_t c = state.range(0);
  const int64_t hw = state.range(1);
  const int64_t o = state.range(2);
  const int64_t kk = state.range(3);
  const int64_t stride = state.range(4);
  const int threads = static_cast<int>(state.range(5));
  CpuKernelOptions options;
  options.indirect_gemm = state.range(6) != 0;
  const int64_t pad = kk / 2;
  const int64_t nr = cpu::GetSgemmImpl(DetectGemmIsa()).blocking.nr;
  AttrMap attrs = {{"strides", std::vector<int64_t>{stride, stride}},
                   {"pads", std::vector<int64_t>{pad, pad, pad, pad}},
                   {"dilations", std::vector<int64_t>{1, 1}},
                   {"kernel_shape", std::vector<int64_t>{kk, kk}},
                   {"out_channels", o}};
  auto op = PreparedOp::Make("PackedConv2D",
                             {Shape{1, hw, hw, c}, Shape{(o + nr - 1) / nr, kk * kk * c, nr}},
                             attrs, options);
  const int64_t out_hw = (hw + 2 * pad - kk) / stride + 1;
  state.SetLabel(options.indirect_gemm ? "indirect" : "packing");
  RunGemmLike(state, *op, 2.0 * out_hw * out_hw * o * c * kk * kk, threads);
}

void PackedConvArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"C", "HW", "O", "k", "s", "threads", "indirect"});
  for (int threads : {1, 2}) {
    for (int indirect : {0, 1}) {
      b->Args({3, 224, 64, 7, 2, threads, indirect});      // conv1
      b->Args({64, 56, 64, 3, 1, threads, indirect});      // conv2_x 3x3
      b->Args({256, 56, 64, 1, 1, threads, indirect});     // conv2_x 1x1 reduce
      b->Args({64, 56, 256, 1, 1, threads, indirect});     // conv2_x 1x1 expand
      b->Args({16, 112, 96, 1, 1, threads, indirect});     // MobileNet-v2 expand, K = 16
      b->Args({24, 56, 144, 1, 1, threads, indirect});     // MobileNet-v2 expand, K = 24
      b->Args({32, 28, 192, 1, 1, threads, indirect});     // MobileNet-v2 expand, K = 32
      b->Args({96, 56, 24, 1, 1, threads, indirect});      // MobileNet-v2 project, N = 24
      b->Args({128, 28, 128, 3, 1, threads, indirect});    // conv3_x 3x3
      b->Args({256, 14, 256, 3, 1, threads, indirect});    // conv4_x 3x3
      b->Args({1024, 14, 256, 1, 1, threads, indirect});   // conv4_x 1x1 reduce
      b->Args({1024, 14, 2048, 1, 2, threads, indirect});  // conv5_x downsample
      b->Args({512, 7, 512, 3, 1, threads, indirect});     // conv5_x 3x3
    }
  }
}
BENCHMARK(BM_PackedConv)->Apply(PackedConvArgs)->Unit(benchmark::kMillisecond)->UseRealTime();

// ResNet-50's 3x3 stride-1 convolutions through Winograd's F(m x m, 3x3) (WinogradConv2D,
// the filter transformed at compile time): args C, H(=W), O, threads, m. GFLOP/s count
// the direct convolution's FLOPs, so they compare with BM_PackedConv's on the same shape.

void BM_WinogradConv(benchmark::State& state) {
  const int64_t c = state.range(0);
  const int64_t hw = state.range(1);
  const int64_t o = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const int64_t positions = (state.range(4) + 2) * (state.range(4) + 2);
  const int64_t nr = cpu::GetSgemmImpl(DetectGemmIsa()).blocking.nr;
  AttrMap attrs = {{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"out_channels", o}};
  auto op = PreparedOp::Make(
      "WinogradConv2D", {Shape{1, hw, hw, c}, Shape{positions, (o + nr - 1) / nr, c, nr}}, attrs);
  RunGemmLike(state, *op, 2.0 * hw * hw * o * c * 9, threads);
}

void WinogradConvArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"C", "HW", "O", "threads", "m"});
  for (int threads : {1, 2}) {
    for (int m : {4, 2}) {
      b->Args({64, 56, 64, threads, m});    // conv2_x
      b->Args({128, 28, 128, threads, m});  // conv3_x
      b->Args({256, 14, 256, threads, m});  // conv4_x
      b->Args({512, 7, 512, threads, m});   // conv5_x
    }
  }
}
BENCHMARK(BM_WinogradConv)->Apply(WinogradConvArgs)->Unit(benchmark::kMillisecond)->UseRealTime();

// MatMul with the weight packed at compile time (PackedMatMul, as the default pipeline
// runs BERT's and the MLP's layers): args M, N, K, threads, indirect.

void BM_PackedMatMul(benchmark::State& state) {
  const int64_t m = state.range(0);
  const int64_t n = state.range(1);
  const int64_t k = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  CpuKernelOptions options;
  options.indirect_gemm = state.range(4) != 0;
  const int64_t nr = cpu::GetSgemmImpl(DetectGemmIsa()).blocking.nr;
  auto op = PreparedOp::Make("PackedMatMul", {Shape{m, k}, Shape{(n + nr - 1) / nr, k, nr}},
                             {{"n", n}}, options);
  state.SetLabel(options.indirect_gemm ? "indirect" : "packing");
  RunGemmLike(state, *op, 2.0 * m * n * k, threads);
}

void PackedMatMulArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"M", "N", "K", "threads", "indirect"});
  for (int threads : {1, 2}) {
    for (int indirect : {0, 1}) {
      b->Args({128, 768, 768, threads, indirect});   // BERT attention projections
      b->Args({128, 3072, 768, threads, indirect});  // BERT feed-forward 1
      b->Args({1024, 3072, 768, threads, indirect});  // ... at batch 8
      b->Args({128, 768, 3072, threads, indirect});  // BERT feed-forward 2
      b->Args({64, 2048, 2048, threads, indirect});  // MLP hidden
    }
  }
}
BENCHMARK(BM_PackedMatMul)->Apply(PackedMatMulArgs)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---------------------------------------------------------------------------------------
// Elementwise over 16M f32: GB/s of operand traffic.

void BM_Eltwise(benchmark::State& state, const std::string& op, int inputs) {
  const int64_t n = int64_t{1} << 24;
  const int threads = static_cast<int>(state.range(0));
  std::vector<Shape> shapes(inputs, Shape{n});
  auto p = PreparedOp::Make(op, shapes, {});
  if (!p->error().empty()) {
    state.SkipWithError(p->error().c_str());
    return;
  }
  SpinPool pool(threads);
  p->Run(pool);
  for (auto _ : state) p->Run(pool);
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(n) * 4 * (inputs + 1) * state.iterations() / 1e9,
      benchmark::Counter::kIsRate);
  state.counters["Gelem/s"] = benchmark::Counter(static_cast<double>(n) * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_Eltwise, Add, std::string("Add"), 2)
    ->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Eltwise, Relu, std::string("Relu"), 1)
    ->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Eltwise, Exp, std::string("Exp"), 1)
    ->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Eltwise, Gelu, std::string("Gelu"), 1)
    ->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace kiln
