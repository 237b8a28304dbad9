// Softmax, LayerNorm, BatchNorm and BiasAdd kernels against the reference, on every float
// dtype, contiguous and strided axes, size-0 and size-1 dims, and special values.
//
// Tolerances. Softmax (f32): exp of x - max, where x - max is rounded once (relative error
// u |x - max|, amplified into exp's result), then scaled by a rounded 1/sum: at most
// (|x - max| + 4) ulp; with inputs in [-8, 8], 24 ulp. LayerNorm/BatchNorm: mean and
// variance in double, the affine map in f32: 4 ulp of each term plus 4 ulp of
// |x - mean| * inv_std * |gamma| (absolute, for outputs that cancel to near zero), bounded
// here by 1e-6 for O(1) data. BiasAdd: exact. f16/bf16: 1 ulp (computed in f32, rounded
// once) plus the f32 terms; f64: 8 ulp.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/kernels/cpu/kernel_harness.h"

namespace kiln::testing {
namespace {

const std::vector<DataType> kFloats = {DataType::kF32, DataType::kF64, DataType::kF16,
                                       DataType::kBF16};
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

Tolerance Approx(DataType dtype, double ulps32, double atol32) {
  switch (dtype) {
    case DataType::kF64: return {8 * Ulp(dtype), atol32 * 1e-9};
    case DataType::kF32: return {ulps32 * Ulp(dtype), atol32};
    default: return {Ulp(dtype) + ulps32 * Ulp(DataType::kF32), atol32 + std::ldexp(1.0, -24)};
  }
}

struct AxisCase {
  Shape shape;
  int64_t axis;
};

const std::vector<AxisCase> kAxisCases = {
    {Shape{7}, 0},          {Shape{3, 5}, -1},      {Shape{3, 5}, 0},
    {Shape{2, 3, 70}, 1},   {Shape{2, 130, 3}, 1},  {Shape{4, 1}, -1},
    {Shape{1, 9}, 0},       {Shape{0, 4}, 1},       {Shape{4, 0}, 0},
    {Shape{64, 1000}, -1},  {Shape{3, 200, 100}, 1}, {Shape{2, 3, 4, 5}, 2},
};

TEST(SoftmaxKernelsTest, MatchesReference) {
  uint64_t seed = 1;
  for (DataType dtype : kFloats) {
    for (const AxisCase& a : kAxisCases) {
      KernelCase c{"Softmax", {Random(dtype, a.shape, seed++, -8, 8)}, {{"axis", a.axis}}};
      CheckKernel(c, Approx(dtype, 24, 0));
    }
    // -inf entries, NaN rows, rows of equal values.
    KernelCase c{"Softmax",
                 {FromSet(dtype, Shape{40, 6}, seed++, {0.0, 1.0, -kInf, 2.0, 2.0, 3.0})}};
    CheckKernel(c, Approx(dtype, 24, 0));
    Tensor with_nan = Random(dtype, Shape{5, 9}, seed++);
    with_nan.SetFromDouble(12, kNaN);
    CheckKernel(KernelCase{"Softmax", {with_nan}}, Approx(dtype, 24, 0));
    // Rows longer than the vectorized kernels' 16 lanes, with a NaN inside the lanes of
    // row 1 and +inf in the tail of row 2.
    Tensor long_rows = Random(dtype, Shape{3, 37}, seed++, -8, 8);
    long_rows.SetFromDouble(37 + 5, kNaN);
    long_rows.SetFromDouble(2 * 37 + 35, kInf);
    CheckKernel(KernelCase{"Softmax", {long_rows}}, Approx(dtype, 24, 0));
  }
}

TEST(LayerNormKernelsTest, MatchesReference) {
  uint64_t seed = 100;
  const std::vector<AxisCase> cases = {
      {Shape{7}, 0},        {Shape{3, 5}, -1},    {Shape{3, 5}, 0},      {Shape{2, 3, 4}, 1},
      {Shape{8, 768}, -1},  {Shape{4, 1}, 1},     {Shape{0, 6}, 1},      {Shape{16, 33, 3}, 1},
  };
  for (DataType dtype : kFloats) {
    for (const AxisCase& a : cases) {
      const int axis = static_cast<int>(a.axis < 0 ? a.axis + a.shape.rank() : a.axis);
      const Shape params(std::vector<int64_t>(a.shape.dims().begin() + axis, a.shape.dims().end()));
      KernelCase c{"LayerNorm",
                   {Random(dtype, a.shape, seed++, -3, 5), Random(dtype, params, seed++, 0.5, 2),
                    Random(dtype, params, seed++, -1, 1)},
                   {{"axis", a.axis}, {"epsilon", 1e-5}}};
      CheckKernel(c, Approx(dtype, 4, 1e-6));
    }
  }
}

TEST(BatchNormAndBiasAddKernelsTest, MatchReference) {
  uint64_t seed = 200;
  const std::vector<AxisCase> cases = {
      {Shape{2, 3, 4, 5}, 1},   {Shape{2, 4, 5, 3}, 3},  {Shape{2, 5, 9, 9}, 1},
      {Shape{1, 700, 3}, 1},    {Shape{3, 300}, 1},      {Shape{5}, 0},
      {Shape{0, 3, 2}, 1},      {Shape{2, 1, 70}, 1},    {Shape{4, 6, 100}, -2},
  };
  for (DataType dtype : kFloats) {
    for (const AxisCase& a : cases) {
      const int axis = static_cast<int>(a.axis < 0 ? a.axis + a.shape.rank() : a.axis);
      const Shape ch{a.shape.dim(axis)};
      KernelCase bn{"BatchNorm",
                    {Random(dtype, a.shape, seed++, -3, 3), Random(dtype, ch, seed++, 0.5, 2),
                     Random(dtype, ch, seed++, -1, 1), Random(dtype, ch, seed++, -1, 1),
                     Random(dtype, ch, seed++, 0.1, 3)},
                    {{"axis", a.axis}, {"epsilon", 1e-3}}};
      CheckKernel(bn, Approx(dtype, 4, 1e-6));
      KernelCase bias{"BiasAdd",
                      {Random(dtype, a.shape, seed++, -3, 3), Random(dtype, ch, seed++, -1, 1)},
                      {{"axis", a.axis}}};
      CheckKernel(bias, Tolerance{});
    }
  }
}

}  // namespace
}  // namespace kiln::testing
