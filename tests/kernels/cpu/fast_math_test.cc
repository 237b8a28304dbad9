// Accuracy of the vectorizable f32 math (kernels/cpu/fast_math.h) against double libm, in
// ulps of the correctly rounded f32 result, over an evenly spaced sweep of float bit
// patterns (about 4M values) plus special values.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "gtest/gtest.h"
#include "kernels/cpu/fast_math.h"

namespace kiln::cpu {
namespace {

// |got - want| in units of the spacing of f32 numbers at want (subnormal spacing below
// the normal range).
double UlpError(float got, double want) {
  const float rounded = static_cast<float>(want);
  if (std::isinf(rounded)) return got == rounded ? 0.0 : 1e30;
  double spacing = std::ldexp(1.0, -149);
  if (std::fabs(want) >= std::ldexp(1.0, -126)) spacing = std::ldexp(1.0, std::ilogb(want) - 23);
  return std::fabs(static_cast<double>(got) - want) / spacing;
}

template <typename F, typename Ref>
double MaxUlpOverSweep(F f, Ref ref, float lo, float hi, float* worst) {
  double max_error = 0;
  for (uint64_t u = 0; u <= 0xFFFFFFFFull; u += 1021) {
    const uint32_t bits = static_cast<uint32_t>(u);
    float x;
    std::memcpy(&x, &bits, 4);
    if (!(x >= lo && x <= hi)) continue;
    const double e = UlpError(f(x), ref(static_cast<double>(x)));
    if (e > max_error) {
      max_error = e;
      *worst = x;
    }
  }
  return max_error;
}

TEST(FastMathTest, ExpWithinOneUlp) {
  float worst = 0;
  const double error = MaxUlpOverSweep([](float x) { return ExpF(x); },
                                       [](double x) { return std::exp(x); }, -110.0f, 100.0f,
                                       &worst);
  EXPECT_LE(error, 1.0) << "worst at x = " << worst;
}

TEST(FastMathTest, ExpSpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(ExpF(0.0f), 1.0f);
  EXPECT_EQ(ExpF(-0.0f), 1.0f);
  EXPECT_EQ(ExpF(inf), inf);
  EXPECT_EQ(ExpF(-inf), 0.0f);
  EXPECT_EQ(ExpF(88.8f), inf);  // e^88.8 > FLT_MAX
  EXPECT_EQ(ExpF(-104.0f), 0.0f);
  EXPECT_GT(ExpF(-100.0f), 0.0f);  // subnormal, not flushed
  EXPECT_TRUE(std::isnan(ExpF(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_FLOAT_EQ(ExpF(1.0f), 2.71828182845904523f);
}

TEST(FastMathTest, SigmoidWithinThreeUlp) {
  float worst = 0;
  const double error = MaxUlpOverSweep([](float x) { return SigmoidF(x); },
                                       [](double x) { return 1.0 / (1.0 + std::exp(-x)); },
                                       -110.0f, 110.0f, &worst);
  EXPECT_LE(error, 3.0) << "worst at x = " << worst;
  EXPECT_EQ(SigmoidF(std::numeric_limits<float>::infinity()), 1.0f);
  EXPECT_EQ(SigmoidF(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_TRUE(std::isnan(SigmoidF(std::numeric_limits<float>::quiet_NaN())));
}

TEST(FastMathTest, TanhWithinOneAndAHalfUlp) {
  float worst = 0;
  const double error = MaxUlpOverSweep([](float x) { return TanhF(x); },
                                       [](double x) { return std::tanh(x); }, -30.0f, 30.0f,
                                       &worst);
  EXPECT_LE(error, 1.5) << "worst at x = " << worst;
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(TanhF(inf), 1.0f);
  EXPECT_EQ(TanhF(-inf), -1.0f);
  EXPECT_TRUE(std::signbit(TanhF(-0.0f)));
  EXPECT_EQ(TanhF(-0.0f), 0.0f);
  EXPECT_EQ(TanhF(1e-30f), 1e-30f);
  EXPECT_TRUE(std::isnan(TanhF(std::numeric_limits<float>::quiet_NaN())));
}

TEST(FastMathTest, ErfcWithinTenUlp) {
  float worst = 0;
  const double error = MaxUlpOverSweep([](float x) { return ErfcF(x); },
                                       [](double x) { return std::erfc(x); }, -10.0f, 9.1f,
                                       &worst);
  EXPECT_LE(error, 10.0) << "worst at x = " << worst;
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(ErfcF(inf), 0.0f);
  EXPECT_EQ(ErfcF(10.0f), 0.0f);
  EXPECT_EQ(ErfcF(-inf), 2.0f);
  EXPECT_EQ(ErfcF(0.0f), 1.0f);
  EXPECT_TRUE(std::isnan(ErfcF(std::numeric_limits<float>::quiet_NaN())));
}

// The erf form of Gelu, x/2 erfc(-x/sqrt2), as the kernel computes it: the f32 argument's
// rounding dominates (erfc amplifies it by 2t^2), so it is no worse than with libm's erfc.
TEST(FastMathTest, GeluErfNoWorseThanLibm) {
  auto gelu = [](float x) { return 0.5f * x * ErfcF(x * -0.70710678118654752440f); };
  auto libm = [](float x) { return 0.5f * x * std::erfc(x * -0.70710678118654752440f); };
  auto exact = [](double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); };
  float worst = 0;
  const double error = MaxUlpOverSweep(gelu, exact, -6.0f, 6.0f, &worst);
  float libm_worst = 0;
  const double libm_error = MaxUlpOverSweep(libm, exact, -6.0f, 6.0f, &libm_worst);
  EXPECT_LE(error, libm_error + 4.0) << "worst at x = " << worst;
  EXPECT_LE(error, 64.0);
}

}  // namespace
}  // namespace kiln::cpu
