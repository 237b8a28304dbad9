// Tests of ReduceSum, ReduceMean and ReduceMax: values, axes handling, keepdims, empty
// reductions, dtypes, shape inference and errors.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

using ::kiln::testing::ExpectInvalid;
using ::kiln::testing::ExpectValues;
using ::kiln::testing::InferSingleOp;
using ::kiln::testing::MakeTensor;
using ::kiln::testing::RunSingleOp;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();

const std::vector<std::string> kReduceOps = {"ReduceSum", "ReduceMean", "ReduceMax"};

AttrMap Axes(std::vector<int64_t> axes, bool keepdims = false) {
  return {{"axes", std::move(axes)}, {"keepdims", keepdims}};
}

absl::StatusOr<Tensor> Reduce(absl::string_view op, const Tensor& x, AttrMap attrs) {
  ASSIGN_OR_RETURN(std::vector<Tensor> outputs, RunSingleOp(op, {x}, std::move(attrs)));
  return outputs.at(0);
}

absl::StatusOr<TensorType> Infer(absl::string_view op, TensorType x, AttrMap attrs) {
  ASSIGN_OR_RETURN(std::vector<TensorType> outputs, InferSingleOp(op, {x}, std::move(attrs)));
  return outputs.at(0);
}

std::vector<int64_t> Ints(const Tensor& t) {
  std::vector<int64_t> out(t.NumElements());
  for (int64_t i = 0; i < t.NumElements(); ++i) out[i] = t.GetAsInt64(i);
  return out;
}

// x = [[1, 2, 3], [4, 5, 6]]
Tensor Matrix(DataType dtype) { return MakeTensor(dtype, {2, 3}, {1, 2, 3, 4, 5, 6}); }

TEST(ReduceSumTest, MatrixValues) {
  for (DataType dtype : {DataType::kF32, DataType::kF64, DataType::kI32, DataType::kI64}) {
    SCOPED_TRACE(DataTypeName(dtype));
    Tensor x = Matrix(dtype);
    ExpectValues(Reduce("ReduceSum", x, Axes({})), {}, {21});
    ExpectValues(Reduce("ReduceSum", x, Axes({0})), {3}, {5, 7, 9});
    ExpectValues(Reduce("ReduceSum", x, Axes({1})), {2}, {6, 15});
    ExpectValues(Reduce("ReduceSum", x, Axes({-1}, true)), {2, 1}, {6, 15});
    ExpectValues(Reduce("ReduceSum", x, Axes({-2, 1}, true)), {1, 1}, {21});
    EXPECT_EQ(Reduce("ReduceSum", x, Axes({0}))->dtype(), dtype);
  }
}

TEST(ReduceMeanTest, MatrixValues) {
  for (DataType dtype : {DataType::kF32, DataType::kF64, DataType::kBF16}) {
    SCOPED_TRACE(DataTypeName(dtype));
    Tensor x = Matrix(dtype);
    ExpectValues(Reduce("ReduceMean", x, Axes({})), {}, {3.5});
    ExpectValues(Reduce("ReduceMean", x, Axes({0})), {3}, {2.5, 3.5, 4.5});
    ExpectValues(Reduce("ReduceMean", x, Axes({1}, true)), {2, 1}, {2, 5});
  }
  // Integer means truncate toward zero: 3.5 -> 3, [2.5, 3.5, 4.5] -> [2, 3, 4].
  ExpectValues(Reduce("ReduceMean", Matrix(DataType::kI32), Axes({})), {}, {3});
  ExpectValues(Reduce("ReduceMean", Matrix(DataType::kI64), Axes({0})), {3}, {2, 3, 4});
}

TEST(ReduceMaxTest, MatrixValues) {
  for (DataType dtype : {DataType::kF32, DataType::kF16, DataType::kI32, DataType::kU8}) {
    SCOPED_TRACE(DataTypeName(dtype));
    Tensor x = Matrix(dtype);
    ExpectValues(Reduce("ReduceMax", x, Axes({})), {}, {6});
    ExpectValues(Reduce("ReduceMax", x, Axes({0}, true)), {1, 3}, {4, 5, 6});
    ExpectValues(Reduce("ReduceMax", x, Axes({1})), {2}, {3, 6});
  }
  ExpectValues(Reduce("ReduceMax", MakeTensor(DataType::kF64, {4}, {-kInf, -3, -kInf, -7}),
                      Axes({})),
               {}, {-3});
  ExpectValues(Reduce("ReduceMax", MakeTensor(DataType::kF32, {2}, {-kInf, -kInf}), Axes({})),
               {}, {-kInf});
}

