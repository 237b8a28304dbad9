// Tests of `kiln run`'s pieces (tools/cli/run.h): random feeds, output summaries and
// output file names.
#include "tools/cli/run.h"

#include <cmath>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "base/half.h"
#include "gtest/gtest.h"

namespace kiln::cli {
namespace {

using ::testing::HasSubstr;

std::string BytesOf(const Tensor& t) {
  return std::string(reinterpret_cast<const char*>(t.bytes().data()), t.ByteSize());
}

TEST(RandomTensorTest, DeterministicPerSeedAndName) {
  Tensor a = RandomTensor(DataType::kF32, {4, 5}, 0, "x").value();
  Tensor same = RandomTensor(DataType::kF32, {4, 5}, 0, "x").value();
  Tensor other_name = RandomTensor(DataType::kF32, {4, 5}, 0, "y").value();
  Tensor other_seed = RandomTensor(DataType::kF32, {4, 5}, 1, "x").value();
  EXPECT_EQ(a.shape(), (Shape{4, 5}));
  EXPECT_EQ(BytesOf(a), BytesOf(same));
  EXPECT_NE(BytesOf(a), BytesOf(other_name));
  EXPECT_NE(BytesOf(a), BytesOf(other_seed));
}

TEST(RandomTensorTest, FloatsAreStandardNormal) {
  const int n = 20000;
  Tensor t = RandomTensor(DataType::kF64, {n}, 3, "x").value();
  double sum = 0, sum_sq = 0;
  int within_one_sigma = 0;
  for (int i = 0; i < n; ++i) {
    double v = t.GetAsDouble(i);
    ASSERT_TRUE(std::isfinite(v));
    sum += v;
    sum_sq += v * v;
    if (std::abs(v) < 1) ++within_one_sigma;
  }
  double mean = sum / n;
  // Standard errors: 0.007 for the mean, 0.01 for the variance.
  EXPECT_NEAR(mean, 0.0, 0.04);
  EXPECT_NEAR(sum_sq / n - mean * mean, 1.0, 0.05);
  // 68.3% of a normal distribution lies within one standard deviation.
  EXPECT_NEAR(within_one_sigma / static_cast<double>(n), 0.683, 0.02);
}

TEST(RandomTensorTest, HalfTypesHoldRoundedNormals) {
  for (DataType dtype : {DataType::kF16, DataType::kBF16}) {
    Tensor t = RandomTensor(dtype, {1000}, 0, "h").value();
    std::set<double> distinct;
    for (int i = 0; i < 1000; ++i) {
      double v = t.GetAsDouble(i);
      ASSERT_TRUE(std::isfinite(v));
      EXPECT_LT(std::abs(v), 8.0);
      distinct.insert(v);
    }
    EXPECT_GT(distinct.size(), 100u) << DataTypeName(dtype);
  }
}

TEST(RandomTensorTest, IntegersAreSmallAndBoolsAreZeroOrOne) {
  for (DataType dtype : {DataType::kI8, DataType::kU8, DataType::kI32, DataType::kI64}) {
    Tensor t = RandomTensor(dtype, {2000}, 0, "i").value();
    std::set<int64_t> seen;
    for (int i = 0; i < 2000; ++i) seen.insert(t.GetAsInt64(i));
    EXPECT_EQ(seen, (std::set<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})) << DataTypeName(dtype);
  }
  Tensor b = RandomTensor(DataType::kBool, {200}, 0, "b").value();
  std::set<int> bytes;
  for (int i = 0; i < 200; ++i) bytes.insert(b.data<uint8_t>()[i]);
  EXPECT_EQ(bytes, (std::set<int>{0, 1}));
}

TEST(RandomTensorTest, ScalarsEmptyAndErrors) {
  EXPECT_EQ(RandomTensor(DataType::kF32, {}, 0, "s").value().NumElements(), 1);
  EXPECT_EQ(RandomTensor(DataType::kF32, {3, 0}, 0, "e").value().NumElements(), 0);
  EXPECT_FALSE(RandomTensor(DataType::kF32, {-1, 3}, 0, "u").ok());
  EXPECT_FALSE(RandomTensor(DataType::kF32, {int64_t{1} << 21, int64_t{1} << 21}, 0, "big").ok());
}

TEST(SummarizeTensorTest, Floats) {
  EXPECT_EQ(SummarizeTensor("y", Tensor::F32({2, 3}, {-1, -0.5, 0, 0.5, 1, 1.5})),
            "y f32[2,3] min=-1 max=1.5 mean=0.25 values=[-1, -0.5, 0, 0.5, 1, 1.5]");
  EXPECT_EQ(SummarizeTensor("z", Tensor::F32({7}, {7, 6, 5, 4, 3, 2, 1})),
            "z f32[7] min=1 max=7 mean=4 values=[7, 6, 5, 4, 3, 2, ...]");
  EXPECT_EQ(SummarizeTensor("s", Tensor::ScalarF32(0.1f)),
            "s f32[] min=0.1 max=0.1 mean=0.1 values=[0.1]");
  EXPECT_EQ(SummarizeTensor("n", Tensor::F32({3}, {1, NAN, 2})),
            "n f32[3] min=nan max=nan mean=nan values=[1, nan, 2]");
  EXPECT_EQ(SummarizeTensor("i", Tensor::F32({2}, {-INFINITY, 2})),
            "i f32[2] min=-inf max=2 mean=-inf values=[-inf, 2]");
}

TEST(SummarizeTensorTest, IntegersPrintExactly) {
  int64_t big = (int64_t{1} << 62) + 1;
  EXPECT_EQ(SummarizeTensor("k", Tensor::I64({2}, {big, -3})),
            "k i64[2] min=-3 max=4611686018427387905 mean=2.30584e+18 "
            "values=[4611686018427387905, -3]");
  EXPECT_EQ(SummarizeTensor("b", Tensor::Bool({3}, {true, false, true})),
            "b bool[3] min=0 max=1 mean=0.666667 values=[1, 0, 1]");
}

TEST(SummarizeTensorTest, Empty) {
  EXPECT_EQ(SummarizeTensor("e", Tensor::Allocate(DataType::kI32, {0, 3}).value()),
            "e i32[0,3] min=- max=- mean=- values=[]");
}

TEST(OutputFileNameTest, ReplacesUnsafeCharacters) {
  EXPECT_EQ(OutputFileName("logits"), "logits.npy");
  EXPECT_EQ(OutputFileName("a-b_c.d"), "a-b_c.d.npy");
  EXPECT_EQ(OutputFileName("layer/out:1"), "layer_out_1.npy");
  EXPECT_EQ(OutputFileName("../x"), ".._x.npy");
  EXPECT_EQ(OutputFileName(".."), "...npy");
}

}  // namespace
}  // namespace kiln::cli
