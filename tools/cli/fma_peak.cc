#include "tools/cli/fma_peak.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "kernels/kernel_library.h"

namespace kiln::cli {
namespace {

// 12 independent accumulators: more than FMA latency x ports (4 x 2) on current cores,
// so the chains never wait on one another. Returns FLOPs done; `sink` keeps the work.
constexpr int kChains = 12;
constexpr int64_t kStepsPerCheck = 1 << 16;

__attribute__((target("avx512f"))) int64_t RunAvx512(double seconds, float* sink) {
  __m512 acc[kChains];
#pragma GCC unroll 12
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f);
  const __m512 b = _mm512_set1_ps(1e-7f);
  int64_t steps = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    for (int64_t s = 0; s < kStepsPerCheck; ++s) {
#pragma GCC unroll 12
      for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    steps += kStepsPerCheck;
  }
  __m512 total = acc[0];
#pragma GCC unroll 12
  for (int i = 1; i < kChains; ++i) total = _mm512_add_ps(total, acc[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, total);
  *sink = lanes[0];
  return steps * kChains * 16 * 2;
}

__attribute__((target("avx2,fma"))) int64_t RunAvx2(double seconds, float* sink) {
  __m256 acc[kChains];
#pragma GCC unroll 12
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f);
  const __m256 b = _mm256_set1_ps(1e-7f);
  int64_t steps = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    for (int64_t s = 0; s < kStepsPerCheck; ++s) {
#pragma GCC unroll 12
      for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    steps += kStepsPerCheck;
  }
  __m256 total = acc[0];
#pragma GCC unroll 12
  for (int i = 1; i < kChains; ++i) total = _mm256_add_ps(total, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, total);
  *sink = lanes[0];
  return steps * kChains * 8 * 2;
}

int64_t RunSse(double seconds, float* sink) {
  __m128 acc[kChains];
#pragma GCC unroll 12
  for (int i = 0; i < kChains; ++i) acc[i] = _mm_set1_ps(static_cast<float>(i));
  const __m128 a = _mm_set1_ps(0.999999f);
  const __m128 b = _mm_set1_ps(1e-7f);
  int64_t steps = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    for (int64_t s = 0; s < kStepsPerCheck; ++s) {
#pragma GCC unroll 12
      for (int i = 0; i < kChains; ++i) acc[i] = _mm_add_ps(_mm_mul_ps(acc[i], a), b);
    }
    steps += kStepsPerCheck;
  }
  __m128 total = acc[0];
#pragma GCC unroll 12
  for (int i = 1; i < kChains; ++i) total = _mm_add_ps(total, acc[i]);
  *sink = _mm_cvtss_f32(total);
  return steps * kChains * 4 * 2;
}

}  // namespace

double MeasureFmaPeakGflops(int threads, double seconds) {
  const uint32_t features = HostCpuFeatures();
  auto run = [features, seconds](float* sink) -> int64_t {
    if (features & kCpuAvx512) return RunAvx512(seconds, sink);
    if (features & kCpuAvx2Fma) return RunAvx2(seconds, sink);
    return RunSse(seconds, sink);
  };
  threads = std::max(threads, 1);
  std::vector<int64_t> flops(threads, 0);
  std::vector<float> sinks(threads, 0.0f);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) {
    workers.emplace_back([&, t] { flops[t] = run(&sinks[t]); });
  }
  flops[0] = run(&sinks[0]);
  for (std::thread& w : workers) w.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int64_t total = 0;
  for (int64_t f : flops) total += f;
  return static_cast<double>(total) / elapsed / 1e9;
}

}  // namespace kiln::cli
