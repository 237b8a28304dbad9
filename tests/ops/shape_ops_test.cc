// Reshape, Transpose, Concat, Slice, Gather, Pad and Flatten: hand-computed values, exact
// copies of every dtype, size-0/size-1 dims, unknown dims in shape inference, and errors.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "graph/builder_ops.h"
#include "graph/op_registry.h"
#include "gtest/gtest.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

using ::kiln::testing::ExpectInvalid;
using ::kiln::testing::InferSingleOp;
using ::kiln::testing::MakeTensor;
using ::kiln::testing::RandomTensor;
using ::kiln::testing::RunSingleOp;
using ::kiln::testing::Values;
using ::testing::HasSubstr;
using V = std::vector<int64_t>;
using D = std::vector<double>;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

Tensor RunOp(absl::string_view op, const std::vector<Tensor>& inputs, AttrMap attrs) {
  absl::StatusOr<std::vector<Tensor>> out = RunSingleOp(op, inputs, std::move(attrs));
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return Tensor();
  return (*out)[0];
}

absl::StatusOr<std::vector<TensorType>> Infer(absl::string_view op,
                                              const std::vector<Shape>& shapes, AttrMap attrs,
                                              DataType dt = DataType::kF32) {
  std::vector<TensorType> inputs;
  for (const Shape& s : shapes) inputs.push_back({dt, s});
  return InferSingleOp(op, inputs, std::move(attrs));
}

Shape InferShape(absl::string_view op, const std::vector<Shape>& shapes, AttrMap attrs) {
  absl::StatusOr<std::vector<TensorType>> out = Infer(op, shapes, std::move(attrs));
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? (*out)[0].shape : Shape{-2};
}

// 0, 1, 2, ... (n values).
D Range(int n, double first = 0.0) {
  D v(n);
  for (int i = 0; i < n; ++i) v[i] = first + i;
  return v;
}

// Every shape op accepts every dtype and reports no arithmetic.
TEST(ShapeOpsTest, SchemaTraitsAndFlops) {
  for (const char* op : {"Reshape", "Transpose", "Concat", "Slice", "Gather", "Pad", "Flatten"}) {
    SCOPED_TRACE(op);
    const OpDef* def = OpRegistry::Global().Find(op);
    ASSERT_NE(def, nullptr);
    EXPECT_TRUE(def->Has(kDataMovement));
    EXPECT_FALSE(def->Has(kElementwise));
    EXPECT_TRUE(def->flops == nullptr);
    EXPECT_EQ(def->dtypes.size(), AllTypes().size());
  }
}

// ------------------------------------------------------------------------------ Reshape

TEST(ReshapeTest, KeepsRowMajorOrder) {
  for (DataType dt : {DataType::kF32, DataType::kI64, DataType::kF16, DataType::kU8}) {
    SCOPED_TRACE(DataTypeName(dt));
    Tensor x = MakeTensor(dt, Shape{2, 3}, Range(6, 1));
    EXPECT_TENSOR_NEAR(RunOp("Reshape", {x}, {{"shape", V{3, 2}}}), (Shape{3, 2}), Range(6, 1),
                       0.0);
    EXPECT_TENSOR_NEAR(RunOp("Reshape", {x}, {{"shape", V{-1}}}), (Shape{6}), Range(6, 1), 0.0);
    EXPECT_TENSOR_NEAR(RunOp("Reshape", {x}, {{"shape", V{3, 1, -1}}}), (Shape{3, 1, 2}),
                       Range(6, 1), 0.0);
  }
  Tensor b = Tensor::Bool(Shape{4}, {true, false, false, true});
  EXPECT_TENSOR_NEAR(RunOp("Reshape", {b}, {{"shape", V{2, 2}}}), (Shape{2, 2}), (D{1, 0, 0, 1}),
                     0.0);
}

TEST(ReshapeTest, ScalarsAndSizeOne) {
  Tensor s = MakeTensor(DataType::kF64, Shape{}, {4.5});
  EXPECT_TENSOR_NEAR(RunOp("Reshape", {s}, {{"shape", V{1, 1, 1}}}), (Shape{1, 1, 1}), (D{4.5}),
                     0.0);
  Tensor one = MakeTensor(DataType::kI32, Shape{1, 1}, {-7});
  EXPECT_TENSOR_NEAR(RunOp("Reshape", {one}, {{"shape", V{}}}), (Shape{}), (D{-7}), 0.0);
  EXPECT_TENSOR_NEAR(RunOp("Reshape", {one}, {{"shape", V{-1}}}), (Shape{1}), (D{-7}), 0.0);
}

// 0 is a zero-size dimension, never ONNX's "copy the input dimension".
TEST(ReshapeTest, ZeroMeansZeroSize) {
  Tensor x = MakeTensor(DataType::kF32, Shape{0, 3}, {});
  EXPECT_TENSOR_NEAR(RunOp("Reshape", {x}, {{"shape", V{3, 0}}}), (Shape{3, 0}), D{}, 0.0);
  EXPECT_TENSOR_NEAR(RunOp("Reshape", {x}, {{"shape", V{-1, 3, 5}}}), (Shape{0, 3, 5}), D{}, 0.0);
  EXPECT_EQ(InferShape("Reshape", {Shape{2, 3}}, {{"shape", V{3, 2}}}), (Shape{3, 2}));
  ExpectInvalid(Infer("Reshape", {Shape{2, 3}}, {{"shape", V{0, 6}}}),
                "attribute 'shape' [0,6] holds 0 elements, but input 'x' [2,3] holds 6");
  ExpectInvalid(Infer("Reshape", {Shape{0, 3}}, {{"shape", V{0, -1}}}),
                "attribute 'shape' [0,-1] has both 0 and -1");
}

