// Tests of Softmax, LayerNorm, BatchNorm and BiasAdd: values, axes, dtypes, empty and
// size-1 dimensions, shape inference with unknown dims, and errors.
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
using ::kiln::testing::RandomTensor;
using ::kiln::testing::RunSingleOp;
using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kSqrt2 = std::sqrt(2.0);

absl::StatusOr<Tensor> Eval(absl::string_view op, const std::vector<Tensor>& inputs,
                           AttrMap attrs = {}) {
  ASSIGN_OR_RETURN(std::vector<Tensor> outputs, RunSingleOp(op, inputs, std::move(attrs)));
  return outputs.at(0);
}

absl::StatusOr<TensorType> Infer(absl::string_view op, const std::vector<TensorType>& inputs,
                                 AttrMap attrs = {}) {
  ASSIGN_OR_RETURN(std::vector<TensorType> outputs, InferSingleOp(op, inputs, std::move(attrs)));
  return outputs.at(0);
}

int64_t Flops(absl::string_view op, const Shape& out) {
  const OpDef* def = OpRegistry::Global().Find(op);
  Node node;
  return def->flops(node, {}, {{DataType::kF32, out}});
}

// Tolerance for results stored in `dtype` with magnitude about 1.
double Tol(DataType dtype) {
  switch (dtype) {
    case DataType::kF64: return 1e-14;
    case DataType::kF32: return 1e-6;
    case DataType::kF16: return 2e-3;
    default: return 1e-2;  // bf16
  }
}

// ---------------------------------------------------------------------------------------
// Softmax.

TEST(SoftmaxTest, HandComputedRows) {
  // softmax(1, 2, 3) = (e^-2, e^-1, 1) / (e^-2 + e^-1 + 1); a constant row is uniform.
  for (DataType dtype : {DataType::kF64, DataType::kF32, DataType::kF16, DataType::kBF16}) {
    SCOPED_TRACE(DataTypeName(dtype));
    Tensor x = MakeTensor(dtype, {2, 3}, {1, 2, 3, 0, 0, 0});
    Tensor y = *Eval("Softmax", {x});
    EXPECT_EQ(y.dtype(), dtype);
    ExpectValues(y, {2, 3},
                 {0.09003057317038046, 0.24472847105479764, 0.6652409557748218, 1.0 / 3,
                  1.0 / 3, 1.0 / 3},
                 Tol(dtype));
  }
}

TEST(SoftmaxTest, AxisZero) {
  // Columns [0, ln 3] -> [1/4, 3/4] and [0, 0] -> [1/2, 1/2].
  Tensor x = MakeTensor(DataType::kF64, {2, 2}, {0, 0, std::log(3.0), 0});
  ExpectValues(Eval("Softmax", {x}, {{"axis", int64_t{0}}}), {2, 2}, {0.25, 0.5, 0.75, 0.5},
               1e-15);
  ExpectValues(Eval("Softmax", {x}, {{"axis", int64_t{-2}}}), {2, 2}, {0.25, 0.5, 0.75, 0.5},
               1e-15);
}

TEST(SoftmaxTest, MiddleAxisMatchesPairwiseFormula) {
  // y_j = 1 / sum_k exp(x_k - x_j): algebraically softmax, computed without a max.
  Tensor x = RandomTensor(DataType::kF64, {2, 3, 4}, 7, -3, 3);
  std::vector<double> want(24);
  for (int o = 0; o < 2; ++o) {
    for (int in = 0; in < 4; ++in) {
      for (int j = 0; j < 3; ++j) {
        double denominator = 0;
        for (int k = 0; k < 3; ++k) {
          denominator += std::exp(x.GetAsDouble(o * 12 + k * 4 + in) -
                                  x.GetAsDouble(o * 12 + j * 4 + in));
        }
        want[o * 12 + j * 4 + in] = 1 / denominator;
      }
    }
  }
  ExpectValues(Eval("Softmax", {x}, {{"axis", int64_t{1}}}), {2, 3, 4}, want, 1e-14);
}

