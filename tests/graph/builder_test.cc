// GraphBuilder and the typed op functions: shapes checked as the graph is built.
#include "graph/builder.h"

#include "graph/builder_ops.h"
#include "gtest/gtest.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

TEST(BuilderTest, InfersTypesAsNodesAreAdded) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{-1, 4});
  Value w = b.Constant(testing::RandomTensor(DataType::kF32, Shape{4, 3}, 1));
  Value y = ops::MatMul(b, x, w);
  EXPECT_EQ(y.dtype(), DataType::kF32);
  EXPECT_EQ(y.shape(), (Shape{-1, 3}));
  Value r = ops::Relu(b, ops::Add(b, y, b.Constant(testing::RandomTensor(DataType::kF32, Shape{3}, 2))));
  b.Output("y", r);
  absl::StatusOr<proto::GraphDef> def = b.Build();
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_EQ(def->signature().inputs(0), "x");
  EXPECT_EQ(def->signature().outputs(0).name(), "y");
  EXPECT_EQ(def->node_size(), 6);
}

TEST(BuilderTest, DefaultNamesAreUniqueAndScoped) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{2});
  Value a = ops::Add(b, x, x);
  Value c = ops::Add(b, a, x);
  b.set_name_scope("block1");
  Value d = ops::MatMul(b, ops::Reshape(b, c, {1, 2}), ops::Reshape(b, x, {2, 1}));
  EXPECT_EQ(b.graph().node(a.ref().node).name, "add");
  EXPECT_EQ(b.graph().node(c.ref().node).name, "add_1");
  EXPECT_EQ(b.graph().node(d.ref().node).name, "block1/mat_mul");
  EXPECT_TRUE(b.status().ok()) << b.status();
}

TEST(BuilderTest, FirstShapeErrorIsKept) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{2, 3});
  Value v = b.Input("v", DataType::kF32, Shape{4});
  Value bad = ops::Add(b, x, v);  // [2,3] + [4] does not broadcast
  EXPECT_FALSE(bad.valid());
  Value later = ops::Relu(b, x);  // ignored after the error
  EXPECT_FALSE(later.valid());
  b.Output("y", bad);
  absl::StatusOr<proto::GraphDef> def = b.Build();
  ASSERT_FALSE(def.ok());
  EXPECT_NE(std::string(def.status().message()).find("node 'add' (Add)"), std::string::npos)
      << def.status();
}

TEST(BuilderTest, DtypeErrorNamesTheInput) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{2});
  Value i = b.Input("i", DataType::kI32, Shape{2});
  ops::Mul(b, x, i);
  ASSERT_FALSE(b.status().ok());
  EXPECT_NE(std::string(b.status().message()).find("node 'mul' (Mul): input 'y' has dtype i32"), std::string::npos)
      << b.status();
}

TEST(BuilderTest, DuplicateNameIsAnError) {
  GraphBuilder b;
  b.Input("x", DataType::kF32, Shape{2});
  b.Input("x", DataType::kF32, Shape{2});
  ASSERT_FALSE(b.status().ok());
  EXPECT_NE(std::string(b.status().message()).find("duplicate node name 'x'"), std::string::npos);
}

TEST(BuilderTest, ValueOfAnotherBuilderIsAnError) {
  GraphBuilder a;
  GraphBuilder b;
  Value x = a.Input("x", DataType::kF32, Shape{2});
  ops::Relu(b, x);
  ASSERT_FALSE(b.status().ok());
  EXPECT_NE(std::string(b.status().message()).find("not a value of this builder"),
            std::string::npos);
}

TEST(BuilderTest, InvalidValueReportsNoType) {
  Value v;
  EXPECT_FALSE(v.valid());
  EXPECT_EQ(v.dtype(), DataType::kInvalid);
  EXPECT_EQ(v.shape().rank(), 0);
}

TEST(BuilderTest, ScalarLikeTakesTheDtype) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF64, Shape{3});
  Value half = ops::ScalarLike(b, x, 0.5);
  EXPECT_EQ(half.dtype(), DataType::kF64);
  EXPECT_EQ(ops::Mul(b, x, half).shape(), (Shape{3}));
  EXPECT_TRUE(b.status().ok()) << b.status();
}

}  // namespace
}  // namespace kiln
