// The REST codec's cost per request (tools/serve/predict_json.h): parsing a ResNet-50
// request (one 3x224x224 instance, 150,528 floats written as Python's json writes
// float64 values: shortest round-trip text, about 20 characters each) in place, as
// kiln-serve does with a request body. Run:
//   bazel build -c opt //bench:predict_json_bench && bazel-bin/bench/predict_json_bench
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "tools/serve/predict_json.h"

namespace kiln::serve {
namespace {

std::string ResNetBody() {
  std::mt19937 rng(1);
  std::normal_distribution<double> dist(0.0, 1.0);
  std::string body = "{\"instances\": [[";
  for (int c = 0; c < 3; ++c) {
    body += c > 0 ? ", [" : "[";
    for (int h = 0; h < 224; ++h) {
      body += h > 0 ? ", [" : "[";
      for (int w = 0; w < 224; ++w) {
        char text[32];
        // A float32 value widened to double, as NumPy's float64 tolist() writes it.
        std::snprintf(text, sizeof(text), "%.17g", static_cast<double>(static_cast<float>(dist(rng))));
        if (w > 0) body += ", ";
        body += text;
      }
      body += "]";
    }
    body += "]";
  }
  body += "]]}";
  return body;
}

void BM_ParseResNetRequest(benchmark::State& state) {
  const std::string body = ResNetBody();
  const std::vector<TensorSpec> specs = {{"x", DataType::kF32, {-1, 3, 224, 224}}};
  for (auto _ : state) {
    std::string copy = body;  // parsed in place, as the server parses its body
    auto request = ParsePredictRequestInPlace(std::move(copy), specs);
    if (!request.ok()) {
      state.SkipWithError(std::string(request.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(request->inputs[0].raw_data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(body.size()));
  state.counters["body_MB"] = static_cast<double>(body.size()) / 1e6;
}
BENCHMARK(BM_ParseResNetRequest)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kiln::serve