TEST(SoftmaxTest, StableForLargeInputs) {
  ExpectValues(Eval("Softmax", {MakeTensor(DataType::kF32, {2, 2}, {1000, 1000, -1000, 0})}),
               {2, 2}, {0.5, 0.5, 0, 1}, 1e-7);
  ExpectValues(Eval("Softmax", {MakeTensor(DataType::kF64, {3}, {kNaN, 1, 2})}), {3},
               {kNaN, kNaN, kNaN}, 0);
}

TEST(SoftmaxTest, SizeOneAndZeroDims) {
  ExpectValues(Eval("Softmax", {MakeTensor(DataType::kF32, {3, 1}, {-5, 0, 7})}), {3, 1},
               {1, 1, 1}, 0);
  ExpectValues(Eval("Softmax", {MakeTensor(DataType::kF32, {0, 3}, {})}), {0, 3}, {}, 0);
  ExpectValues(Eval("Softmax", {MakeTensor(DataType::kF32, {2, 0}, {})}), {2, 0}, {}, 0);
  ExpectValues(Eval("Softmax", {MakeTensor(DataType::kF32, {2, 0}, {})}, {{"axis", int64_t{0}}}),
               {2, 0}, {}, 0);
}

TEST(SoftmaxTest, InferenceAndErrors) {
  EXPECT_EQ(*Infer("Softmax", {{DataType::kF16, {-1, 5}}}), (TensorType{DataType::kF16, {-1, 5}}));
  EXPECT_EQ(*Infer("Softmax", {{DataType::kF32, {-1}}}, {{"axis", int64_t{0}}}),
            (TensorType{DataType::kF32, {-1}}));
  ExpectInvalid(Infer("Softmax", {{DataType::kF32, {2, 3}}}, {{"axis", int64_t{2}}}).status(),
                "attribute 'axis': axis 2 is out of range for rank 2");
  ExpectInvalid(Infer("Softmax", {{DataType::kF32, {}}}).status(),
                "attribute 'axis': axis -1 is out of range for rank 0");
  ExpectInvalid(Infer("Softmax", {{DataType::kI32, {3}}}).status(), "input 0 has dtype i32");
  ExpectInvalid(Infer("Softmax", {{DataType::kF32, {3}}}, {{"axis", 0.5}}).status(),
                "attribute 'axis' must be int");
  EXPECT_EQ(Flops("Softmax", {4, 5}), 100);
  EXPECT_EQ(Flops("Softmax", {-1, 5}), 0);
}

// ---------------------------------------------------------------------------------------
// LayerNorm.

Tensor Fill(DataType dtype, const Shape& shape, double value) {
  return MakeTensor(dtype, shape, std::vector<double>(Shape(shape).NumElements(), value));
}

TEST(LayerNormTest, HandComputedLastAxis) {
  // Row 0 = [1, 2, 3, 4]: mean 2.5, biased variance 1.25; epsilon 0.75 makes the std
  // sqrt(2). Row 1 is constant, so it normalizes to 0 and only beta remains.
  for (DataType dtype : {DataType::kF64, DataType::kF32, DataType::kBF16}) {
    SCOPED_TRACE(DataTypeName(dtype));
    Tensor x = MakeTensor(dtype, {2, 4}, {1, 2, 3, 4, 2, 2, 2, 2});
    Tensor gamma = MakeTensor(dtype, {4}, {1, 2, 0.5, -1});
    Tensor beta = MakeTensor(dtype, {4}, {0, 1, 0, -1});
    ExpectValues(Eval("LayerNorm", {x, gamma, beta}, {{"epsilon", 0.75}}), {2, 4},
                 {-1.5 / kSqrt2, -0.5 / kSqrt2 * 2 + 1, 0.5 / kSqrt2 * 0.5, -1.5 / kSqrt2 - 1,
                  0, 1, 0, -1},
                 Tol(dtype));
  }
}