// x[i][j][k] = 12 i + 4 j + k over [2, 3, 4]; reducing axes 0 and 2 leaves j:
//   sum = sum_{i<2, k<4} (12 i + 4 j + k) = 48 + 32 j + 12,
//   mean = sum / 8, max = 12 + 4 j + 3.
TEST(ReduceTest, NonAdjacentAxesOfRank3) {
  std::vector<double> iota(24);
  for (int i = 0; i < 24; ++i) iota[i] = i;
  Tensor x = MakeTensor(DataType::kF32, {2, 3, 4}, iota);
  for (const std::vector<int64_t>& axes :
       std::vector<std::vector<int64_t>>{{0, 2}, {2, 0}, {-1, 0}, {-3, -1}}) {
    ExpectValues(Reduce("ReduceSum", x, Axes(axes)), {3}, {60, 92, 124});
    ExpectValues(Reduce("ReduceMean", x, Axes(axes)), {3}, {7.5, 11.5, 15.5});
    ExpectValues(Reduce("ReduceMax", x, Axes(axes, true)), {1, 3, 1}, {15, 19, 23});
  }
  // Reducing only the middle axis: sum_j (12 i + 4 j + k) = 36 i + 12 + 3 k.
  ExpectValues(Reduce("ReduceSum", MakeTensor(DataType::kI64, {2, 3, 4}, iota), Axes({1})),
               {2, 4}, {12, 15, 18, 21, 48, 51, 54, 57});
}

TEST(ReduceTest, ScalarInputReducesToItself) {
  for (const std::string& op : kReduceOps) {
    ExpectValues(Reduce(op, MakeTensor(DataType::kF32, {}, {2.5}), Axes({})), {}, {2.5});
    ExpectValues(Reduce(op, MakeTensor(DataType::kF32, {}, {2.5}), Axes({}, true)), {}, {2.5});
  }
}

TEST(ReduceTest, SizeOneDims) {
  Tensor x = MakeTensor(DataType::kF64, {1, 3, 1}, {1, -2, 4});
  ExpectValues(Reduce("ReduceSum", x, Axes({0})), {3, 1}, {1, -2, 4});
  ExpectValues(Reduce("ReduceMean", x, Axes({0, 2}, true)), {1, 3, 1}, {1, -2, 4});
  ExpectValues(Reduce("ReduceMax", x, Axes({1})), {1, 1}, {4});
  ExpectValues(Reduce("ReduceMean", x, Axes({})), {}, {1});
}

TEST(ReduceTest, HalfPrecisionAccumulatesInDouble) {
  // f16 cannot hold 2049, so a running f16 sum of ones would stop at 2048.
  Tensor ones = MakeTensor(DataType::kF16, {3000}, std::vector<double>(3000, 1.0));
  ExpectValues(Reduce("ReduceSum", ones, Axes({})), {}, {3000});
  ExpectValues(Reduce("ReduceMean", ones, Axes({})), {}, {1});
  Tensor b = MakeTensor(DataType::kBF16, {2, 2}, {0.5, 0.25, 256, 1});
  ExpectValues(Reduce("ReduceSum", b, Axes({1})), {2}, {0.75, 256});  // 257 rounds to 256
}

