// The zero-allocation guarantee: once a plan is compiled and its arenas exist, a
// Session::Run into caller buffers allocates nothing on the heap, with one thread or a
// pool. Allocations are counted by a replaced operator new and malloc (alloc_counter).
#include "examples/models.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "gtest/gtest.h"
#include "runtime/session.h"
#include "tests/runtime/alloc_counter.h"
#include "tests/runtime/test_kernel_provider.h"

namespace kiln {
namespace {

using testing::AllocationCounter;
using testing::TestKernelProvider;
using testing::TestProviderOptions;

// y = tanh(relu(x @ w + b) * x2) - c, with a -1 batch; w is 8x8.
Graph Model() {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{-1, 8});
  Value x2 = b.Input("x2", DataType::kF32, Shape{-1, 8});
  Value w = b.Constant(Tensor::F32(Shape{8, 8}, std::vector<float>(64, 0.25f)), "w");
  Value bias = b.Constant(Tensor::F32(Shape{8}, std::vector<float>(8, -0.5f)), "bias");
  Value c = b.Constant(Tensor::F32(Shape{8}, std::vector<float>(8, 0.125f)), "c");
  Value h = ops::Relu(b, ops::Add(b, ops::MatMul(b, x, w), bias));
  b.Output("y", ops::Sub(b, ops::Tanh(b, ops::Mul(b, h, x2)), c));
  b.Output("h", h);
  return b.BuildGraph().value();
}

TEST(SessionAllocTest, SteadyStateRunAllocatesNothing) {
  for (int threads : {1, 2}) {
    TestProviderOptions provider;
    provider.workgroups = 4;  // dispatched across the pool when there is one
    SessionOptions options;
    options.num_threads = threads;
    options.kernel_provider = std::make_shared<TestKernelProvider>(provider);
    auto session = Session::Create(Model(), options);
    ASSERT_TRUE(session.ok()) << session.status();

    Feeds feeds = {{"x", Tensor::F32(Shape{16, 8}, std::vector<float>(128, 1.0f))},
                   {"x2", Tensor::F32(Shape{16, 8}, std::vector<float>(128, 2.0f))}};
    std::vector<std::string> fetches = {"y", "h", "x"};
    std::vector<Tensor> outputs = {Tensor::Allocate(DataType::kF32, Shape{16, 8}).value(),
                                   Tensor::Allocate(DataType::kF32, Shape{16, 8}).value(),
                                   Tensor::Allocate(DataType::kF32, Shape{16, 8}).value()};
    // The first run compiles the plan and makes the first arena.
    ASSERT_TRUE((*session)->Run(feeds, fetches, absl::MakeSpan(outputs)).ok());

    AllocationCounter counter(/*print_stacks=*/true);
    absl::Status status;
    for (int run = 0; run < 100 && status.ok(); ++run) {
      status = (*session)->Run(feeds, fetches, absl::MakeSpan(outputs));
    }
    int64_t allocations = counter.Stop();
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_EQ(allocations, 0) << threads << " threads";

    // x @ w = 8 * 0.25 = 2 per element; + bias = 1.5; relu = 1.5; * 2 = 3; tanh(3) - 0.125.
    EXPECT_NEAR(outputs[0].data<float>()[0], std::tanh(3.0) - 0.125, 1e-6);
    EXPECT_NEAR(outputs[0].data<float>()[127], std::tanh(3.0) - 0.125, 1e-6);
    EXPECT_FLOAT_EQ(outputs[1].data<float>()[5], 1.5f);
    EXPECT_FLOAT_EQ(outputs[2].data<float>()[5], 1.0f);
  }
}

// The same guarantee with the default kernels (the portable CPU library) on the example
// models at small sizes: every op they use has a non-allocating CPU kernel.
TEST(SessionAllocTest, DefaultKernelsOnExampleModelsAllocateNothing) {
  examples::ResNetConfig resnet;
  resnet.image = 32;
  resnet.base_width = 4;
  for (int64_t& blocks : resnet.blocks) blocks = 1;
  resnet.classes = 10;
  struct Case {
    const char* name;
    absl::StatusOr<Graph> graph;
    Shape input;
  };
  Case cases[] = {
      {"mlp", examples::BuildMlp({.in = 32, .hidden = 64, .out = 10}), Shape{4, 32}},
      {"resnet", examples::BuildResNet50(resnet), Shape{2, 3, 32, 32}},
      {"bert", examples::BuildBert({.layers = 2, .hidden = 32, .heads = 4, .ffn = 64, .seq = 8}),
       Shape{2, 8, 32}},
      {"eltwise", examples::BuildEltwise(), Shape{1000}},
  };
  for (Case& c : cases) {
    ASSERT_TRUE(c.graph.ok()) << c.name << ": " << c.graph.status();
    for (int threads : {1, 2}) {
      SessionOptions options;
      options.num_threads = threads;
      auto session = Session::Create(*c.graph, options);
      ASSERT_TRUE(session.ok()) << session.status();
      Feeds feeds = {{"x", Tensor::Allocate(DataType::kF32, c.input).value()}};
      for (int64_t i = 0; i < feeds[0].second.NumElements(); ++i) {
        feeds[0].second.data<float>()[i] = static_cast<float>((i % 17) - 8) / 8.0f;
      }
      std::vector<std::string> fetches = {"y"};
      absl::StatusOr<std::vector<Tensor>> first = (*session)->Run(feeds, fetches);
      ASSERT_TRUE(first.ok()) << c.name << ": " << first.status();
      std::vector<Tensor> outputs = {(*first)[0].Clone()};
      ASSERT_TRUE((*session)->Run(feeds, fetches, absl::MakeSpan(outputs)).ok());

      AllocationCounter counter(/*print_stacks=*/true);
      absl::Status status;
      for (int run = 0; run < 10 && status.ok(); ++run) {
        status = (*session)->Run(feeds, fetches, absl::MakeSpan(outputs));
      }
      int64_t allocations = counter.Stop();
      ASSERT_TRUE(status.ok()) << status;
      EXPECT_EQ(allocations, 0) << c.name << ", " << threads << " threads";
    }
  }
}

void* volatile escape = nullptr;

TEST(SessionAllocTest, TheCounterSeesAllocations) {
  // Guards the test above against a counter that never counts.
  AllocationCounter counter;
  auto* vector = new std::vector<int>(100);
  escape = vector;  // keeps the compiler from eliding the pair
  delete vector;
  std::string text(100, 'x');
  escape = text.data();
  EXPECT_GE(counter.Stop(), 3);
}

}  // namespace
}  // namespace kiln