TEST(LayerNormTest, NormalizesTrailingDimsFromAxis) {
  // axis 1 of [2, 2, 2]: each batch row of 4 is normalized together, gamma is [2, 2].
  Tensor x = MakeTensor(DataType::kF32, {2, 2, 2}, {0, 1, 2, 3, 4, 4, 4, 4});
  Tensor gamma = Fill(DataType::kF32, {2, 2}, 1);
  Tensor beta = MakeTensor(DataType::kF32, {2, 2}, {0, 0, 0, 10});
  std::vector<double> want = {-1.5 / kSqrt2, -0.5 / kSqrt2, 0.5 / kSqrt2, 1.5 / kSqrt2 + 10,
                              0,             0,             0,            10};
  AttrMap attrs = {{"axis", int64_t{1}}, {"epsilon", 0.75}};
  ExpectValues(Eval("LayerNorm", {x, gamma, beta}, attrs), {2, 2, 2}, want, 1e-6);
  attrs["axis"] = int64_t{-2};
  ExpectValues(Eval("LayerNorm", {x, gamma, beta}, attrs), {2, 2, 2}, want, 1e-6);
  // axis 0: everything together; mean 2.75, variance (7.5625+3.0625+0.5625+0.0625+4*1.5625)/8.
  double var = (7.5625 + 3.0625 + 0.5625 + 0.0625 + 4 * 1.5625) / 8;
  std::vector<double> all = {0, 1, 2, 3, 4, 4, 4, 4};
  for (double& v : all) v = (v - 2.75) / std::sqrt(var + 1e-5);
  ExpectValues(Eval("LayerNorm", {x, Fill(DataType::kF32, {2, 2, 2}, 1),
                                 Fill(DataType::kF32, {2, 2, 2}, 0)},
                   {{"axis", int64_t{0}}}),
               {2, 2, 2}, all, 1e-6);
}

TEST(LayerNormTest, DefaultEpsilon) {
  // [0, 2]: mean 1, variance 1, so +-1 / sqrt(1 + 1e-5).
  ExpectValues(Eval("LayerNorm", {MakeTensor(DataType::kF64, {2}, {0, 2}),
                                 Fill(DataType::kF64, {2}, 1), Fill(DataType::kF64, {2}, 0)}),
               {2}, {-0.9999950000374997, 0.9999950000374997}, 1e-15);
}

TEST(LayerNormTest, SizeOneAndZeroDims) {
  // One element per row: x - mean is 0, so the output is beta.
  ExpectValues(Eval("LayerNorm", {MakeTensor(DataType::kF32, {3, 1}, {5, -2, 9}),
                                 Fill(DataType::kF32, {1}, 4), Fill(DataType::kF32, {1}, 0.5)}),
               {3, 1}, {0.5, 0.5, 0.5}, 0);
  ExpectValues(Eval("LayerNorm", {MakeTensor(DataType::kF32, {0, 4}, {}),
                                 Fill(DataType::kF32, {4}, 1), Fill(DataType::kF32, {4}, 0)}),
               {0, 4}, {}, 0);
  ExpectValues(Eval("LayerNorm", {MakeTensor(DataType::kF16, {2, 0}, {}),
                                 Fill(DataType::kF16, {0}, 1), Fill(DataType::kF16, {0}, 0)}),
               {2, 0}, {}, 0);
}

TEST(LayerNormTest, Inference) {
  const DataType f32 = DataType::kF32;
  EXPECT_EQ(*Infer("LayerNorm", {{f32, {-1, 4}}, {f32, {4}}, {f32, {4}}}),
            (TensorType{f32, {-1, 4}}));
  EXPECT_EQ(*Infer("LayerNorm", {{f32, {2, -1}}, {f32, {5}}, {f32, {-1}}}),
            (TensorType{f32, {2, -1}}));
  EXPECT_EQ(*Infer("LayerNorm", {{DataType::kBF16, {2, 3, 4}}, {DataType::kBF16, {-1, 4}},
                                 {DataType::kBF16, {3, 4}}},
                   {{"axis", int64_t{1}}}),
            (TensorType{DataType::kBF16, {2, 3, 4}}));
}

