// Session over the planned runtime: the plan cache, caller-provided output buffers,
// kernel libraries from SessionOptions, and the example models against the reference
// interpreter.
#include <cstring>

#include "examples/models.h"
#include "graph/bind_shapes.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "gtest/gtest.h"
#include "runtime/reference_interpreter.h"
#include "runtime/default_provider.h"
#include "runtime/session.h"
#include "tests/runtime/test_kernel_provider.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

using testing::TestKernelProvider;
using testing::TestProviderOptions;

// y = relu(x @ w + b) with a -1 batch dimension (the kernels of the test provider).
Graph DenseGraph() {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{-1, 2});
  Value w = b.Constant(Tensor::F32(Shape{2, 2}, {1, -1, 2, 1}), "w");
  Value bias = b.Constant(Tensor::F32(Shape{2}, {0.5, 0}), "b");
  b.Output("y", ops::Relu(b, ops::Add(b, ops::MatMul(b, x, w), bias)));
  return b.BuildGraph().value();
}

std::unique_ptr<Session> MakeSession(SessionOptions options = {}) {
  auto session = Session::Create(DenseGraph(), options);
  EXPECT_TRUE(session.ok()) << session.status();
  return std::move(session).value();
}

void ExpectError(const absl::Status& status, const std::string& text) {
  ASSERT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find(text), std::string::npos) << status;
}

TEST(SessionRuntimeTest, CachesOnePlanPerShapeSignature) {
  SessionOptions options;
  options.max_cached_plans = 2;
  auto session = MakeSession(options);
  Feeds one = {{"x", Tensor::F32(Shape{1, 2}, {1, 2})}};
  Feeds three = {{"x", Tensor::F32(Shape{3, 2}, {})}};
  Feeds five = {{"x", Tensor::F32(Shape{5, 2}, {})}};
  auto p1 = session->GetPlan(one, {"y"});
  ASSERT_TRUE(p1.ok()) << p1.status();
  EXPECT_EQ(session->GetPlan(one, {"y"}).value(), *p1);  // the same plan object
  EXPECT_EQ(session->num_cached_plans(), 1);
  auto p3 = session->GetPlan(three, {"y"});
  ASSERT_TRUE(p3.ok());
  EXPECT_NE(*p3, *p1);
  EXPECT_EQ((*p3)->input_types[0].ToString(), "f32[3,2]");
  EXPECT_EQ(session->num_cached_plans(), 2);
  // Another fetch list is another plan; the oldest (batch 1) is dropped.
  ASSERT_TRUE(session->GetPlan(three, {"y", "x"}).ok());
  EXPECT_EQ(session->num_cached_plans(), 2);
  EXPECT_NE(session->GetPlan(one, {"y"}).value(), *p1);
  // A plan handed out stays valid after it leaves the cache.
  EXPECT_EQ((*p1)->input_types[0].ToString(), "f32[1,2]");
  ASSERT_TRUE(session->Run(five).ok());
  auto types = session->FetchTypes(five, {"y", "x"});
  ASSERT_TRUE(types.ok()) << types.status();
  EXPECT_EQ((*types)[0].ToString(), "f32[5,2]");
  EXPECT_EQ((*types)[1].ToString(), "f32[5,2]");
  // Types need no data (ModelRunner::OutputTypes, the C API's kiln_session_output_shape);
  // a run does.
  Feeds shape_only = {{"x", Tensor::Borrow(DataType::kF32, Shape{7, 2}, nullptr)}};
  types = session->FetchTypes(shape_only, {"y"});
  ASSERT_TRUE(types.ok()) << types.status();
  EXPECT_EQ((*types)[0].ToString(), "f32[7,2]");
  absl::Status ran = session->Run(shape_only).status();
  EXPECT_EQ(ran.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ran.message().find("feed 'x' has no data"), absl::string_view::npos) << ran;
}