TEST(ReduceTest, IntegerSumsWrapAndMeansAreExact) {
  EXPECT_THAT(Ints(*Reduce("ReduceSum", Tensor::I32({2}, {2147483647, 1}), Axes({}))),
              ElementsAre(-2147483647 - 1));
  EXPECT_THAT(Ints(*Reduce("ReduceSum", Tensor::I64({3}, {kI64Max, kI64Max, 2}), Axes({}))),
              ElementsAre(0));
  EXPECT_THAT(Ints(*Reduce("ReduceSum", MakeTensor(DataType::kU8, {3}, {200, 100, 1}), Axes({}))),
              ElementsAre(45));
  // The mean of two int64 maxima needs more than 64 bits for the sum.
  EXPECT_THAT(Ints(*Reduce("ReduceMean", Tensor::I64({2}, {kI64Max, kI64Max - 2}), Axes({}))),
              ElementsAre(kI64Max - 1));
  EXPECT_THAT(Ints(*Reduce("ReduceMean", Tensor::I64({2, 2}, {kI64Min, kI64Min, -7, 0}),
                           Axes({1}))),
              ElementsAre(kI64Min, -3));
  EXPECT_THAT(Ints(*Reduce("ReduceMean", MakeTensor(DataType::kU8, {2}, {255, 254}), Axes({}))),
              ElementsAre(254));
  EXPECT_THAT(Ints(*Reduce("ReduceMax", Tensor::I64({3}, {kI64Min, -5, kI64Min}), Axes({}))),
              ElementsAre(-5));
  EXPECT_THAT(Ints(*Reduce("ReduceMax", Tensor::I64({1}, {kI64Min}), Axes({}))),
              ElementsAre(kI64Min));
}

TEST(ReduceTest, NaNAndInfinity) {
  Tensor x = MakeTensor(DataType::kF32, {2, 3}, {1, kNaN, 3, kInf, 5, -kInf});
  ExpectValues(Reduce("ReduceMax", x, Axes({1})), {2}, {kNaN, kInf});
  ExpectValues(Reduce("ReduceSum", x, Axes({1})), {2}, {kNaN, kNaN});
  ExpectValues(Reduce("ReduceMean", x, Axes({0})), {3}, {kInf, kNaN, -kInf});
  // NaN first or last: both propagate.
  ExpectValues(Reduce("ReduceMax", MakeTensor(DataType::kF64, {3}, {kNaN, 7, 9}), Axes({})), {},
               {kNaN});
  ExpectValues(Reduce("ReduceMax", MakeTensor(DataType::kF64, {3}, {9, 7, kNaN}), Axes({})), {},
               {kNaN});
}

TEST(ReduceTest, EmptyReductions) {
  Tensor x = MakeTensor(DataType::kF32, {0, 3}, {});
  ExpectValues(Reduce("ReduceSum", x, Axes({0})), {3}, {0, 0, 0});
  ExpectValues(Reduce("ReduceMean", x, Axes({0})), {3}, {kNaN, kNaN, kNaN});
  ExpectValues(Reduce("ReduceSum", x, Axes({})), {}, {0});
  ExpectValues(Reduce("ReduceMean", x, Axes({}, true)), {1, 1}, {kNaN});
  ExpectValues(Reduce("ReduceSum", MakeTensor(DataType::kI32, {2, 0}, {}), Axes({1})), {2},
               {0, 0});
  ExpectValues(Reduce("ReduceMean", MakeTensor(DataType::kI64, {0}, {}), Axes({})), {}, {0});
  // Reducing a non-empty axis of an empty tensor gives an empty result, even for max.
  ExpectValues(Reduce("ReduceMax", x, Axes({1})), {0}, {});
  ExpectValues(Reduce("ReduceSum", x, Axes({1}, true)), {0, 1}, {});
}

TEST(ReduceMaxTest, EmptySetIsAnError) {
  ExpectInvalid(Infer("ReduceMax", {DataType::kF32, {0, 3}}, Axes({0})).status(),
                "ReduceMax over an empty set: dimension 0 of input 'x' [0,3] has size 0");
  ExpectInvalid(Infer("ReduceMax", {DataType::kI32, {-1, 0}}, Axes({})).status(),
                "dimension 1 of input 'x' [-1,0] has size 0");
  ExpectInvalid(Reduce("ReduceMax", MakeTensor(DataType::kF32, {0}, {}), Axes({})).status(),
                "ReduceMax over an empty set");
  // Unknown at inference time: accepted, and the kernel rejects the bound empty shape.
  EXPECT_EQ(*Infer("ReduceMax", {DataType::kF32, {-1, 3}}, Axes({0})),
            (TensorType{DataType::kF32, {3}}));
  const OpDef* def = OpRegistry::Global().Find("ReduceMax");
  Node node;
  node.name = "max";
  node.op = "ReduceMax";
  node.attrs = Axes({0});
  std::vector<Tensor> inputs = {MakeTensor(DataType::kF32, {0, 3}, {})};
  std::vector<Tensor> outputs = {MakeTensor(DataType::kF32, {3}, {})};
  KernelContext ctx{node, inputs, absl::MakeSpan(outputs)};
  ExpectInvalid(def->reference(ctx), "ReduceMax over an empty set");
}