TEST(LayerNormTest, Errors) {
  const DataType f32 = DataType::kF32;
  ExpectInvalid(Infer("LayerNorm", {{f32, {2, 4}}, {f32, {3}}, {f32, {4}}}).status(),
                "input 'gamma' has shape [3], expected [4] (dimensions 1.. of input 'x' [2,4])");
  ExpectInvalid(
      Infer("LayerNorm", {{f32, {2, 3}}, {f32, {2, 3}}, {f32, {3}}}, {{"axis", int64_t{0}}})
          .status(),
      "input 'beta' has shape [3], expected [2,3]");
  ExpectInvalid(Infer("LayerNorm", {{f32, {2, 3}}, {f32, {1, 3}}, {f32, {3}}}).status(),
                "input 'gamma' has shape [1,3], expected [3]");
  ExpectInvalid(Infer("LayerNorm", {{f32, {2, 3}}, {f32, {3}}, {DataType::kF64, {3}}}).status(),
                "input 'beta' has dtype f64, expected f32 like input 'x'");
  ExpectInvalid(Infer("LayerNorm", {{DataType::kI64, {2, 3}}, {DataType::kI64, {3}},
                                    {DataType::kI64, {3}}})
                    .status(),
                "input 0 has dtype i64");
  ExpectInvalid(
      Infer("LayerNorm", {{f32, {2, 3}}, {f32, {3}}, {f32, {3}}}, {{"axis", int64_t{-3}}})
          .status(),
      "attribute 'axis': axis -3 is out of range for rank 2");
  ExpectInvalid(Infer("LayerNorm", {{f32, {2, 3}}, {f32, {3}}, {f32, {3}}}, {{"epsilon", -1e-3}})
                    .status(),
                "attribute 'epsilon' is -0.001, expected a finite value >= 0");
  ExpectInvalid(Infer("LayerNorm", {{f32, {2, 3}}, {f32, {3}}, {f32, {3}}},
                      {{"epsilon", std::numeric_limits<double>::infinity()}})
                    .status(),
                "attribute 'epsilon'");
  ExpectInvalid(Infer("LayerNorm", {{f32, {2, 3}}, {f32, {3}}}).status(),
                "expected 3 inputs, got 2");
  EXPECT_EQ(Flops("LayerNorm", {2, 3}), 48);
}

// ---------------------------------------------------------------------------------------
// BatchNorm.

struct BatchNormParams {
  Tensor scale, bias, mean, variance;
};

// Channel 0: scale 2, bias 1, mean 2, variance 3; channel 1: 0.5, -1, 15, 24. With
// epsilon 1 the standard deviations are 2 and 5.
BatchNormParams TwoChannels(DataType dtype) {
  return {MakeTensor(dtype, {2}, {2, 0.5}), MakeTensor(dtype, {2}, {1, -1}),
          MakeTensor(dtype, {2}, {2, 15}), MakeTensor(dtype, {2}, {3, 24})};
}

absl::StatusOr<Tensor> BatchNorm(const Tensor& x, const BatchNormParams& p, AttrMap attrs) {
  return Eval("BatchNorm", {x, p.scale, p.bias, p.mean, p.variance}, std::move(attrs));
}

TEST(BatchNormTest, ChannelsFirstAndLast) {
  for (DataType dtype : {DataType::kF32, DataType::kF64, DataType::kF16}) {
    SCOPED_TRACE(DataTypeName(dtype));
    BatchNormParams p = TwoChannels(dtype);
    // NCHW [1, 2, 1, 2]: channel 0 holds 1, 3 and channel 1 holds 10, 20.
    //   (1-2)/2*2+1 = 0, (3-2)/2*2+1 = 2, (10-15)/5*0.5-1 = -1.5, (20-15)/5*0.5-1 = -0.5.
    Tensor nchw = MakeTensor(dtype, {1, 2, 1, 2}, {1, 3, 10, 20});
    ExpectValues(BatchNorm(nchw, p, {{"epsilon", 1.0}}), {1, 2, 1, 2}, {0, 2, -1.5, -0.5},
                 Tol(dtype));
    // The same values with channels last.
    Tensor nhwc = MakeTensor(dtype, {2, 2}, {1, 10, 3, 20});
    ExpectValues(BatchNorm(nhwc, p, {{"epsilon", 1.0}, {"axis", int64_t{-1}}}), {2, 2},
                 {0, -1.5, 2, -0.5}, Tol(dtype));
  }
}

