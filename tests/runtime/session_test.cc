// Session: feeds and fetches by name, run-time dimensions, and every error keeping the
// session usable.
#include "runtime/session.h"

#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "gtest/gtest.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

// y = relu(x @ w + b) with a -1 batch dimension.
std::unique_ptr<Session> MakeDenseSession(int optimization_level = 2) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{-1, 2});
  Value w = b.Constant(Tensor::F32(Shape{2, 2}, {1, -1, 2, 1}), "w");
  Value bias = b.Constant(Tensor::F32(Shape{2}, {0.5, 0}), "b");
  Value y = ops::Relu(b, ops::Add(b, ops::MatMul(b, x, w), bias));
  b.Output("y", y);
  absl::StatusOr<proto::GraphDef> def = b.Build();
  EXPECT_TRUE(def.ok()) << def.status();
  SessionOptions options;
  options.compile.optimization_level = optimization_level;
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(*def, options);
  EXPECT_TRUE(session.ok()) << session.status();
  return std::move(session).value();
}

void ExpectError(const absl::StatusOr<std::vector<Tensor>>& result, const std::string& text) {
  ASSERT_FALSE(result.ok());
  EXPECT_NE(std::string(result.status().message()).find(text), std::string::npos)
      << result.status();
}

TEST(SessionTest, RunsAtAnyBatch) {
  auto session = MakeDenseSession();
  // x = [[1, 2]] -> [1*1+2*2+0.5, -1+2] = [5.5, 1]
  auto one = session->Run({{"x", Tensor::F32(Shape{1, 2}, {1, 2})}}, {"y"});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_TENSOR_NEAR((*one)[0], (Shape{1, 2}), (std::vector<double>{5.5, 1}), 1e-6);
  // Second row: [-3, 0] -> [-3+0.5, 3] -> relu -> [0, 3]
  auto two = session->Run({{"x", Tensor::F32(Shape{2, 2}, {1, 2, -3, 0})}});
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_TENSOR_NEAR((*two)[0], (Shape{2, 2}), (std::vector<double>{5.5, 1, 0, 3}), 1e-6);
  auto empty = session->Run({{"x", Tensor::Allocate(DataType::kF32, Shape{0, 2}).value()}});
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ((*empty)[0].shape(), (Shape{0, 2}));
}

// Step profiling: one entry per step of the plan, naming its node, op and kernel, with
// the runs it counted; off by default (nothing counted).
TEST(SessionTest, ProfileTimesEveryStep) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{-1, 2});
  Value w = b.Constant(Tensor::F32(Shape{2, 2}, {1, -1, 2, 1}), "w");
  b.Output("y", ops::Relu(b, ops::MatMul(b, x, w)));
  absl::StatusOr<proto::GraphDef> def = b.Build();
  ASSERT_TRUE(def.ok()) << def.status();
  for (bool profile : {false, true}) {
    SessionOptions options;
    options.profile_steps = profile;
    options.compile.optimization_level = 0;
    absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(*def, options);
    ASSERT_TRUE(session.ok()) << session.status();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE((*session)->Run({{"x", Tensor::F32(Shape{1, 2}, {1, 2})}}).ok());
    }
    const std::vector<StepTime> steps = (*session)->Profile();
    ASSERT_EQ(steps.size(), 2u);
    EXPECT_EQ(steps[0].op, "MatMul");
    EXPECT_EQ(steps[1].op, "Relu");
    EXPECT_EQ(steps[1].output, "f32[1,2]");
    EXPECT_FALSE(steps[0].kernel.empty());
    int64_t nanos = 0;
    for (const StepTime& step : steps) {
      EXPECT_EQ(step.runs, profile ? 3 : 0);
      EXPECT_GE(step.nanos, 0);
      nanos += step.nanos;
    }
    if (profile) {
      EXPECT_GT(nanos, 0);
    } else {
      EXPECT_EQ(nanos, 0);
    }
  }
}

TEST(SessionTest, FetchesByTensorName) {
  // Level 1 keeps the weight 'w' as given (-O2 repacks it for the GEMM).
  auto session = MakeDenseSession(1);
  auto result = session->Run({{"x", Tensor::F32(Shape{1, 2}, {1, 2})}}, {"w", "y", "x"});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->size(), 3u);
  EXPECT_TENSOR_NEAR((*result)[0], (Shape{2, 2}), (std::vector<double>{1, -1, 2, 1}), 0);
  EXPECT_TENSOR_NEAR((*result)[2], (Shape{1, 2}), (std::vector<double>{1, 2}), 0);
  // At -O2 the packed weight replaced 'w', and the error says how to keep it.
  auto packed = MakeDenseSession()->Run({{"x", Tensor::F32(Shape{1, 2}, {1, 2})}}, {"w"});
  ExpectError(packed, "optimization may have removed it");
}