TEST(ReshapeTest, UnknownDims) {
  EXPECT_EQ(InferShape("Reshape", {Shape{-1, 4}}, {{"shape", V{-1, 2}}}), (Shape{-1, 2}));
  EXPECT_EQ(InferShape("Reshape", {Shape{-1, 4}}, {{"shape", V{2, 2, -1}}}), (Shape{2, 2, -1}));
  // Without -1 the element count is checked once the input is bound.
  EXPECT_EQ(InferShape("Reshape", {Shape{-1, 4}}, {{"shape", V{8}}}), (Shape{8}));
  // A known 0 makes the count known even beside an unknown dimension.
  EXPECT_EQ(InferShape("Reshape", {Shape{0, -1}}, {{"shape", V{-1, 5}}}), (Shape{0, 5}));
  ExpectInvalid(Infer("Reshape", {Shape{0, -1}}, {{"shape", V{3}}}), "holds 3 elements");
  ExpectInvalid(Infer("Reshape", {Shape{-1, 4}}, {{"shape", V{-1, 0}}}), "has both 0 and -1");
}

TEST(ReshapeTest, Rejects) {
  ExpectInvalid(Infer("Reshape", {Shape{2, 3}}, {}), "missing required attribute 'shape'");
  ExpectInvalid(Infer("Reshape", {Shape{2, 3}}, {{"shape", V{-1, 3, -1}}}),
                "attribute 'shape' [-1,3,-1] has -1 at entries 0 and 2");
  ExpectInvalid(Infer("Reshape", {Shape{2, 3}}, {{"shape", V{2, -2}}}),
                "attribute 'shape' entry 1 is -2, expected >= -1");
  ExpectInvalid(Infer("Reshape", {Shape{2, 3}}, {{"shape", V{4, 2}}}),
                "attribute 'shape' [4,2] holds 8 elements, but input 'x' [2,3] holds 6");
  ExpectInvalid(Infer("Reshape", {Shape{2, 3}}, {{"shape", V{4, -1}}}),
                "holds 6 elements, not a multiple of 4");
  ExpectInvalid(Infer("Reshape", {Shape{2, 3}}, {{"shape", V{kMax}}}),
                "attribute 'shape' entry 0 is 9223372036854775807, which exceeds 2^40");
  ExpectInvalid(Infer("Reshape", {Shape{-1}}, {{"shape", V{int64_t{1} << 40, 1 << 20, -1}}}),
                "more than 2^40 elements");
}

// ---------------------------------------------------------------------------- Transpose

TEST(TransposeTest, ByHand) {
  for (DataType dt : {DataType::kF32, DataType::kI32, DataType::kBF16, DataType::kI8}) {
    SCOPED_TRACE(DataTypeName(dt));
    Tensor x = MakeTensor(dt, Shape{2, 3}, Range(6, 1));
    EXPECT_TENSOR_NEAR(RunOp("Transpose", {x}, {{"perm", V{1, 0}}}), (Shape{3, 2}),
                       (D{1, 4, 2, 5, 3, 6}), 0.0);
    EXPECT_TENSOR_NEAR(RunOp("Transpose", {x}, {{"perm", V{0, 1}}}), (Shape{2, 3}), Range(6, 1),
                       0.0);
  }
  // [1,2,3] with perm [2,0,1]: out[i,0,k] = x[0,k,i].
  Tensor x = MakeTensor(DataType::kF64, Shape{1, 2, 3}, Range(6, 1));
  EXPECT_TENSOR_NEAR(RunOp("Transpose", {x}, {{"perm", V{2, 0, 1}}}), (Shape{3, 1, 2}),
                     (D{1, 4, 2, 5, 3, 6}), 0.0);
  Tensor b = Tensor::Bool(Shape{2, 2}, {true, true, false, false});
  EXPECT_TENSOR_NEAR(RunOp("Transpose", {b}, {{"perm", V{1, 0}}}), (Shape{2, 2}), (D{1, 0, 1, 0}),
                     0.0);
}

// perm [2,0,3,1] checked against the index formula written out by hand.
TEST(TransposeTest, Rank4AgainstIndexFormula) {
  const int s0 = 2, s1 = 3, s2 = 4, s3 = 5;
  Tensor x = MakeTensor(DataType::kF32, Shape{s0, s1, s2, s3}, Range(s0 * s1 * s2 * s3));
  Tensor y = RunOp("Transpose", {x}, {{"perm", V{2, 0, 3, 1}}});
  // Output dims [s2, s0, s3, s1]; out[i,j,k,l] = x[j,l,i,k].
  D want;
  for (int i = 0; i < s2; ++i)
    for (int j = 0; j < s0; ++j)
      for (int k = 0; k < s3; ++k)
        for (int l = 0; l < s1; ++l) want.push_back(((j * s1 + l) * s2 + i) * s3 + k);
  EXPECT_TENSOR_NEAR(y, (Shape{s2, s0, s3, s1}), want, 0.0);
}

TEST(TransposeTest, SizeZeroScalarAndUnknown) {
  Tensor x = MakeTensor(DataType::kF32, Shape{0, 3}, {});
  EXPECT_TENSOR_NEAR(RunOp("Transpose", {x}, {{"perm", V{1, 0}}}), (Shape{3, 0}), D{}, 0.0);
  Tensor s = MakeTensor(DataType::kI64, Shape{}, {42});
  EXPECT_TENSOR_NEAR(RunOp("Transpose", {s}, {{"perm", V{}}}), (Shape{}), (D{42}), 0.0);
  EXPECT_EQ(InferShape("Transpose", {Shape{-1, 3, -1}}, {{"perm", V{2, 0, 1}}}),
            (Shape{-1, -1, 3}));
  EXPECT_EQ(InferShape("Transpose", {Shape{1, 0, 7}}, {{"perm", V{1, 2, 0}}}), (Shape{0, 7, 1}));
}