TEST(SessionRuntimeTest, WritesIntoCallerBuffers) {
  auto session = MakeSession();
  Feeds feeds = {{"x", Tensor::F32(Shape{2, 2}, {1, 2, -3, 0})}};
  // Aligned: the kernels write straight into the buffer (a kOutput value in the plan).
  Tensor y = Tensor::Allocate(DataType::kF32, Shape{2, 2}).value();
  ASSERT_TRUE(session->Run(feeds, {"y"}, absl::MakeSpan(&y, 1)).ok());
  EXPECT_TENSOR_NEAR(y, (Shape{2, 2}), (std::vector<double>{5.5, 1, 0, 3}), 1e-6);
  // Unaligned: planned in the arena and copied out.
  alignas(64) float storage[1 + 4] = {};
  Tensor unaligned = Tensor::Borrow(DataType::kF32, Shape{2, 2}, storage + 1);
  ASSERT_TRUE(session->Run(feeds, {"y"}, absl::MakeSpan(&unaligned, 1)).ok());
  EXPECT_FLOAT_EQ(storage[1], 5.5f);
  EXPECT_FLOAT_EQ(storage[4], 3.0f);
  EXPECT_EQ(session->num_cached_plans(), 2);  // one per output placement
}

TEST(SessionRuntimeTest, OutputBufferErrorsNameTheFetch) {
  auto session = MakeSession();
  Feeds feeds = {{"x", Tensor::F32(Shape{1, 2}, {1, 2})}};
  std::vector<Tensor> none;
  ExpectError(session->Run(feeds, {"y"}, absl::MakeSpan(none)), "0 output buffers for 1 fetches");
  Tensor wrong_shape = Tensor::Allocate(DataType::kF32, Shape{2, 2}).value();
  ExpectError(session->Run(feeds, {"y"}, absl::MakeSpan(&wrong_shape, 1)),
              "output buffer for fetch 'y' is f32[2,2], expected f32[1,2]");
  Tensor wrong_dtype = Tensor::Allocate(DataType::kF64, Shape{1, 2}).value();
  ExpectError(session->Run(feeds, {"y"}, absl::MakeSpan(&wrong_dtype, 1)),
              "output buffer for fetch 'y' is f64[1,2], expected f32[1,2]");
  Tensor no_data = Tensor::Borrow(DataType::kF32, Shape{1, 2}, nullptr);
  ExpectError(session->Run(feeds, {"y"}, absl::MakeSpan(&no_data, 1)),
              "output buffer for fetch 'y' has no data");
  Tensor bad_feed_out = Tensor::Allocate(DataType::kF32, Shape{1, 2}).value();
  ExpectError(session->Run({{"x", Tensor::F32(Shape{1, 3}, {})}}, {"y"},
                           absl::MakeSpan(&bad_feed_out, 1)),
              "input 'x': shape [1,3] does not match declared [-1,2]");
  Tensor good = Tensor::Allocate(DataType::kF32, Shape{1, 2}).value();
  ASSERT_TRUE(session->Run(feeds, {"y"}, absl::MakeSpan(&good, 1)).ok());
  EXPECT_TENSOR_NEAR(good, (Shape{1, 2}), (std::vector<double>{5.5, 1}), 1e-6);
}

TEST(SessionRuntimeTest, RunsAKernelLibraryFromTheOptions) {
  for (int threads : {1, 3}) {
    TestProviderOptions provider;
    provider.workgroups = 3;
    SessionOptions options;
    options.num_threads = threads;
    options.kernel_provider = std::make_shared<TestKernelProvider>(provider);
    auto session = MakeSession(options);
    EXPECT_EQ(session->kernel_provider().name(), "test");
    auto result = session->Run({{"x", Tensor::F32(Shape{3, 2}, {1, 2, -3, 0, 0, 1})}});
    ASSERT_TRUE(result.ok()) << result.status();
    // Row 3: [0, 1] @ w = [2, 1] + b -> [2.5, 1].
    EXPECT_TENSOR_NEAR((*result)[0], (Shape{3, 2}), (std::vector<double>{5.5, 1, 0, 3, 2.5, 1}),
                       1e-6);
  }
}