TEST(SessionTest, ErrorsNameTheFeedOrFetchAndLeaveTheSessionUsable) {
  auto session = MakeDenseSession();
  Tensor good = Tensor::F32(Shape{1, 2}, {1, 2});
  ExpectError(session->Run({}, {"y"}), "input 'x' is not fed");
  ExpectError(session->Run({{"x", good}, {"z", good}}, {"y"}), "feed 'z' is not a graph input");
  ExpectError(session->Run({{"x", good}, {"x", good}}, {"y"}), "feed 'x' is given twice");
  ExpectError(session->Run({{"w", good}}, {"y"}), "feed 'w' is not a graph input");
  ExpectError(session->Run({{"x", Tensor::I32(Shape{1, 2}, {1, 2})}}, {"y"}),
              "feed 'x': dtype i32, expected f32");
  ExpectError(session->Run({{"x", Tensor::F32(Shape{1, 3}, {1, 2, 3})}}, {"y"}),
              "input 'x': shape [1,3] does not match declared [-1,2]");
  ExpectError(session->Run({{"x", Tensor::F32(Shape{2}, {1, 2})}}, {"y"}),
              "input 'x': shape [2] does not match declared [-1,2]");
  ExpectError(session->Run({{"x", Tensor()}}, {"y"}), "feed 'x': dtype invalid");
  ExpectError(session->Run({{"x", good}}, {"nope"}), "fetch 'nope'");
  ExpectError(session->Run({{"x", good}}, {"w:4"}), "fetch 'w:4'");
  auto ok = session->Run({{"x", good}}, {"y"});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TENSOR_NEAR((*ok)[0], (Shape{1, 2}), (std::vector<double>{5.5, 1}), 1e-6);
}

TEST(SessionTest, BorrowedFeedsAreRead) {
  auto session = MakeDenseSession();
  float data[2] = {1, 2};
  auto result = session->Run({{"x", Tensor::Borrow(DataType::kF32, Shape{1, 2}, data)}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TENSOR_NEAR((*result)[0], (Shape{1, 2}), (std::vector<double>{5.5, 1}), 1e-6);
}

TEST(SessionTest, CreateRejectsBadGraphs) {
  proto::GraphDef def;
  def.add_node()->set_op("Nope");
  EXPECT_FALSE(Session::Create(def).ok());
  SessionOptions options;
  options.num_threads = -1;
  GraphBuilder b;
  b.Output("x", b.Input("x", DataType::kF32, Shape{1}));
  EXPECT_FALSE(Session::Create(b.BuildGraph().value(), options).ok());
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// An embedding lookup with an index past the table: the caller's mistake, reported as
// InvalidArgument naming the node and the index by the CPU kernel; the Session runs on.
TEST(SessionTest, OutOfRangeGatherIndexIsInvalidArgumentNamingNodeAndValue) {
  GraphBuilder b;
  Value ids = b.Input("ids", DataType::kI32, Shape{-1});
  std::vector<float> table_values(10 * 4);
  for (size_t i = 0; i < table_values.size(); ++i) table_values[i] = static_cast<float>(i);
  Value table = b.Constant(Tensor::F32(Shape{10, 4}, table_values), "table");
  b.Output("y", ops::Gather(b, table, ids));
  absl::StatusOr<proto::GraphDef> def = b.Build();
  ASSERT_TRUE(def.ok()) << def.status();
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(*def);
  ASSERT_TRUE(session.ok()) << session.status();

  auto bad = (*session)->Run({{"ids", Tensor::I32(Shape{3}, {1, 70000, 2})}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(bad.status().message())
                .find("input 'indices' element 1 is 70000, out of range for axis 0 of input "
                      "'data' (size 10)"),
            std::string::npos)
      << bad.status();
  EXPECT_NE(std::string(bad.status().message()).find("(Gather)"), std::string::npos)
      << bad.status();

  auto good = (*session)->Run({{"ids", Tensor::I32(Shape{2}, {9, -10})}});
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_TENSOR_NEAR((*good)[0], (Shape{2, 4}),
                     (std::vector<double>{36, 37, 38, 39, 0, 1, 2, 3}), 0);
}

}  // namespace
}  // namespace kiln
