// The executor over plans of the test kernel library: outputs in the arena or in caller
// buffers, staged unaligned feeds, copies of fetched sources, scratch, the thread pool,
// and kernel failures reported with the node's name.
#include "runtime/executor.h"

#include <cstring>

#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "gtest/gtest.h"
#include "runtime/alignment.h"
#include "runtime/build_plan.h"
#include "tests/runtime/test_kernel_provider.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

using testing::TestKernelProvider;
using testing::TestProviderOptions;

// y = relu(x @ w + b) with x: f32[2, 3], w = [[1, -1], [0, 2], [1, 1]], b = [0.5, -4].
Graph Dense() {
  GraphBuilder builder;
  Value x = builder.Input("x", DataType::kF32, Shape{2, 3});
  Value w = builder.Constant(Tensor::F32(Shape{3, 2}, {1, -1, 0, 2, 1, 1}), "w");
  Value b = builder.Constant(Tensor::F32(Shape{2}, {0.5, -4}), "b");
  builder.Output("y", ops::Relu(builder, ops::Add(builder, ops::MatMul(builder, x, w), b)));
  return builder.BuildGraph().value();
}

// x = [[1, 2, 3], [-1, 0, 1]]:
//   x @ w = [[1+0+3, -1+4+3], [-1+0+1, 1+0+1]] = [[4, 6], [0, 2]]
//   + b   = [[4.5, 2], [0.5, -2]];  relu -> [[4.5, 2], [0.5, 0]]
const std::vector<float> kX = {1, 2, 3, -1, 0, 1};
const std::vector<double> kY = {4.5, 2, 0.5, 0};

// The weights region for `graph`, laid out as plans expect.
AlignedBlock Weights(const Graph& graph) {
  WeightsLayout layout = LayoutWeights(graph);
  AlignedBlock block(layout.bytes);
  for (int n = 0; n < graph.num_nodes(); ++n) {
    if (layout.offset[n] < 0) continue;
    const Tensor& value = graph.node(n).attr<Tensor>("value");
    std::memcpy(block.data() + layout.offset[n], value.raw_data(), value.ByteSize());
  }
  return block;
}

struct Harness {
  Graph graph;
  AlignedBlock weights;
  std::unique_ptr<Executor> executor;
};

absl::StatusOr<Harness> Make(std::vector<std::string> fetches, TestProviderOptions provider,
                             OutputPlacement placement, ThreadPool* pool = nullptr) {
  Harness h;
  h.graph = Dense();
  h.weights = Weights(h.graph);
  std::vector<TensorRef> refs;
  for (const std::string& f : fetches) {
    if (f == "y") {
      refs.push_back(h.graph.outputs()[0].tensor);
    } else {
      refs.push_back(h.graph.ParseTensorName(f).value());
    }
  }
  PlanOptions options;
  options.memory.outputs = placement;
  absl::StatusOr<Plan> plan = BuildPlan(h.graph, refs, TestKernelProvider(provider), options);
  if (!plan.ok()) return plan.status();
  absl::StatusOr<std::unique_ptr<Executor>> executor =
      Executor::Create(std::make_shared<const Plan>(*std::move(plan)), h.weights.data(), pool);
  if (!executor.ok()) return executor.status();
  h.executor = *std::move(executor);
  return h;
}

TEST(ExecutorTest, ComputesInBothOutputPlacements) {
  for (OutputPlacement placement : {OutputPlacement::kArena, OutputPlacement::kCallerBuffer}) {
    auto h = Make({"y"}, {}, placement);
    ASSERT_TRUE(h.ok()) << h.status();
    auto context = h->executor->NewContext();
    ASSERT_TRUE(context.ok()) << context.status();
    Tensor x = Tensor::F32(Shape{2, 3}, kX);
    Tensor y = Tensor::Allocate(DataType::kF32, Shape{2, 2}).value();
    const void* inputs[] = {x.raw_data()};
    void* outputs[] = {y.raw_data()};
    for (int run = 0; run < 3; ++run) {
      ASSERT_TRUE(h->executor->Run(**context, inputs, outputs).ok());
      EXPECT_TENSOR_NEAR(y, (Shape{2, 2}), kY, 1e-6);
    }
  }
}

