// Tests of MatMul: values, transposes, batch broadcasting, dtypes, shape inference, FLOPs.
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
using ::kiln::testing::InferSingleOp;
using ::kiln::testing::MakeTensor;
using ::kiln::testing::RandomTensor;
using ::kiln::testing::RunSingleOp;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

AttrMap Transposes(bool a, bool b) { return {{"transpose_a", a}, {"transpose_b", b}}; }

// Returns by value (not StatusOr) so EXPECT_TENSOR_NEAR, which binds a reference to its
// argument, can take the call directly.
Tensor MatMul(const Tensor& a, const Tensor& b, AttrMap attrs = {}) {
  absl::StatusOr<std::vector<Tensor>> outputs = RunSingleOp("MatMul", {a, b}, std::move(attrs));
  EXPECT_TRUE(outputs.ok()) << outputs.status();
  return outputs.value().at(0);
}

absl::StatusOr<TensorType> Infer(TensorType a, TensorType b, AttrMap attrs = {}) {
  ASSIGN_OR_RETURN(std::vector<TensorType> outputs,
                   InferSingleOp("MatMul", {a, b}, std::move(attrs)));
  return outputs.at(0);
}

std::vector<int64_t> Ints(const Tensor& t) {
  std::vector<int64_t> out(t.NumElements());
  for (int64_t i = 0; i < t.NumElements(); ++i) out[i] = t.GetAsInt64(i);
  return out;
}

// Row-major coordinates of flat index `i` in `dims`.
std::vector<int64_t> Coords(int64_t i, const std::vector<int64_t>& dims) {
  std::vector<int64_t> c(dims.size());
  for (int d = static_cast<int>(dims.size()) - 1; d >= 0; --d) {
    c[d] = i % dims[d];
    i /= dims[d];
  }
  return c;
}

// Flat index of `coords` (aligned to the right, broadcast where dims[d] == 1) in `dims`.
int64_t FlatIndex(const std::vector<int64_t>& coords, const std::vector<int64_t>& dims) {
  int64_t index = 0;
  size_t skip = coords.size() - dims.size();
  for (size_t d = 0; d < dims.size(); ++d) {
    index = index * dims[d] + (dims[d] == 1 ? 0 : coords[skip + d]);
  }
  return index;
}

// An independent reference: for each output coordinate, gather a's row and b's column
// through explicit coordinates (transposes swap the coordinates, not the strides).
std::vector<double> NaiveMatMul(const Tensor& a, const Tensor& b, bool ta, bool tb,
                                const Shape& out) {
  std::vector<int64_t> od = out.dims();
  std::vector<int64_t> ad = a.shape().dims();
  std::vector<int64_t> bd = b.shape().dims();
  int64_t k_size = ta ? ad[ad.size() - 2] : ad.back();
  std::vector<double> result(out.NumElements());
  for (int64_t i = 0; i < out.NumElements(); ++i) {
    std::vector<int64_t> c = Coords(i, od);
    int64_t row = c[c.size() - 2];
    int64_t col = c.back();
    double sum = 0;
    for (int64_t k = 0; k < k_size; ++k) {
      std::vector<int64_t> ac(c.begin(), c.end() - 2);
      std::vector<int64_t> bc(c.begin(), c.end() - 2);
      if (ta) { ac.push_back(k); ac.push_back(row); } else { ac.push_back(row); ac.push_back(k); }
      if (tb) { bc.push_back(col); bc.push_back(k); } else { bc.push_back(k); bc.push_back(col); }
      // Batch coordinates broadcast; matrix coordinates never index a size-1 dim > 0.
      sum += a.GetAsDouble(FlatIndex(ac, ad)) * b.GetAsDouble(FlatIndex(bc, bd));
    }
    result[i] = sum;
  }
  return result;
}

// a = [[1,2,3],[4,5,6]], b = [[7,8],[9,10],[11,12]]: a b = [[58,64],[139,154]].
const std::vector<double> kA = {1, 2, 3, 4, 5, 6};
const std::vector<double> kAT = {1, 4, 2, 5, 3, 6};
const std::vector<double> kB = {7, 8, 9, 10, 11, 12};
const std::vector<double> kBT = {7, 9, 11, 8, 10, 12};
const std::vector<double> kAB = {58, 64, 139, 154};