TEST(TransposeTest, Rejects) {
  ExpectInvalid(Infer("Transpose", {Shape{2, 3}}, {}), "missing required attribute 'perm'");
  ExpectInvalid(Infer("Transpose", {Shape{2, 3, 4}}, {{"perm", V{1, 0}}}),
                "attribute 'perm' has 2 entries, expected 3");
  ExpectInvalid(Infer("Transpose", {Shape{2, 3}}, {{"perm", V{0, 2}}}),
                "attribute 'perm' entry 1 is 2, expected in [0, 2)");
  ExpectInvalid(Infer("Transpose", {Shape{2, 3}}, {{"perm", V{-1, 0}}}),
                "attribute 'perm' entry 0 is -1");
  ExpectInvalid(Infer("Transpose", {Shape{2, 3, 4}}, {{"perm", V{1, 1, 0}}}),
                "attribute 'perm' [1,1,0] repeats 1");
}

// ------------------------------------------------------------------------------- Concat

TEST(ConcatTest, ByHand) {
  for (DataType dt : {DataType::kF32, DataType::kI64, DataType::kF16}) {
    SCOPED_TRACE(DataTypeName(dt));
    Tensor a = MakeTensor(dt, Shape{2, 2}, {1, 2, 3, 4});
    Tensor b = MakeTensor(dt, Shape{2, 1}, {8, 9});
    EXPECT_TENSOR_NEAR(RunOp("Concat", {a, b}, {{"axis", int64_t{1}}}), (Shape{2, 3}),
                       (D{1, 2, 8, 3, 4, 9}), 0.0);
    EXPECT_TENSOR_NEAR(RunOp("Concat", {a, b}, {{"axis", int64_t{-1}}}), (Shape{2, 3}),
                       (D{1, 2, 8, 3, 4, 9}), 0.0);
    Tensor c = MakeTensor(dt, Shape{1, 2}, {5, 6});
    EXPECT_TENSOR_NEAR(RunOp("Concat", {c, a, c}, {{"axis", int64_t{0}}}), (Shape{4, 2}),
                       (D{5, 6, 1, 2, 3, 4, 5, 6}), 0.0);
  }
  Tensor t = Tensor::Bool(Shape{1}, {true});
  Tensor f = Tensor::Bool(Shape{2}, {false, true});
  EXPECT_TENSOR_NEAR(RunOp("Concat", {t, f}, {{"axis", int64_t{0}}}), (Shape{3}), (D{1, 0, 1}),
                     0.0);
}

// A middle axis: each input contributes a block per outer index.
TEST(ConcatTest, MiddleAxis) {
  Tensor a = MakeTensor(DataType::kF64, Shape{2, 1, 2}, {1, 2, 3, 4});
  Tensor b = MakeTensor(DataType::kF64, Shape{2, 2, 2}, Range(8, 10));
  EXPECT_TENSOR_NEAR(RunOp("Concat", {a, b}, {{"axis", int64_t{1}}}), (Shape{2, 3, 2}),
                     (D{1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17}), 0.0);
}

TEST(ConcatTest, SingleInputAndSizeZero) {
  Tensor a = MakeTensor(DataType::kI32, Shape{3}, {4, 5, 6});
  EXPECT_TENSOR_NEAR(RunOp("Concat", {a}, {{"axis", int64_t{0}}}), (Shape{3}), (D{4, 5, 6}), 0.0);
  Tensor e = MakeTensor(DataType::kI32, Shape{0}, {});
  EXPECT_TENSOR_NEAR(RunOp("Concat", {e, a, e}, {{"axis", int64_t{0}}}), (Shape{3}), (D{4, 5, 6}),
                     0.0);
  Tensor z1 = MakeTensor(DataType::kF32, Shape{0, 2}, {});
  Tensor z2 = MakeTensor(DataType::kF32, Shape{0, 3}, {});
  EXPECT_TENSOR_NEAR(RunOp("Concat", {z1, z2}, {{"axis", int64_t{1}}}), (Shape{0, 5}), D{}, 0.0);
}

TEST(ConcatTest, UnknownDims) {
  EXPECT_EQ(InferShape("Concat", {Shape{-1, 3}, Shape{2, 3}}, {{"axis", int64_t{0}}}),
            (Shape{-1, 3}));
  // The unknown non-axis dimension takes the known one.
  EXPECT_EQ(InferShape("Concat", {Shape{-1, 3}, Shape{2, -1}}, {{"axis", int64_t{1}}}),
            (Shape{2, -1}));
  EXPECT_EQ(InferShape("Concat", {Shape{-1, 3}, Shape{-1, 4}, Shape{5, 1}}, {{"axis", int64_t{1}}}),
            (Shape{5, 8}));
}

