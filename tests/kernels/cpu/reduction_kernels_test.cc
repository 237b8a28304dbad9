// ReduceSum/Mean/Max kernels against the reference: every numeric dtype, every axis
// pattern of small ranks (inner run reduced or kept), keepdims, empty reductions, NaN.
//
// Tolerance: sums accumulate in double in another order than the reference, so the
// difference is at most count * 2^-52 * sum |x| before the final rounding to the dtype:
// 1 ulp of the dtype plus that bound (f64: 2 ulp plus the bound). Integer results and
// maxima are exact.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/kernels/cpu/kernel_harness.h"

namespace kiln::testing {
namespace {

const std::vector<DataType> kNumeric = {DataType::kF32, DataType::kF64, DataType::kF16,
                                        DataType::kBF16, DataType::kI8, DataType::kU8,
                                        DataType::kI32, DataType::kI64};

// Every subset of the dims of these shapes (the empty set means all).
const std::vector<Shape> kShapes = {Shape{}, Shape{5}, Shape{3, 4}, Shape{2, 3, 5},
                                    Shape{2, 1, 3, 4}, Shape{300, 7}, Shape{3, 400},
                                    Shape{0, 3}, Shape{3, 0, 2}};

TEST(ReductionKernelsTest, EveryAxisSubset) {
  uint64_t seed = 1;
  for (const std::string op : {"ReduceSum", "ReduceMean", "ReduceMax"}) {
    for (DataType dtype : kNumeric) {
      for (const Shape& shape : kShapes) {
        const int rank = shape.rank();
        for (int mask = 0; mask < (1 << rank); ++mask) {
          std::vector<int64_t> axes;
          bool empty_reduction = false;
          for (int d = 0; d < rank; ++d) {
            if (mask & (1 << d)) {
              axes.push_back(d % 2 == 0 ? d : d - rank);  // mix positive and negative axes
              empty_reduction |= shape.dim(d) == 0;
            }
          }
          if (mask == 0) empty_reduction = shape.NumElements() == 0;
          if (op == "ReduceMax" && empty_reduction) continue;  // an error at inference
          for (bool keepdims : {false, true}) {
            const bool integer = !IsFloating(dtype);
            KernelCase c{op,
                         {Random(dtype, shape, seed++, integer ? -1e19 : -4, integer ? 1e19 : 4)},
                         {{"axes", axes}, {"keepdims", keepdims}}};
            const double count = static_cast<double>(std::max<int64_t>(1, shape.NumElements()));
            Tolerance tol;
            if (IsFloating(dtype)) {
              tol = {Ulp(dtype) * (dtype == DataType::kF64 ? 2 : 1), 0.0,
                     count * std::ldexp(1.0, -52)};
              if (dtype == DataType::kF16) tol.atol = std::ldexp(1.0, -24);
            }
            CheckKernel(c, tol);
          }
        }
      }
    }
  }
}

TEST(ReductionKernelsTest, NaNPropagatesThroughMax) {
  for (DataType dtype : {DataType::kF32, DataType::kF64, DataType::kF16}) {
    Tensor x = Random(dtype, Shape{6, 40}, 9);
    x.SetFromDouble(3 * 40 + 17, std::numeric_limits<double>::quiet_NaN());
    for (int64_t axis : {0, 1}) {
      CheckKernel(KernelCase{"ReduceMax", {x}, {{"axes", std::vector<int64_t>{axis}}}}, Tolerance{});
      CheckKernel(KernelCase{"ReduceSum", {x}, {{"axes", std::vector<int64_t>{axis}}}},
                  Tolerance{Ulp(dtype), 0, 300 * std::ldexp(1.0, -52)});
    }
  }
}

}  // namespace
}  // namespace kiln::testing