TEST(BatchNormTest, DefaultEpsilonAndAxis) {
  // [2, 1] with one channel (axis 1): mean 0, variance 1 -> x / sqrt(1 + 1e-5).
  Tensor one = Fill(DataType::kF64, {1}, 1);
  Tensor zero = Fill(DataType::kF64, {1}, 0);
  ExpectValues(Eval("BatchNorm", {MakeTensor(DataType::kF64, {2, 1}, {1, -1}), one, zero, zero, one}),
               {2, 1}, {0.9999950000374997, -0.9999950000374997}, 1e-15);
}

TEST(BatchNormTest, EmptyBatch) {
  BatchNormParams p = TwoChannels(DataType::kF32);
  ExpectValues(BatchNorm(MakeTensor(DataType::kF32, {0, 2, 3}, {}), p, {}), {0, 2, 3}, {}, 0);
  ExpectValues(BatchNorm(MakeTensor(DataType::kF32, {4, 2, 0}, {}), p, {}), {4, 2, 0}, {}, 0);
}

TEST(BatchNormTest, Inference) {
  const DataType f32 = DataType::kF32;
  auto infer = [&](Shape x, Shape param, AttrMap attrs = {}) {
    return Infer("BatchNorm", {{f32, x}, {f32, param}, {f32, param}, {f32, param}, {f32, param}},
                 std::move(attrs));
  };
  EXPECT_EQ(*infer({-1, 3, -1, -1}, {3}), (TensorType{f32, {-1, 3, -1, -1}}));
  EXPECT_EQ(*infer({2, -1}, {5}), (TensorType{f32, {2, -1}}));
  EXPECT_EQ(*infer({2, 3}, {-1}), (TensorType{f32, {2, 3}}));
  EXPECT_EQ(*infer({2, 7, 3}, {3}, {{"axis", int64_t{2}}}), (TensorType{f32, {2, 7, 3}}));
  ExpectInvalid(infer({2, 3}, {4}).status(),
                "input 'scale' has shape [4], expected [3] (dimension 1 of input 'x' [2,3])");
  ExpectInvalid(infer({2, 3}, {3, 1}).status(), "input 'scale' has shape [3,1], expected [3]");
  ExpectInvalid(infer({3}, {3}).status(), "attribute 'axis': axis 1 is out of range for rank 1");
  ExpectInvalid(infer({2, 3}, {3}, {{"epsilon", -1.0}}).status(), "attribute 'epsilon' is -1");
  ExpectInvalid(Infer("BatchNorm", {{f32, {2, 3}}, {f32, {3}}, {f32, {3}}, {f32, {3}},
                                    {f32, {2}}})
                    .status(),
                "input 'variance' has shape [2], expected [3]");
  ExpectInvalid(Infer("BatchNorm", {{f32, {2, 3}}, {f32, {3}}, {f32, {3}},
                                    {DataType::kF16, {3}}, {f32, {3}}})
                    .status(),
                "input 'mean' has dtype f16, expected f32 like input 'x'");
  ExpectInvalid(Infer("BatchNorm", {{DataType::kI32, {2, 3}}, {DataType::kI32, {3}},
                                    {DataType::kI32, {3}}, {DataType::kI32, {3}},
                                    {DataType::kI32, {3}}})
                    .status(),
                "input 0 has dtype i32");
  EXPECT_EQ(Flops("BatchNorm", {2, 3}), 24);
}

// ---------------------------------------------------------------------------------------
// BiasAdd.

TEST(BiasAddTest, AlongEachAxis) {
  for (DataType dtype : {DataType::kF32, DataType::kF64, DataType::kBF16}) {
    SCOPED_TRACE(DataTypeName(dtype));
    Tensor x = MakeTensor(dtype, {2, 3}, {1, 2, 3, 4, 5, 6});
    ExpectValues(Eval("BiasAdd", {x, MakeTensor(dtype, {3}, {10, 20, 30})}), {2, 3},
                 {11, 22, 33, 14, 25, 36}, 0);
    ExpectValues(Eval("BiasAdd", {x, MakeTensor(dtype, {2}, {-1, 0.5})}, {{"axis", int64_t{0}}}),
                 {2, 3}, {0, 1, 2, 4.5, 5.5, 6.5}, 0);
  }
  // NCHW bias on axis 1 of [1, 2, 2, 2].
  Tensor x = Fill(DataType::kF32, {1, 2, 2, 2}, 1);
  ExpectValues(Eval("BiasAdd", {x, MakeTensor(DataType::kF32, {2}, {1, -1})}, {{"axis", int64_t{1}}}),
               {1, 2, 2, 2}, {2, 2, 2, 2, 0, 0, 0, 0}, 0);
}