TEST(ConcatTest, Rejects) {
  ExpectInvalid(Infer("Concat", {Shape{2}}, {}), "missing required attribute 'axis'");
  ExpectInvalid(Infer("Concat", {}, {{"axis", int64_t{0}}}), "expected at least 1 inputs, got 0");
  ExpectInvalid(Infer("Concat", {Shape{2, 3}, Shape{2, 3}}, {{"axis", int64_t{2}}}),
                "attribute 'axis' is 2, out of range for rank 2");
  ExpectInvalid(Infer("Concat", {Shape{}, Shape{}}, {{"axis", int64_t{0}}}), "input 0 is a scalar");
  ExpectInvalid(Infer("Concat", {Shape{2, 3}, Shape{2, 3, 1}}, {{"axis", int64_t{0}}}),
                "input 1 has shape [2,3,1], expected rank 2 like input 0");
  ExpectInvalid(Infer("Concat", {Shape{2, 3}, Shape{2, 3}, Shape{2, 4}}, {{"axis", int64_t{0}}}),
                "input 2 has shape [2,4], which differs from the other inputs in dimension 1");
  ExpectInvalid(InferSingleOp("Concat", {{DataType::kF32, Shape{2}}, {DataType::kI32, Shape{2}}},
                              {{"axis", int64_t{0}}}),
                "input 1 has dtype i32, expected f32");
  ExpectInvalid(Infer("Concat", {Shape{int64_t{1} << 40}, Shape{1}}, {{"axis", int64_t{0}}}),
                "the concatenated size along axis 0 exceeds 2^40");
}

// -------------------------------------------------------------------------------- Slice

Tensor Slice1D(const V& starts, const V& ends, const V& steps = {}) {
  Tensor x = MakeTensor(DataType::kI64, Shape{10}, Range(10));
  return RunOp("Slice", {x}, {{"starts", starts}, {"ends", ends}, {"steps", steps}});
}

TEST(SliceTest, OneDimensionByHand) {
  EXPECT_TENSOR_NEAR(Slice1D({2}, {7}), (Shape{5}), (D{2, 3, 4, 5, 6}), 0.0);
  EXPECT_TENSOR_NEAR(Slice1D({2}, {7}, {2}), (Shape{3}), (D{2, 4, 6}), 0.0);
  EXPECT_TENSOR_NEAR(Slice1D({1}, {10}, {4}), (Shape{3}), (D{1, 5, 9}), 0.0);
  EXPECT_TENSOR_NEAR(Slice1D({0}, {-1}), (Shape{9}), Range(9), 0.0);
  EXPECT_TENSOR_NEAR(Slice1D({-3}, {kMax}), (Shape{3}), (D{7, 8, 9}), 0.0);
  EXPECT_TENSOR_NEAR(Slice1D({-20}, {3}), (Shape{3}), (D{0, 1, 2}), 0.0);
  EXPECT_TENSOR_NEAR(Slice1D({kMin}, {kMax}, {kMax}), (Shape{1}), (D{0}), 0.0);
  // Empty results: start past the end, or start after end with a positive step.
  EXPECT_TENSOR_NEAR(Slice1D({20}, {30}), (Shape{0}), D{}, 0.0);
  EXPECT_TENSOR_NEAR(Slice1D({5}, {2}), (Shape{0}), D{}, 0.0);
  EXPECT_TENSOR_NEAR(Slice1D({kMax}, {kMin}), (Shape{0}), D{}, 0.0);
}

TEST(SliceTest, NegativeSteps) {
  // Reverse everything: start -1 (the last), end INT64_MIN (before the first).
  EXPECT_TENSOR_NEAR(Slice1D({-1}, {kMin}, {-1}), (Shape{10}), (D{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}),
                     0.0);
  EXPECT_TENSOR_NEAR(Slice1D({kMax}, {kMin}, {-4}), (Shape{3}), (D{9, 5, 1}), 0.0);
  EXPECT_TENSOR_NEAR(Slice1D({8}, {2}, {-3}), (Shape{2}), (D{8, 5}), 0.0);
  // End -1 means the last element (10 - 1 = 9), so nothing lies between 9 and 9.
  EXPECT_TENSOR_NEAR(Slice1D({9}, {-1}, {-1}), (Shape{0}), D{}, 0.0);
  EXPECT_TENSOR_NEAR(Slice1D({2}, {5}, {-1}), (Shape{0}), D{}, 0.0);
  EXPECT_TENSOR_NEAR(Slice1D({-1}, {kMin}, {kMin}), (Shape{1}), (D{9}), 0.0);
}

TEST(SliceTest, SeveralAxes) {
  for (DataType dt : {DataType::kF32, DataType::kI32, DataType::kBool}) {
    SCOPED_TRACE(DataTypeName(dt));
    // x = [[0,1,2,3],[4,5,6,7],[8,9,10,11]] (bool: nonzero is true).
    Tensor x = MakeTensor(dt, Shape{3, 4}, Range(12));
    auto expect = [&](const D& v) {
      D r = v;
      if (dt == DataType::kBool)
        for (double& e : r) e = e != 0;
      return r;
    };
    // Default axes: the first starts.size() dimensions.
    EXPECT_TENSOR_NEAR(RunOp("Slice", {x}, {{"starts", V{0, 1}}, {"ends", V{2, 3}}}), (Shape{2, 2}),
                       expect({1, 2, 5, 6}), 0.0);
    EXPECT_TENSOR_NEAR(RunOp("Slice", {x}, {{"starts", V{1}}, {"ends", V{3}}, {"axes", V{1}}}),
                       (Shape{3, 2}), expect({1, 2, 5, 6, 9, 10}), 0.0);
    // Columns 3, 1 (step -2) of rows 0, 2 (step 2), axes given out of order.
    EXPECT_TENSOR_NEAR(
        RunOp("Slice", {x},
              {{"starts", V{3, 0}}, {"ends", V{0, 3}}, {"axes", V{-1, 0}}, {"steps", V{-2, 2}}}),
        (Shape{2, 2}), expect({3, 1, 11, 9}), 0.0);
  }
}