TEST(MatMulTest, HandComputedWithEveryTranspose) {
  for (DataType dtype : {DataType::kF32, DataType::kF64, DataType::kI32, DataType::kI64}) {
    SCOPED_TRACE(DataTypeName(dtype));
    Tensor a = MakeTensor(dtype, {2, 3}, kA);
    Tensor at = MakeTensor(dtype, {3, 2}, kAT);
    Tensor b = MakeTensor(dtype, {3, 2}, kB);
    Tensor bt = MakeTensor(dtype, {2, 3}, kBT);
    Tensor out = MatMul(a, b);
    EXPECT_EQ(out.dtype(), dtype);
    EXPECT_TENSOR_NEAR(out, (Shape{2, 2}), kAB, 0);
    EXPECT_TENSOR_NEAR(MatMul(at, b, Transposes(true, false)), (Shape{2, 2}), kAB, 0);
    EXPECT_TENSOR_NEAR(MatMul(a, bt, Transposes(false, true)), (Shape{2, 2}), kAB, 0);
    EXPECT_TENSOR_NEAR(MatMul(at, bt, Transposes(true, true)), (Shape{2, 2}), kAB, 0);
    // b a: [[7,8],[9,10],[11,12]] x [[1,2,3],[4,5,6]].
    EXPECT_TENSOR_NEAR(MatMul(b, a), (Shape{3, 3}),
                       (std::vector<double>{39, 54, 69, 49, 68, 87, 59, 82, 105}), 0);
  }
}

TEST(MatMulTest, HalfPrecisionRoundsOnlyTheResult) {
  // 1 + 2^-11 + 2^-11: rounding after every step in f16 would give 1; the double
  // accumulator gives 1 + 2^-10 exactly.
  Tensor a = MakeTensor(DataType::kF16, {1, 3}, {1, 0.00048828125, 0.00048828125});
  Tensor b = MakeTensor(DataType::kF16, {3, 1}, {1, 1, 1});
  EXPECT_TENSOR_NEAR(MatMul(a, b), (Shape{1, 1}), std::vector<double>{1.0009765625}, 0);
  Tensor c = MakeTensor(DataType::kBF16, {2, 2}, {0.5, 1.5, -2, 3});
  Tensor d = MakeTensor(DataType::kBF16, {2, 1}, {3, 0.25});
  EXPECT_TENSOR_NEAR(MatMul(c, d), (Shape{2, 1}), (std::vector<double>{1.875, -5.25}), 0);
}

TEST(MatMulTest, IntegersAreExactAndWrap) {
  Tensor a = Tensor::I64({1, 2}, {int64_t{1} << 40, 3});
  Tensor b = Tensor::I64({2, 1}, {(int64_t{1} << 20) + 1, 5});
  EXPECT_THAT(Ints(MatMul(a, b)), ElementsAre((int64_t{1} << 60) + (int64_t{1} << 40) + 15));
  // i8: 100 * 1 + 100 * 1 = 200 wraps to -56, as i8 Add does.
  Tensor c = MakeTensor(DataType::kI8, {1, 2}, {100, 100});
  Tensor d = MakeTensor(DataType::kI8, {2, 1}, {1, 1});
  EXPECT_THAT(Ints(MatMul(c, d)), ElementsAre(-56));
  // i64: (2^62) * 4 wraps to 0 mod 2^64; plus 7.
  Tensor e = Tensor::I64({1, 2}, {int64_t{1} << 62, 7});
  Tensor f = Tensor::I64({2, 1}, {4, 1});
  EXPECT_THAT(Ints(MatMul(e, f)), ElementsAre(7));
  Tensor u = MakeTensor(DataType::kU8, {1, 2}, {16, 1});
  Tensor v = MakeTensor(DataType::kU8, {2, 1}, {16, 3});
  EXPECT_THAT(Ints(MatMul(u, v)), ElementsAre(3));  // 256 + 3 = 259 mod 256
}