TEST(ExecutorTest, StagesUnalignedFeedsAndCopiesToUnalignedArenaOutputs) {
  auto h = Make({"y"}, {}, OutputPlacement::kArena);
  ASSERT_TRUE(h.ok()) << h.status();
  auto context = h->executor->NewContext().value();
  alignas(64) float feed[1 + 6];
  std::memcpy(feed + 1, kX.data(), sizeof(float) * 6);
  alignas(64) float out[1 + 4] = {};
  const void* inputs[] = {feed + 1};
  void* outputs[] = {out + 1};
  ASSERT_TRUE(h->executor->Run(*context, inputs, outputs).ok());
  EXPECT_FLOAT_EQ(out[1], 4.5f);
  EXPECT_FLOAT_EQ(out[2], 2.0f);
  EXPECT_FLOAT_EQ(out[3], 0.5f);
  EXPECT_FLOAT_EQ(out[4], 0.0f);
}

TEST(ExecutorTest, CallerBufferOutputsMustBeAligned) {
  auto h = Make({"y"}, {}, OutputPlacement::kCallerBuffer);
  ASSERT_TRUE(h.ok()) << h.status();
  auto context = h->executor->NewContext().value();
  alignas(64) float out[1 + 4] = {};
  Tensor x = Tensor::F32(Shape{2, 3}, kX);
  const void* inputs[] = {x.raw_data()};
  void* outputs[] = {out + 1};
  absl::Status status = h->executor->Run(*context, inputs, outputs);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("output 0 buffer is not 64-byte aligned"), std::string::npos);
  void* none[] = {nullptr};
  EXPECT_NE(h->executor->Run(*context, inputs, none).message().find("output 0 has no buffer"),
            std::string::npos);
  const void* no_input[] = {nullptr};
  void* aligned[] = {out};
  EXPECT_NE(h->executor->Run(*context, no_input, aligned).message().find("input 0 has no data"),
            std::string::npos);
}

TEST(ExecutorTest, CopiesFetchedInputsWeightsAndDuplicates) {
  auto h = Make({"y", "x", "w", "y", "add"}, {}, OutputPlacement::kCallerBuffer);
  ASSERT_TRUE(h.ok()) << h.status();
  auto context = h->executor->NewContext().value();
  Tensor x = Tensor::F32(Shape{2, 3}, kX);
  std::vector<Tensor> outs = {
      Tensor::Allocate(DataType::kF32, Shape{2, 2}).value(),
      Tensor::Allocate(DataType::kF32, Shape{2, 3}).value(),
      Tensor::Allocate(DataType::kF32, Shape{3, 2}).value(),
      Tensor::Allocate(DataType::kF32, Shape{2, 2}).value(),
      Tensor::Allocate(DataType::kF32, Shape{2, 2}).value()};
  const void* inputs[] = {x.raw_data()};
  std::vector<void*> outputs;
  for (Tensor& t : outs) outputs.push_back(t.raw_data());
  ASSERT_TRUE(h->executor->Run(*context, inputs, outputs).ok());
  EXPECT_TENSOR_NEAR(outs[0], (Shape{2, 2}), kY, 1e-6);
  EXPECT_TENSOR_NEAR(outs[1], (Shape{2, 3}), (std::vector<double>(kX.begin(), kX.end())), 0);
  EXPECT_TENSOR_NEAR(outs[2], (Shape{3, 2}), (std::vector<double>{1, -1, 0, 2, 1, 1}), 0);
  EXPECT_TENSOR_NEAR(outs[3], (Shape{2, 2}), kY, 1e-6);
  EXPECT_TENSOR_NEAR(outs[4], (Shape{2, 2}), (std::vector<double>{4.5, 2, 0.5, -2}), 1e-6);
}