TEST(SliceTest, SizeZeroAndOne) {
  Tensor x = MakeTensor(DataType::kF32, Shape{0, 4}, {});
  EXPECT_TENSOR_NEAR(RunOp("Slice", {x}, {{"starts", V{1}}, {"ends", V{3}}, {"axes", V{1}}}),
                     (Shape{0, 2}), D{}, 0.0);
  EXPECT_TENSOR_NEAR(RunOp("Slice", {x}, {{"starts", V{-1}}, {"ends", V{kMin}}, {"steps", V{-1}}}),
                     (Shape{0, 4}), D{}, 0.0);
  Tensor one = MakeTensor(DataType::kF64, Shape{1, 3}, {7, 8, 9});
  EXPECT_TENSOR_NEAR(RunOp("Slice", {one}, {{"starts", V{0, -1}}, {"ends", V{1, kMax}}}),
                     (Shape{1, 1}), (D{9}), 0.0);
  EXPECT_TENSOR_NEAR(RunOp("Slice", {one}, {{"starts", V{}}, {"ends", V{}}}), (Shape{1, 3}),
                     (D{7, 8, 9}), 0.0);
}

TEST(SliceTest, UnknownDims) {
  EXPECT_EQ(InferShape("Slice", {Shape{-1, 10}}, {{"starts", V{0, 2}}, {"ends", V{5, 8}}}),
            (Shape{-1, 6}));
  EXPECT_EQ(InferShape("Slice", {Shape{-1, -1, 6}},
                       {{"starts", V{1}}, {"ends", V{-1}}, {"axes", V{2}}, {"steps", V{2}}}),
            (Shape{-1, -1, 2}));
}

TEST(SliceTest, Rejects) {
  const Shape x{3, 4};
  ExpectInvalid(Infer("Slice", {x}, {{"ends", V{1}}}), "missing required attribute 'starts'");
  ExpectInvalid(Infer("Slice", {x}, {{"starts", V{0, 0}}, {"ends", V{1}}}),
                "attribute 'ends' has 1 entries, expected 2 like 'starts'");
  ExpectInvalid(Infer("Slice", {x}, {{"starts", V{0}}, {"ends", V{1}}, {"axes", V{0, 1}}}),
                "attribute 'axes' has 2 entries, expected 1");
  ExpectInvalid(Infer("Slice", {x}, {{"starts", V{0}}, {"ends", V{1}}, {"steps", V{1, 1}}}),
                "attribute 'steps' has 2 entries, expected 1");
  ExpectInvalid(Infer("Slice", {x}, {{"starts", V{0}}, {"ends", V{1}}, {"steps", V{0}}}),
                "attribute 'steps' entry 0 is 0");
  ExpectInvalid(Infer("Slice", {x}, {{"starts", V{0, 0}}, {"ends", V{1, 1}}, {"axes", V{1, -1}}}),
                "attribute 'axes' repeats axis 1");
  ExpectInvalid(Infer("Slice", {x}, {{"starts", V{0}}, {"ends", V{1}}, {"axes", V{2}}}),
                "attribute 'axes' entry 0 is 2, out of range for input 'x' of rank 2");
  ExpectInvalid(Infer("Slice", {x}, {{"starts", V{0, 0, 0}}, {"ends", V{1, 1, 1}}}),
                "attribute 'starts' has 3 entries, more than the rank 2");
  // Step 0 is rejected even on an unknown dimension.
  ExpectInvalid(Infer("Slice", {Shape{-1}}, {{"starts", V{0}}, {"ends", V{1}}, {"steps", V{0}}}),
                "attribute 'steps' entry 0 is 0");
}

// ------------------------------------------------------------------------------- Gather

TEST(GatherTest, ByHand) {
  for (DataType it : {DataType::kI32, DataType::kI64}) {
    SCOPED_TRACE(DataTypeName(it));
    // data = [[1,2],[3,4],[5,6]].
    Tensor data = MakeTensor(DataType::kF32, Shape{3, 2}, Range(6, 1));
    EXPECT_TENSOR_NEAR(RunOp("Gather", {data, MakeTensor(it, Shape{3}, {2, 0, -1})}, {}),
                       (Shape{3, 2}), (D{5, 6, 1, 2, 5, 6}), 0.0);
    EXPECT_TENSOR_NEAR(
        RunOp("Gather", {data, MakeTensor(it, Shape{1}, {1})}, {{"axis", int64_t{1}}}),
        (Shape{3, 1}), (D{2, 4, 6}), 0.0);
    EXPECT_TENSOR_NEAR(
        RunOp("Gather", {data, MakeTensor(it, Shape{2}, {-1, -2})}, {{"axis", int64_t{-1}}}),
        (Shape{3, 2}), (D{2, 1, 4, 3, 6, 5}), 0.0);
    // A scalar index drops the axis.
    EXPECT_TENSOR_NEAR(RunOp("Gather", {data, MakeTensor(it, Shape{}, {1})}, {}), (Shape{2}),
                       (D{3, 4}), 0.0);
    // Rank-2 indices replace the axis with their shape.
    Tensor v = MakeTensor(DataType::kI64, Shape{3}, {10, 20, 30});
    EXPECT_TENSOR_NEAR(RunOp("Gather", {v, MakeTensor(it, Shape{2, 2}, {0, 1, 1, 2})}, {}),
                       (Shape{2, 2}), (D{10, 20, 20, 30}), 0.0);
  }
}

