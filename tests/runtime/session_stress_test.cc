// Concurrency: 8 threads x 1,000 runs on shared Sessions with random inputs at random
// batch sizes (so plans compile while others run), every output checked against the
// reference interpreter.
#include <atomic>
#include <cmath>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "graph/bind_shapes.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "gtest/gtest.h"
#include "runtime/reference_interpreter.h"
#include "runtime/session.h"
#include "tests/runtime/test_kernel_provider.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

constexpr int kThreads = 8;
constexpr int kRunsPerThread = 1000;
constexpr int kMaxBatch = 4;

// y = tanh(relu(x @ w + b) * x) and z = -relu(x @ w + b), x: f32[-1, 6].
Graph Model() {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{-1, 6});
  Value w = b.Constant(testing::RandomTensor(DataType::kF32, Shape{6, 6}, 1), "w");
  Value bias = b.Constant(testing::RandomTensor(DataType::kF32, Shape{6}, 2), "b");
  Value h = ops::Relu(b, ops::Add(b, ops::MatMul(b, x, w), bias));
  b.Output("y", ops::Tanh(b, ops::Mul(b, h, x)));
  b.Output("z", ops::Neg(b, h));
  return b.BuildGraph().value();
}

// Records the first mismatch; counts all of them.
struct Failures {
  std::atomic<int> count{0};
  std::mutex mu;
  std::string first;
  void Add(const std::string& what) {
    if (count.fetch_add(1) == 0) {
      std::lock_guard<std::mutex> lock(mu);
      first = what;
    }
  }
};

std::string Compare(const Tensor& got, const Tensor& want) {
  if (got.shape() != want.shape()) {
    return absl::StrCat("shape ", got.shape().ToString(), " vs ", want.shape().ToString());
  }
  for (int64_t i = 0; i < want.NumElements(); ++i) {
    if (std::fabs(got.GetAsDouble(i) - want.GetAsDouble(i)) > 1e-5) {
      return absl::StrCat("element ", i, ": ", got.GetAsDouble(i), " vs ", want.GetAsDouble(i));
    }
  }
  return "";
}

TEST(SessionStressTest, EightThreadsAgreeWithTheReferenceInterpreter) {
  Graph graph = Model();
  // Two sessions: the default kernel library on 2 threads, and the test library with
  // kernels split into 3 workgroups over a pool of 3 (pool dispatch under contention).
  SessionOptions reference_options;
  reference_options.num_threads = 2;
  testing::TestProviderOptions split;
  split.workgroups = 3;
  SessionOptions test_options;
  test_options.num_threads = 3;
  test_options.kernel_provider = std::make_shared<testing::TestKernelProvider>(split);
  std::unique_ptr<Session> sessions[] = {Session::Create(graph, reference_options).value(),
                                         Session::Create(graph, test_options).value()};
  // The oracle's graphs, bound once per batch size (EvaluateReference is thread-safe).
  const Graph& g = sessions[0]->graph();
  std::vector<Graph> bound;
  for (int64_t batch = 0; batch <= kMaxBatch; ++batch) {
    bound.push_back(BindInputShapes(g, {{"x", Shape{batch, 6}}}).value());
  }
  const std::vector<TensorRef> fetches = {g.outputs()[0].tensor, g.outputs()[1].tensor};
  const std::vector<std::string> names = {"y", "z"};

  Failures failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int run = 0; run < kRunsPerThread; ++run) {
        const int64_t batch = rng() % (kMaxBatch + 1);  // 0 included
        Tensor x = testing::RandomTensor(DataType::kF32, Shape{batch, 6}, t * 100000 + run);
        auto want = EvaluateReference(bound[batch], {{g.inputs()[0], x}}, fetches);
        if (!want.ok()) {
          failures.Add(std::string(want.status().message()));
          continue;
        }
        Feeds feeds = {{"x", x}};
        for (int s = 0; s < 2; ++s) {
          std::vector<Tensor> got;
          if (run % 3 == 0) {
            // Caller buffers, every fourth one unaligned (planned in the arena).
            alignas(64) static thread_local float storage[2][1 + kMaxBatch * 6];
            const int skew = run % 4 == 0 ? 1 : 0;
            got = {Tensor::Borrow(DataType::kF32, Shape{batch, 6}, storage[0] + skew),
                   Tensor::Borrow(DataType::kF32, Shape{batch, 6}, storage[1] + skew)};
            absl::Status status = sessions[s]->Run(feeds, names, absl::MakeSpan(got));
            if (!status.ok()) {
              failures.Add(std::string(status.message()));
              continue;
            }
          } else {
            auto result = sessions[s]->Run(feeds);
            if (!result.ok()) {
              failures.Add(std::string(result.status().message()));
              continue;
            }
            got = *std::move(result);
          }
          for (int k = 0; k < 2; ++k) {
            std::string diff = Compare(got[k], (*want)[k]);
            if (!diff.empty()) {
              failures.Add(absl::StrCat("thread ", t, " run ", run, " session ", s, " output ",
                                        names[k], ": ", diff));
            }
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.count.load(), 0) << failures.first;
  // Each batch size gets its plans (two placements); the arenas pooled per plan.
  EXPECT_GE(sessions[0]->num_cached_plans(), kMaxBatch + 1);
}

}  // namespace
}  // namespace kiln