TEST(SessionRuntimeTest, KernelAndPlanErrorsLeaveTheSessionUsable) {
  TestProviderOptions failing;
  failing.fail_op = "Relu";
  SessionOptions options;
  options.kernel_provider = std::make_shared<TestKernelProvider>(failing);
  auto session = MakeSession(options);
  Feeds feeds = {{"x", Tensor::F32(Shape{1, 2}, {1, 2})}};
  ExpectError(session->Run(feeds).status(),
              "node 'relu' (Relu): kernel 'test.Relu': unknown kernel status (status 7)");
  // The fetches before relu still run.
  auto add = session->Run(feeds, {"add"});
  ASSERT_TRUE(add.ok()) << add.status();
  EXPECT_TENSOR_NEAR((*add)[0], (Shape{1, 2}), (std::vector<double>{5.5, 1}), 1e-6);

  // An op the library lacks fails at plan time, naming the node.
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{-1});
  b.Output("y", ops::Exp(b, x));
  b.Output("z", ops::Neg(b, x));
  SessionOptions test_options;
  test_options.kernel_provider = std::make_shared<TestKernelProvider>();
  auto partial = Session::Create(b.BuildGraph().value(), test_options).value();
  Feeds one = {{"x", Tensor::F32(Shape{1}, {2})}};
  ExpectError(partial->Run(one).status(), "node 'exp' (Exp): test provider: no kernel");
  auto z = partial->Run(one, {"z"});
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_TENSOR_NEAR((*z)[0], (Shape{1}), (std::vector<double>{-2}), 0);
}

TEST(SessionRuntimeTest, BindErrorsNameTheNode) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{-1});
  Value y = b.Input("y", DataType::kF32, Shape{-1});
  b.Output("z", ops::Add(b, x, y));
  auto session = Session::Create(b.BuildGraph().value()).value();
  ExpectError(session->Run({{"x", Tensor::F32(Shape{2}, {})}, {"y", Tensor::F32(Shape{3}, {})}})
                  .status(),
              "node 'add' (Add)");
  auto ok = session->Run({{"x", Tensor::F32(Shape{2}, {1, 2})}, {"y", Tensor::F32(Shape{1}, {3})}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TENSOR_NEAR((*ok)[0], (Shape{2}), (std::vector<double>{4, 5}), 0);
}

// The example models (shrunk), run by the default kernel library through plans with
// in-place reuse, equal the reference interpreter at several batch sizes.
TEST(SessionRuntimeTest, ExampleModelsMatchTheReferenceInterpreter) {
  examples::ResNetConfig resnet;
  resnet.image = 16;
  resnet.base_width = 4;
  resnet.blocks[0] = resnet.blocks[1] = resnet.blocks[2] = resnet.blocks[3] = 1;
  resnet.classes = 5;
  examples::BertConfig bert;
  bert.layers = 2;
  bert.hidden = 16;
  bert.heads = 2;
  bert.ffn = 32;
  bert.seq = 4;
  examples::MlpConfig mlp;
  mlp.in = 8;
  mlp.hidden = 16;
  absl::StatusOr<Graph> graphs[] = {examples::BuildMlp(mlp), examples::BuildResNet50(resnet),
                                    examples::BuildBert(bert), examples::BuildEltwise()};
  int library_reused = 0;
  for (auto& graph : graphs) {
   ASSERT_TRUE(graph.ok()) << graph.status();
   // Generated loop kernels (the default) and the CPU library alone.
   for (bool library : {false, true}) {
    SessionOptions options{2};
    if (library) options.kernel_provider = LibraryKernelProvider();
    auto session = Session::Create(*graph, options);
    ASSERT_TRUE(session.ok()) << session.status();
    const Graph& g = (*session)->graph();
    for (int64_t batch : {1, 3}) {
      Shape shape = g.node(g.inputs()[0]).outputs[0].shape;
      shape.dim(0) = batch;
      Tensor x = testing::RandomTensor(DataType::kF32, shape, 11 * batch);
      auto got = (*session)->Run({{"x", x}});
      ASSERT_TRUE(got.ok()) << got.status();
      Graph bound = BindInputShapes(g, {{"x", shape}}).value();
      auto want = EvaluateReference(bound, {{g.inputs()[0], x}}, {g.outputs()[0].tensor});
      ASSERT_TRUE(want.ok()) << want.status();
      EXPECT_TENSOR_NEAR((*got)[0], (*want)[0].shape(), testing::Values((*want)[0]), 1e-5);
      // The library kernels' in-place hints are taken (counted over the models below:
      // the MLP's elementwise ops are all folded into its MatMuls). Generated loops write
      // to their own buffers: with the output aliasing an input, LLVM's alias checks would
      // fall back to scalar code.
      auto plan = (*session)->GetPlan({{"x", x}}, {"y"});
      ASSERT_TRUE(plan.ok());
      for (const PlannedValue& v : (*plan)->memory.values) {
        if (library) library_reused += v.reuses >= 0;
      }
    }
   }
  }
  EXPECT_GT(library_reused, 0);
}

}  // namespace
}  // namespace kiln