TEST(MatMulTest, BatchedWithRank2RightOperand) {
  // a[0] = I, a[1] = [[0,1],[1,0]] (swaps rows); b = [[1,2],[3,4]] shared by both.
  Tensor a = MakeTensor(DataType::kF32, {2, 2, 2}, {1, 0, 0, 1, 0, 1, 1, 0});
  Tensor b = MakeTensor(DataType::kF32, {2, 2}, {1, 2, 3, 4});
  EXPECT_TENSOR_NEAR(MatMul(a, b), (Shape{2, 2, 2}),
                     (std::vector<double>{1, 2, 3, 4, 3, 4, 1, 2}), 0);
  // Rank-2 left operand against a batch: [1,2] x b[p].
  Tensor row = MakeTensor(DataType::kI32, {1, 2}, {1, 2});
  Tensor bs = MakeTensor(DataType::kI32, {3, 2, 1}, {1, 1, 2, 0, -1, 5});
  EXPECT_TENSOR_NEAR(MatMul(row, bs), (Shape{3, 1, 1}), (std::vector<double>{3, 2, 9}), 0);
}

TEST(MatMulTest, BroadcastBatchesMatchNaiveReference) {
  struct Case {
    Shape a, b;
    bool ta, tb;
    Shape out;
  };
  for (const Case& c : std::vector<Case>{
           {{2, 1, 3, 4}, {5, 4, 2}, false, false, {2, 5, 3, 2}},
           {{1, 4, 3}, {3, 1, 2, 4}, true, true, {3, 1, 3, 2}},
           {{4, 3}, {2, 2, 4, 3}, false, true, {2, 2, 4, 4}},
           {{3, 2, 1}, {1, 1, 1}, false, false, {3, 2, 1}},
       }) {
    for (DataType dtype : {DataType::kF64, DataType::kF32}) {
      Tensor a = RandomTensor(dtype, c.a, 1);
      Tensor b = RandomTensor(dtype, c.b, 2);
      Tensor out = MatMul(a, b, Transposes(c.ta, c.tb));
      EXPECT_TENSOR_NEAR(out, c.out, NaiveMatMul(a, b, c.ta, c.tb, c.out),
                         dtype == DataType::kF64 ? 1e-14 : 1e-6);
    }
  }
}

TEST(MatMulTest, SizeOneAndZeroDims) {
  EXPECT_TENSOR_NEAR(MatMul(MakeTensor(DataType::kF32, {1, 1}, {3}),
                             MakeTensor(DataType::kF32, {1, 1}, {4})),
                     (Shape{1, 1}), std::vector<double>{12}, 0);
  // K = 0: an empty sum, so zeros.
  EXPECT_TENSOR_NEAR(MatMul(MakeTensor(DataType::kF32, {2, 0}, {}),
                             MakeTensor(DataType::kF32, {0, 3}, {})),
                     (Shape{2, 3}), (std::vector<double>(6, 0.0)), 0);
  EXPECT_THAT(Ints(MatMul(MakeTensor(DataType::kI64, {1, 2, 0}, {}),
                           MakeTensor(DataType::kI64, {0, 1}, {}))),
              ElementsAre(0, 0));
  EXPECT_EQ(MatMul(MakeTensor(DataType::kF32, {0, 3}, {}), MakeTensor(DataType::kF32, {3, 2}, {}))
                .shape(),
            (Shape{0, 2}));
  EXPECT_EQ(MatMul(MakeTensor(DataType::kF32, {0, 2, 3}, {}),
                   MakeTensor(DataType::kF32, {1, 3, 2}, {}))
                .shape(),
            (Shape{0, 2, 2}));
}

TEST(MatMulTest, InfersShapesWithUnknownDims) {
  const DataType f32 = DataType::kF32;
  EXPECT_EQ(*Infer({f32, {2, 3}}, {f32, {3, 4}}), (TensorType{f32, {2, 4}}));
  EXPECT_EQ(*Infer({f32, {3, 2}}, {f32, {4, 3}}, Transposes(true, true)),
            (TensorType{f32, {2, 4}}));
  EXPECT_EQ(*Infer({f32, {-1, 3}}, {f32, {3, -1}}), (TensorType{f32, {-1, -1}}));
  // An unknown K matches any K.
  EXPECT_EQ(*Infer({f32, {2, -1}}, {f32, {4, 5}}), (TensorType{f32, {2, 5}}));
  EXPECT_EQ(*Infer({f32, {2, 3}}, {f32, {-1, 5}}), (TensorType{f32, {2, 5}}));
  EXPECT_EQ(*Infer({f32, {-1, 2, 3}}, {f32, {5, 3, 4}}), (TensorType{f32, {5, 2, 4}}));
  EXPECT_EQ(*Infer({f32, {-1, 2, 3}}, {f32, {3, 4}}), (TensorType{f32, {-1, 2, 4}}));
  EXPECT_EQ(*Infer({DataType::kI32, {7, 1, 2, 3}}, {DataType::kI32, {4, 3, 6}}),
            (TensorType{DataType::kI32, {7, 4, 2, 6}}));
  EXPECT_EQ(*Infer({DataType::kBF16, {0, 3}}, {DataType::kBF16, {3, 0}}),
            (TensorType{DataType::kBF16, {0, 0}}));
}

