// The fixed cost of one Run on a tiny graph (y = x + 1, f32[1,4]) through each
// C++ entry point: Session::Run returning tensors, Session::Run into caller
// buffers, and ModelRunner (what the C API and the Python package call) over a
// Session and over an artifact. The Python package's figure
// (bench/python/run_overhead.py) is compared with these.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "benchmark/benchmark.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "graph/proto_convert.h"
#include "runtime/artifact.h"
#include "runtime/compile_artifact.h"
#include "runtime/model_runner.h"
#include "runtime/open_model.h"
#include "runtime/session.h"

namespace kiln {
namespace {

proto::GraphDef TinyGraph() {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{-1, 4});
  b.Output("y", ops::Add(b, x, b.Constant(Tensor::ScalarF32(1))));
  return *b.Build();
}

std::unique_ptr<Session> TinySession() {
  SessionOptions options;
  options.num_threads = 1;
  return *Session::Create(TinyGraph(), options);
}

void BM_SessionRunTensors(benchmark::State& state) {
  std::unique_ptr<Session> session = TinySession();
  Feeds feeds = {{"x", Tensor::F32({1, 4}, {1, 2, 3, 4})}};
  const std::vector<std::string> fetches = {"y"};
  for (auto _ : state) benchmark::DoNotOptimize(session->Run(feeds, fetches));
}
BENCHMARK(BM_SessionRunTensors);

void BM_SessionRunBuffers(benchmark::State& state) {
  std::unique_ptr<Session> session = TinySession();
  Feeds feeds = {{"x", Tensor::F32({1, 4}, {1, 2, 3, 4})}};
  const std::vector<std::string> fetches = {"y"};
  std::vector<Tensor> outputs = {*Tensor::Allocate(DataType::kF32, Shape{1, 4})};
  for (auto _ : state)
    benchmark::DoNotOptimize(session->Run(feeds, fetches, absl::MakeSpan(outputs)));
}
BENCHMARK(BM_SessionRunBuffers);

void RunRunner(benchmark::State& state, const ModelRunner& runner) {
  std::vector<Tensor> inputs = {Tensor::F32({1, 4}, {1, 2, 3, 4})};
  std::vector<Tensor> outputs = {*Tensor::Allocate(DataType::kF32, Shape{1, 4})};
  for (auto _ : state) benchmark::DoNotOptimize(runner.Run(inputs, absl::MakeSpan(outputs)));
}

void BM_ModelRunnerSession(benchmark::State& state) {
  std::unique_ptr<ModelRunner> runner = SessionRunner(TinySession(), "graph");
  RunRunner(state, *runner);
}
BENCHMARK(BM_ModelRunnerSession);

void BM_ModelRunnerArtifact(benchmark::State& state) {
  Graph graph = *GraphFromProto(TinyGraph());
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("kiln_run_overhead_" + std::to_string(getpid()) + ".kiln"))
                               .string();
  const int64_t batch[] = {1};
  if (!WriteArtifact(*CompileArtifact(graph, CompileOptions(), batch, "tiny"), path).ok()) {
    state.SkipWithError("cannot write the artifact");
    return;
  }
  RunnerOptions options;
  options.num_threads = 1;
  std::unique_ptr<ModelRunner> runner = *OpenArtifactRunner(path, options);
  std::remove(path.c_str());
  RunRunner(state, *runner);
}
BENCHMARK(BM_ModelRunnerArtifact);

}  // namespace
}  // namespace kiln