TEST(ExecutorTest, WorkgroupsOnAPoolWithScratch) {
  ThreadPool pool(3);
  TestProviderOptions provider;
  provider.workgroups = 2;
  provider.scratch_bytes = 200;  // filled with 0xFF by every call
  auto h = Make({"y"}, provider, OutputPlacement::kArena, &pool);
  ASSERT_TRUE(h.ok()) << h.status();
  auto a = h->executor->NewContext().value();
  auto b = h->executor->NewContext().value();
  EXPECT_NE(a->arena(), b->arena());
  Tensor x = Tensor::F32(Shape{2, 3}, kX);
  Tensor y = Tensor::Allocate(DataType::kF32, Shape{2, 2}).value();
  const void* inputs[] = {x.raw_data()};
  void* outputs[] = {y.raw_data()};
  ASSERT_TRUE(h->executor->Run(*a, inputs, outputs).ok());
  EXPECT_TENSOR_NEAR(y, (Shape{2, 2}), kY, 1e-6);
  ASSERT_TRUE(h->executor->Run(*b, inputs, outputs).ok());
  EXPECT_TENSOR_NEAR(y, (Shape{2, 2}), kY, 1e-6);
}

// Runs the Dense graph with every Add workgroup failing with `fail_code`, with and
// without a thread pool, `runs` times in one context; returns each run's status.
std::vector<absl::Status> RunWithFailingAdd(int32_t fail_code, int workgroups, int runs) {
  std::vector<absl::Status> statuses;
  ThreadPool pool(2);
  for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
    TestProviderOptions provider;
    provider.fail_op = "Add";
    provider.fail_code = fail_code;
    provider.workgroups = workgroups;
    auto h = Make({"y"}, provider, OutputPlacement::kArena, p);
    EXPECT_TRUE(h.ok()) << h.status();
    if (!h.ok()) return statuses;
    auto context = h->executor->NewContext().value();
    Tensor x = Tensor::F32(Shape{2, 3}, kX);
    Tensor y = Tensor::Allocate(DataType::kF32, Shape{2, 2}).value();
    const void* inputs[] = {x.raw_data()};
    void* outputs[] = {y.raw_data()};
    for (int run = 0; run < runs; ++run) {
      statuses.push_back(h->executor->Run(*context, inputs, outputs));
    }
  }
  return statuses;
}

TEST(ExecutorTest, KernelFailureNamesTheNode) {
  for (const absl::Status& status : RunWithFailingAdd(7, 2, 1)) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
    EXPECT_EQ(status.message(),
              "node 'add' (Add): kernel 'test.Add': unknown kernel status (status 7)");
  }
}

// A data error is the caller's: InvalidArgument with the kernel's own detail, and the
// context runs again afterwards (the report is forgotten).
TEST(ExecutorTest, DataErrorIsInvalidArgumentWithTheKernelsDetail) {
  std::vector<absl::Status> statuses = RunWithFailingAdd(KILN_KERNEL_INDEX_OUT_OF_RANGE, 3, 2);
  ASSERT_EQ(statuses.size(), 4u);
  for (const absl::Status& status : statuses) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(),
              "node 'add' (Add): kernel 'test.Add': index 70000 out of range [0, 30522)");
  }
}

TEST(ExecutorTest, CreateVerifiesThePlan) {
  Graph graph = Dense();
  AlignedBlock weights = Weights(graph);
  Plan plan = BuildPlan(graph, {graph.outputs()[0].tensor}, TestKernelProvider()).value();
  plan.steps[0].params_offset = 3;
  auto executor = Executor::Create(std::make_shared<const Plan>(plan), weights.data(), nullptr);
  ASSERT_FALSE(executor.ok());
  EXPECT_NE(executor.status().message().find("parameter block"), std::string::npos);
  plan = BuildPlan(graph, {graph.outputs()[0].tensor}, TestKernelProvider()).value();
  auto no_weights = Executor::Create(std::make_shared<const Plan>(plan), nullptr, nullptr);
  EXPECT_FALSE(no_weights.ok());
}

}  // namespace
}  // namespace kiln