// Exact copies of data that doubles cannot hold, and bool.
TEST(GatherTest, CopiesBytesExactly) {
  const int64_t big = (int64_t{1} << 53) + 1;
  Tensor data = Tensor::I64(Shape{2}, {big, -big});
  Tensor y = RunOp("Gather", {data, Tensor::I32(Shape{2}, {1, 0})}, {});
  ASSERT_EQ(y.shape(), (Shape{2}));
  EXPECT_EQ(y.GetAsInt64(0), -big);
  EXPECT_EQ(y.GetAsInt64(1), big);
  Tensor b = Tensor::Bool(Shape{3}, {true, false, true});
  EXPECT_TENSOR_NEAR(RunOp("Gather", {b, Tensor::I64(Shape{2}, {1, 2})}, {}), (Shape{2}), (D{0, 1}),
                     0.0);
}

TEST(GatherTest, SizeZero) {
  Tensor data = MakeTensor(DataType::kF32, Shape{3, 2}, Range(6));
  EXPECT_TENSOR_NEAR(RunOp("Gather", {data, Tensor::I64(Shape{0}, {})}, {}), (Shape{0, 2}), D{},
                     0.0);
  Tensor cols0 = MakeTensor(DataType::kF32, Shape{3, 0}, {});
  EXPECT_TENSOR_NEAR(RunOp("Gather", {cols0, Tensor::I64(Shape{2}, {2, -3})}, {}), (Shape{2, 0}),
                     D{}, 0.0);
  Tensor rows0 = MakeTensor(DataType::kF32, Shape{0, 3}, {});
  EXPECT_TENSOR_NEAR(RunOp("Gather", {rows0, Tensor::I64(Shape{1}, {2})}, {{"axis", int64_t{1}}}),
                     (Shape{0, 1}), D{}, 0.0);
}

TEST(GatherTest, OutOfRangeIndicesAreKernelErrors) {
  Tensor data = MakeTensor(DataType::kF32, Shape{3, 2}, Range(6));
  ExpectInvalid(RunSingleOp("Gather", {data, Tensor::I64(Shape{2}, {0, 3})}, {}),
                "input 'indices' element 1 is 3, out of range for axis 0 of input 'data' "
                "(size 3); valid indices: [-3, 2]");
  ExpectInvalid(RunSingleOp("Gather", {data, Tensor::I32(Shape{1}, {-4})}, {}),
                "element 0 is -4, out of range");
  ExpectInvalid(RunSingleOp("Gather", {data, Tensor::I64(Shape{1}, {kMin})}, {}),
                "element 0 is -9223372036854775808, out of range");
  ExpectInvalid(RunSingleOp("Gather", {data, Tensor::I64(Shape{1}, {kMax})}, {}),
                "element 0 is 9223372036854775807, out of range");
  ExpectInvalid(RunSingleOp("Gather", {data, Tensor::I32(Shape{1}, {2})}, {{"axis", int64_t{1}}}),
                "out of range for axis 1 of input 'data' (size 2); valid indices: [-2, 1]");
  // Even when the output is empty, a bad index is reported.
  Tensor empty_axis = MakeTensor(DataType::kF32, Shape{0, 2}, {});
  ExpectInvalid(RunSingleOp("Gather", {empty_axis, Tensor::I64(Shape{1}, {0})}, {}),
                "valid indices: none");
}

TEST(GatherTest, InfersUnknownDims) {
  auto infer = [](const Shape& data, const Shape& indices, int64_t axis) {
    absl::StatusOr<std::vector<TensorType>> out = InferSingleOp(
        "Gather", {{DataType::kF16, data}, {DataType::kI64, indices}}, {{"axis", axis}});
    EXPECT_TRUE(out.ok()) << out.status();
    if (out.ok()) {
      EXPECT_EQ((*out)[0].dtype, DataType::kF16);
    }
    return out.ok() ? (*out)[0].shape : Shape{-2};
  };
  EXPECT_EQ(infer(Shape{-1, 4}, Shape{5, -1}, 0), (Shape{5, -1, 4}));
  EXPECT_EQ(infer(Shape{-1, 4}, Shape{5, -1}, -1), (Shape{-1, 5, -1}));
  EXPECT_EQ(infer(Shape{2, -1, 3}, Shape{}, 1), (Shape{2, 3}));
}

TEST(GatherTest, Rejects) {
  auto infer = [](const Shape& data, DataType index_type, AttrMap attrs = {}) {
    return InferSingleOp("Gather", {{DataType::kF32, data}, {index_type, Shape{2}}},
                         std::move(attrs));
  };
  ExpectInvalid(infer(Shape{3}, DataType::kF32),
                "input 'indices' has dtype f32, expected i32 or i64");
  ExpectInvalid(infer(Shape{3}, DataType::kU8), "input 'indices' has dtype u8");
  ExpectInvalid(infer(Shape{}, DataType::kI32), "input 'data' is a scalar");
  ExpectInvalid(infer(Shape{3, 2}, DataType::kI32, {{"axis", int64_t{2}}}),
                "attribute 'axis' is 2, out of range for rank 2");
  ExpectInvalid(infer(Shape{3, 2}, DataType::kI32, {{"axis", int64_t{-3}}}),
                "attribute 'axis' is -3, out of range");
  ExpectInvalid(InferSingleOp("Gather", {{DataType::kF32, Shape{3}}}, {}),
                "expected 2 inputs, got 1");
}

// ---------------------------------------------------------------------------------- Pad

Tensor Pad(const Tensor& x, const V& pads, const std::string& mode = "constant",
           double value = 0.0) {
  return RunOp("Pad", {x}, {{"pads", pads}, {"mode", mode}, {"value", value}});
}