TEST(BiasAddTest, SizeOneAndZeroDims) {
  ExpectValues(Eval("BiasAdd", {MakeTensor(DataType::kF32, {3, 1}, {1, 2, 3}),
                               Fill(DataType::kF32, {1}, 0.5)}),
               {3, 1}, {1.5, 2.5, 3.5}, 0);
  ExpectValues(Eval("BiasAdd", {MakeTensor(DataType::kF32, {0, 3}, {}), Fill(DataType::kF32, {3}, 1)}),
               {0, 3}, {}, 0);
  ExpectValues(Eval("BiasAdd", {MakeTensor(DataType::kF32, {2, 0}, {}), Fill(DataType::kF32, {0}, 1)}),
               {2, 0}, {}, 0);
}

TEST(BiasAddTest, InferenceAndErrors) {
  const DataType f32 = DataType::kF32;
  EXPECT_EQ(*Infer("BiasAdd", {{f32, {-1, 8}}, {f32, {8}}}), (TensorType{f32, {-1, 8}}));
  EXPECT_EQ(*Infer("BiasAdd", {{f32, {4, -1}}, {f32, {8}}}), (TensorType{f32, {4, -1}}));
  EXPECT_EQ(*Infer("BiasAdd", {{f32, {4, 8}}, {f32, {-1}}}), (TensorType{f32, {4, 8}}));
  ExpectInvalid(Infer("BiasAdd", {{f32, {4, 8}}, {f32, {4}}}).status(),
                "input 'bias' has shape [4], expected [8] (dimension 1 of input 'x' [4,8])");
  ExpectInvalid(Infer("BiasAdd", {{f32, {4, 8}}, {f32, {1, 8}}}).status(),
                "input 'bias' has shape [1,8], expected [8]");
  ExpectInvalid(Infer("BiasAdd", {{f32, {4, 8}}, {f32, {}}}).status(),
                "input 'bias' has shape [], expected [8]");
  ExpectInvalid(Infer("BiasAdd", {{f32, {4, 8}}, {DataType::kBF16, {8}}}).status(),
                "input 'bias' has dtype bf16, expected f32 like input 'x'");
  ExpectInvalid(Infer("BiasAdd", {{f32, {4, 8}}, {f32, {8}}}, {{"axis", int64_t{2}}}).status(),
                "attribute 'axis': axis 2 is out of range for rank 2");
  ExpectInvalid(Infer("BiasAdd", {{DataType::kU8, {8}}, {DataType::kU8, {8}}}).status(),
                "input 0 has dtype u8");
  EXPECT_EQ(Flops("BiasAdd", {4, 8}), 32);
}

TEST(NormalizationTest, NoElementwiseTraits) {
  // Each reads along an axis or per channel, so none is elementwise or layout-agnostic.
  for (const char* op : {"Softmax", "LayerNorm", "BatchNorm", "BiasAdd"}) {
    const OpDef* def = OpRegistry::Global().Find(op);
    ASSERT_NE(def, nullptr) << op;
    EXPECT_FALSE(def->Has(kElementwise)) << op;
    EXPECT_FALSE(def->Has(kLayoutAgnostic)) << op;
  }
  // What passes rely on instead: per-channel ops remap `axis` under a permutation, and
  // Softmax/LayerNorm reduce along `axis` and keep x's shape.
  EXPECT_TRUE(OpRegistry::Global().Find("BatchNorm")->Has(kChannelAxis));
  EXPECT_TRUE(OpRegistry::Global().Find("BiasAdd")->Has(kChannelAxis));
  EXPECT_TRUE(OpRegistry::Global().Find("Softmax")->Has(kAxisReduction));
  EXPECT_TRUE(OpRegistry::Global().Find("LayerNorm")->Has(kAxisReduction));
}

}  // namespace
}  // namespace kiln
