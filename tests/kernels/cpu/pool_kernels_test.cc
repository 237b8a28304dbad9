// MaxPool, AvgPool and GlobalAvgPool kernels against the reference, NCHW and NHWC, with
// strides, asymmetric pads, count_include_pad, more than one channel block, every float
// dtype and NaN. Tolerance: maxima are exact; means sum in double in the reference's order
// and divide once, so they are exact too, except GlobalAvgPool's 8-lane sum: 1 ulp plus
// count * 2^-52 * sum |x|.
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

struct PoolCase {
  int64_t n, c, h, w;
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> pads;
};

const std::vector<PoolCase> kCases = {
    {1, 3, 7, 7, {3, 3}, {1, 1}, {1, 1, 1, 1}},
    {2, 4, 9, 8, {3, 2}, {2, 2}, {0, 1, 1, 0}},
    {1, 2, 5, 5, {5, 5}, {1, 1}, {2, 2, 2, 2}},
    {1, 130, 6, 6, {2, 2}, {2, 2}, {0, 0, 0, 0}},  // two NHWC channel blocks
    {2, 1, 1, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}},
    {0, 3, 4, 4, {2, 2}, {1, 1}, {0, 0, 0, 0}},
    {1, 8, 56, 56, {3, 3}, {2, 2}, {1, 1, 1, 1}},
};

TEST(PoolKernelsTest, MaxAndAvgMatchReference) {
  uint64_t seed = 1;
  for (DataType dtype : kFloats) {
    for (bool nhwc : {false, true}) {
      for (const PoolCase& pc : kCases) {
        const Shape x = nhwc ? Shape{pc.n, pc.h, pc.w, pc.c} : Shape{pc.n, pc.c, pc.h, pc.w};
        AttrMap attrs = {{"kernel", pc.kernel},
                         {"strides", pc.strides},
                         {"pads", pc.pads},
                         {"data_format", std::string(nhwc ? "NHWC" : "NCHW")}};
        CheckKernel(KernelCase{"MaxPool", {Random(dtype, x, seed++, -5, 5)}, attrs}, Tolerance{});
        for (bool include_pad : {false, true}) {
          AttrMap avg = attrs;
          avg["count_include_pad"] = include_pad;
          CheckKernel(KernelCase{"AvgPool", {Random(dtype, x, seed++, -5, 5)}, avg}, Tolerance{});
        }
        CheckKernel(KernelCase{"GlobalAvgPool", {Random(dtype, x, seed++, -5, 5)},
                               {{"data_format", std::string(nhwc ? "NHWC" : "NCHW")}}},
                    Tolerance{Ulp(dtype), dtype == DataType::kF16 ? std::ldexp(1.0, -24) : 0.0,
                              4096 * std::ldexp(1.0, -52)});
      }
    }
    Tensor x = Random(dtype, Shape{1, 2, 6, 6}, seed++);
    x.SetFromDouble(14, std::numeric_limits<double>::quiet_NaN());
    CheckKernel(KernelCase{"MaxPool", {x}, {{"kernel", std::vector<int64_t>{3, 3}}}}, Tolerance{});
  }
}

TEST(PoolKernelsTest, NhwcMaxKeepsNanAndInfinities) {
  // 37 channels: two passes of the f32 kernel's 16-channel vectors and 5 channels after.
  // A NaN first in its window, one last, one in a vector lane and one in the scalar tail,
  // and infinities of both signs, which must win or lose as numbers.
  for (DataType dtype : kFloats) {
    Tensor x = Random(dtype, Shape{1, 5, 6, 37}, 70, -5, 5);
    const auto at = [](int64_t h, int64_t w, int64_t c) { return (h * 6 + w) * 37 + c; };
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    x.SetFromDouble(at(0, 0, 3), nan);
    x.SetFromDouble(at(4, 5, 20), nan);
    x.SetFromDouble(at(2, 3, 17), nan);
    x.SetFromDouble(at(1, 1, 35), nan);
    x.SetFromDouble(at(2, 2, 9), inf);
    x.SetFromDouble(at(3, 1, 30), -inf);
    for (const std::vector<int64_t>& strides : {std::vector<int64_t>{1, 1}, {2, 2}}) {
      CheckKernel(KernelCase{"MaxPool",
                             {x},
                             {{"kernel", std::vector<int64_t>{3, 3}},
                              {"strides", strides},
                              {"pads", std::vector<int64_t>{1, 1, 1, 1}},
                              {"data_format", std::string("NHWC")}}},
                  Tolerance{});
    }
  }
}

}  // namespace
}  // namespace kiln::testing