TEST(PadTest, ConstantByHand) {
  for (DataType dt : {DataType::kF32, DataType::kI32, DataType::kF16}) {
    SCOPED_TRACE(DataTypeName(dt));
    Tensor x = MakeTensor(dt, Shape{2, 2}, {1, 2, 3, 4});
    // One row before, two columns after.
    EXPECT_TENSOR_NEAR(Pad(x, {1, 0, 0, 2}, "constant", 9), (Shape{3, 4}),
                       (D{9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9}), 0.0);
  }
  // The default value is 0, and mode defaults to constant.
  Tensor x = MakeTensor(DataType::kF64, Shape{2}, {5, 6});
  EXPECT_TENSOR_NEAR(RunOp("Pad", {x}, {{"pads", V{1, 1}}}), (Shape{4}), (D{0, 5, 6, 0}), 0.0);
  Tensor b = Tensor::Bool(Shape{1}, {false});
  EXPECT_TENSOR_NEAR(Pad(b, {1, 0}, "constant", 1.0), (Shape{2}), (D{1, 0}), 0.0);
}

TEST(PadTest, ReflectAndEdgeByHand) {
  Tensor x = MakeTensor(DataType::kF32, Shape{4}, {1, 2, 3, 4});
  // numpy.pad([1,2,3,4], (2,3), "reflect") and "edge".
  EXPECT_TENSOR_NEAR(Pad(x, {2, 3}, "reflect"), (Shape{9}), (D{3, 2, 1, 2, 3, 4, 3, 2, 1}), 0.0);
  EXPECT_TENSOR_NEAR(Pad(x, {2, 3}, "edge"), (Shape{9}), (D{1, 1, 1, 2, 3, 4, 4, 4, 4}), 0.0);
  Tensor m = MakeTensor(DataType::kI64, Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TENSOR_NEAR(Pad(m, {1, 1, 1, 1}, "reflect"), (Shape{4, 5}), (D{5, 4, 5, 6, 5,  //
                                                                        2, 1, 2, 3, 2,  //
                                                                        5, 4, 5, 6, 5,  //
                                                                        2, 1, 2, 3, 2}),
                     0.0);
  EXPECT_TENSOR_NEAR(Pad(m, {0, 2, 1, 0}, "edge"), (Shape{3, 5}),
                     (D{1, 1, 1, 2, 3,  //
                        4, 4, 4, 5, 6,  //
                        4, 4, 4, 5, 6}),
                     0.0);
  // Edge on a size-1 dimension repeats its only element.
  Tensor one = MakeTensor(DataType::kBF16, Shape{1}, {2.5});
  EXPECT_TENSOR_NEAR(Pad(one, {2, 1}, "edge"), (Shape{4}), (D{2.5, 2.5, 2.5, 2.5}), 0.0);
}

// Padding copies data bytes exactly: an i64 beyond double precision survives.
TEST(PadTest, CopiesBytesExactly) {
  const int64_t big = (int64_t{1} << 53) + 1;
  Tensor y = Pad(Tensor::I64(Shape{1}, {big}), {1, 1}, "edge");
  ASSERT_EQ(y.shape(), (Shape{3}));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(y.GetAsInt64(i), big);
}

TEST(PadTest, SizeZeroAndScalar) {
  Tensor e = MakeTensor(DataType::kF32, Shape{0}, {});
  EXPECT_TENSOR_NEAR(Pad(e, {2, 1}, "constant", -1), (Shape{3}), (D{-1, -1, -1}), 0.0);
  EXPECT_TENSOR_NEAR(Pad(e, {0, 0}, "reflect"), (Shape{0}), D{}, 0.0);
  EXPECT_TENSOR_NEAR(Pad(e, {0, 0}, "edge"), (Shape{0}), D{}, 0.0);
  Tensor rows0 = MakeTensor(DataType::kF32, Shape{0, 3}, {});
  EXPECT_TENSOR_NEAR(Pad(rows0, {0, 1, 0, 0}, "edge"), (Shape{0, 4}), D{}, 0.0);
  Tensor s = MakeTensor(DataType::kF32, Shape{}, {3});
  EXPECT_TENSOR_NEAR(Pad(s, {}), (Shape{}), (D{3}), 0.0);
}

TEST(PadTest, UnknownDims) {
  EXPECT_EQ(InferShape("Pad", {Shape{-1, 3}}, {{"pads", V{1, 1, 2, 2}}}), (Shape{-1, 6}));
  // Reflect limits are checked once the dimension is known.
  EXPECT_EQ(InferShape("Pad", {Shape{-1, 3}},
                       {{"pads", V{5, 0, 5, 0}}, {"mode", std::string("reflect")}}),
            (Shape{-1, 3}));
}

TEST(PadTest, Rejects) {
  const Shape x{2, 3};
  ExpectInvalid(Infer("Pad", {x}, {}), "missing required attribute 'pads'");
  ExpectInvalid(Infer("Pad", {x}, {{"pads", V{1, 1}}}),
                "attribute 'pads' has 2 entries, expected 4");
  ExpectInvalid(Infer("Pad", {x}, {{"pads", V{0, -1, 0, 0}}}),
                "attribute 'pads' entry 1 is -1; negative pads (cropping) are not supported");
  ExpectInvalid(Infer("Pad", {x}, {{"pads", V{0, 0, kMax, 0}}}),
                "attribute 'pads' entry 2 is 9223372036854775807, which exceeds 2^40");
  ExpectInvalid(Infer("Pad", {x}, {{"pads", V{0, 0, 0, 0}}, {"mode", std::string("wrap")}}),
                "attribute 'mode' is \"wrap\"");
  ExpectInvalid(Infer("Pad", {x}, {{"pads", V{0, 3, 0, 0}}, {"mode", std::string("reflect")}}),
                "attribute 'pads' pad 3, 0 of dimension 1 is too large for reflect mode");
  ExpectInvalid(Infer("Pad", {x}, {{"pads", V{0, 0, 2, 0}}, {"mode", std::string("reflect")}}),
                "less than the dimension size 2");
  ExpectInvalid(
      Infer("Pad", {Shape{2, 0}}, {{"pads", V{0, 0, 0, 1}}, {"mode", std::string("edge")}}),
      "attribute 'pads' pads dimension 1 in edge mode, but it has size 0");
  ExpectInvalid(Infer("Pad", {x}, {{"pads", V{0, 0, 0, 0}}, {"value", std::string("x")}}),
                "attribute 'value' must be float");
}

// ------------------------------------------------------------------------------ Flatten

TEST(FlattenTest, ShapesAndValues) {
  for (DataType dt : {DataType::kF32, DataType::kI32, DataType::kBool}) {
    SCOPED_TRACE(DataTypeName(dt));
    Tensor x = MakeTensor(dt, Shape{2, 3, 4}, Range(24, 1));
    D want = Values(x);
    EXPECT_TENSOR_NEAR(RunOp("Flatten", {x}, {}), (Shape{2, 12}), want, 0.0);
    EXPECT_TENSOR_NEAR(RunOp("Flatten", {x}, {{"axis", int64_t{0}}}), (Shape{1, 24}), want, 0.0);
    EXPECT_TENSOR_NEAR(RunOp("Flatten", {x}, {{"axis", int64_t{3}}}), (Shape{24, 1}), want, 0.0);
    EXPECT_TENSOR_NEAR(RunOp("Flatten", {x}, {{"axis", int64_t{-1}}}), (Shape{6, 4}), want, 0.0);
    EXPECT_TENSOR_NEAR(RunOp("Flatten", {x}, {{"axis", int64_t{-3}}}), (Shape{1, 24}), want, 0.0);
  }
  EXPECT_EQ(Values(RunOp("Flatten", {MakeTensor(DataType::kF64, Shape{3}, {1, 2, 3})}, {})),
            (D{1, 2, 3}));
  Tensor s = MakeTensor(DataType::kF32, Shape{}, {5});
  EXPECT_TENSOR_NEAR(RunOp("Flatten", {s}, {{"axis", int64_t{0}}}), (Shape{1, 1}), (D{5}), 0.0);
}

TEST(FlattenTest, SizeZeroAndUnknown) {
  Tensor x = MakeTensor(DataType::kF32, Shape{2, 0, 3}, {});
  EXPECT_TENSOR_NEAR(RunOp("Flatten", {x}, {}), (Shape{2, 0}), D{}, 0.0);
  EXPECT_TENSOR_NEAR(RunOp("Flatten", {x}, {{"axis", int64_t{2}}}), (Shape{0, 3}), D{}, 0.0);
  auto infer = [](const Shape& s, int64_t axis) {
    return InferShape("Flatten", {s}, {{"axis", axis}});
  };
  EXPECT_EQ(infer(Shape{-1, 3, 4}, 1), (Shape{-1, 12}));
  EXPECT_EQ(infer(Shape{-1, 3, 4}, 2), (Shape{-1, 4}));
  EXPECT_EQ(infer(Shape{2, -1, 4}, 0), (Shape{1, -1}));
  // A known 0 makes a product 0 even beside an unknown dimension.
  EXPECT_EQ(infer(Shape{0, -1}, 1), (Shape{0, -1}));
  EXPECT_EQ(infer(Shape{-1, 0, 5}, 2), (Shape{0, 5}));
  EXPECT_EQ(infer(Shape{-1, 0, 5}, 1), (Shape{-1, 0}));
}

TEST(FlattenTest, Rejects) {
  ExpectInvalid(Infer("Flatten", {Shape{2, 3, 4}}, {{"axis", int64_t{4}}}),
                "attribute 'axis' is 4, expected in [-3, 3]");
  ExpectInvalid(Infer("Flatten", {Shape{2, 3, 4}}, {{"axis", int64_t{-4}}}),
                "attribute 'axis' is -4");
  // Non-zero dimensions must multiply to at most 2^40 even after a 0; such an input is
  // rejected before Flatten sees it.
  ExpectInvalid(Infer("Flatten", {Shape{0, int64_t{1} << 40, int64_t{1} << 40}}, {}),
                "element count exceeds 2^40");
}

// The typed builder API passes attributes the schemas accept, with the same meanings.
TEST(ShapeOpsTest, BuilderApi) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kI64, Shape{-1, 4, 6});
  Value r = ops::Reshape(b, x, {-1, 12});
  Value t = ops::Transpose(b, x, {2, 0, 1});
  Value c = ops::Concat(b, {x, x}, -1);
  Value s = ops::Slice(b, x, {1, -1}, {3, 0}, {1, 2}, {1, -2});
  Value g = ops::Gather(b, x, b.Input("i", DataType::kI32, Shape{5}), 1);
  Value p = ops::Pad(b, x, {0, 1, 1, 0, 1, 1}, 0.0, "reflect");
  Value f = ops::Flatten(b, x);
  ASSERT_TRUE(b.status().ok()) << b.status();
  EXPECT_EQ(r.shape(), (Shape{-1, 12}));
  EXPECT_EQ(t.shape(), (Shape{6, -1, 4}));
  EXPECT_EQ(c.shape(), (Shape{-1, 4, 12}));
  EXPECT_EQ(s.shape(), (Shape{-1, 2, 3}));
  EXPECT_EQ(g.shape(), (Shape{-1, 5, 6}));
  EXPECT_EQ(p.shape(), (Shape{-1, 6, 8}));
  EXPECT_EQ(f.shape(), (Shape{-1, 24}));
}

}  // namespace
}  // namespace kiln