TEST(MatMulTest, Errors) {
  const DataType f32 = DataType::kF32;
  ExpectInvalid(Infer({f32, {3}}, {f32, {3, 4}}).status(),
                "input 'a' [3] has rank 1, expected at least 2");
  ExpectInvalid(Infer({f32, {2, 3}}, {f32, {}}).status(),
                "input 'b' [] has rank 0, expected at least 2");
  ExpectInvalid(Infer({f32, {2, 3}}, {f32, {4, 5}}).status(),
                "inner dimensions differ: 'a' [2,3] has K = 3, 'b' [4,5] has K = 4");
  ExpectInvalid(Infer({f32, {2, 3}}, {f32, {3, 5}}, Transposes(true, false)).status(),
                "'a' [2,3] (transposed) has K = 2, 'b' [3,5] has K = 3");
  ExpectInvalid(Infer({f32, {2, 2, 3}}, {f32, {3, 3, 4}}).status(),
                "batch dimensions of 'a' [2,2,3] and 'b' [3,3,4] do not broadcast");
  ExpectInvalid(Infer({f32, {2, 3}}, {DataType::kF64, {3, 4}}).status(),
                "input 'b' has dtype f64, expected f32 like input 'a'");
  ExpectInvalid(Infer({DataType::kBool, {2, 3}}, {DataType::kBool, {3, 4}}).status(),
                "input 0 has dtype bool");
  ExpectInvalid(Infer({f32, {2, 3}}, {f32, {3, 4}}, {{"transpose_a", int64_t{1}}}).status(),
                "attribute 'transpose_a' must be bool");
  ExpectInvalid(Infer({f32, {2, 3}}, {f32, {3, 4}}, {{"transpose", true}}).status(),
                "unknown attribute 'transpose'");
}

TEST(MatMulTest, SchemaAndFlops) {
  const OpDef* def = OpRegistry::Global().Find("MatMul");
  ASSERT_NE(def, nullptr);
  EXPECT_FALSE(def->Has(kElementwise) || def->Has(kCommutative) || def->Has(kLayoutAgnostic));
  Node node;
  node.op = "MatMul";
  node.attrs = Transposes(false, false);
  auto flops = [&](Shape a, Shape b, Shape out) {
    return def->flops(node, {{DataType::kF32, a}, {DataType::kF32, b}}, {{DataType::kF32, out}});
  };
  EXPECT_EQ(flops({2, 3}, {3, 4}, {2, 4}), 2 * 2 * 4 * 3);
  EXPECT_EQ(flops({5, 2, 3}, {3, 4}, {5, 2, 4}), 2 * 5 * 2 * 4 * 3);
  EXPECT_EQ(flops({2, -1}, {7, 4}, {2, 4}), 2 * 2 * 4 * 7);  // K from b
  EXPECT_EQ(flops({-1, 3}, {3, 4}, {-1, 4}), 0);             // unknown until bound
  EXPECT_EQ(flops({2, 0}, {0, 4}, {2, 4}), 0);
  // 2 * 2^40 * 2^40 overflows int64: saturates.
  int64_t big = int64_t{1} << 40;
  EXPECT_EQ(flops({1, big}, {big, big}, {1, big}), std::numeric_limits<int64_t>::max());
  node.attrs = Transposes(true, false);
  EXPECT_EQ(flops({3, 2}, {3, 4}, {2, 4}), 2 * 2 * 4 * 3);
}

}  // namespace
}  // namespace kiln