TEST(ReduceTest, InfersShapesWithUnknownDims) {
  for (const std::string& op : kReduceOps) {
    SCOPED_TRACE(op);
    const DataType t = DataType::kF32;
    EXPECT_EQ(*Infer(op, {t, {-1, 3}}, Axes({1})), (TensorType{t, {-1}}));
    EXPECT_EQ(*Infer(op, {t, {-1, 3}}, Axes({0})), (TensorType{t, {3}}));
    EXPECT_EQ(*Infer(op, {t, {-1, 3}}, Axes({0}, true)), (TensorType{t, {1, 3}}));
    EXPECT_EQ(*Infer(op, {t, {-1, 3}}, Axes({})), (TensorType{t, {}}));
    EXPECT_EQ(*Infer(op, {t, {2, -1, 4}}, Axes({}, true)), (TensorType{t, {1, 1, 1}}));
    EXPECT_EQ(*Infer(op, {t, {2, -1, 4}}, Axes({0, -1})), (TensorType{t, {-1}}));
    EXPECT_EQ(*Infer(op, {DataType::kI64, {5, 6}}, Axes({-2}, true)),
              (TensorType{DataType::kI64, {1, 6}}));
    EXPECT_EQ(*Infer(op, {DataType::kBF16, {0, 6}}, Axes({1})),
              (TensorType{DataType::kBF16, {0}}));
    // Defaults: all axes, keepdims false.
    EXPECT_EQ(*Infer(op, {t, {2, 3}}, {}), (TensorType{t, {}}));
  }
}

TEST(ReduceTest, Errors) {
  for (const std::string& op : kReduceOps) {
    SCOPED_TRACE(op);
    const DataType t = DataType::kF32;
    ExpectInvalid(Infer(op, {t, {2, 3}}, Axes({2})).status(),
                  "attribute 'axes' entry 0 (2) is out of range for rank 2");
    ExpectInvalid(Infer(op, {t, {2, 3}}, Axes({0, -3})).status(),
                  "attribute 'axes' entry 1 (-3) is out of range for rank 2");
    ExpectInvalid(Infer(op, {t, {}}, Axes({0})).status(),
                  "attribute 'axes' entry 0 (0) is out of range for rank 0");
    ExpectInvalid(Infer(op, {t, {2, 3}}, Axes({1, -1})).status(),
                  "attribute 'axes' lists axis 1 twice");
    ExpectInvalid(Infer(op, {t, {2, 3}}, Axes({0, 0})).status(),
                  "attribute 'axes' lists axis 0 twice");
    ExpectInvalid(Infer(op, {t, {2, 3}}, Axes({kI64Min})).status(), "out of range for rank 2");
    ExpectInvalid(Infer(op, {DataType::kBool, {2}}, Axes({})).status(),
                  "input 0 has dtype bool");
    ExpectInvalid(Infer(op, {t, {2}}, {{"keepdims", int64_t{1}}}).status(),
                  "attribute 'keepdims' must be bool");
    ExpectInvalid(Infer(op, {t, {2}}, {{"axes", int64_t{0}}}).status(),
                  "attribute 'axes' must be ints");
  }
}

TEST(ReduceTest, TraitsAndFlops) {
  for (const std::string& op : kReduceOps) {
    const OpDef* def = OpRegistry::Global().Find(op);
    ASSERT_NE(def, nullptr) << op;
    EXPECT_TRUE(def->Has(kReduction));
    EXPECT_FALSE(def->Has(kElementwise));
    Node node;
    node.attrs = Axes({1});
    EXPECT_EQ(def->flops(node, {{DataType::kF32, {4, 5}}}, {{DataType::kF32, {4}}}), 20) << op;
    EXPECT_EQ(def->flops(node, {{DataType::kF32, {-1, 5}}}, {{DataType::kF32, {-1}}}), 0) << op;
  }
}

}  // namespace
}  // namespace kiln
