// Vectorizable f32 row reductions shared by the Softmax, LayerNorm and attention kernels:
// each reduction keeps kRowLanes independent partial results, so every pass is a loop the
// compiler vectorizes (a single running max or sum is a serial dependency it may not
// reorder). Values stay f32; sums are double. Inline and always_inline, so each kernel's
// target attributes (AVX2 builds) apply to them.
#ifndef KILN_KERNELS_CPU_ROW_MATH_H_
#define KILN_KERNELS_CPU_ROW_MATH_H_

#include <cstdint>
#include <limits>

#include "kernels/cpu/fast_math.h"

namespace kiln::cpu {

inline constexpr int kRowLanes = 16;

// max over x[0, n), NaN when any value is NaN (as MaxNaN's running maximum gives), in
// GCC vector types: written as a scalar loop, the NaN test made GCC branch per element.
__attribute__((always_inline)) inline float RowMaxF32(const float* x, int64_t n) {
  typedef float Lanes __attribute__((vector_size(kRowLanes * sizeof(float))));
  typedef int32_t Mask __attribute__((vector_size(kRowLanes * sizeof(float))));
  constexpr float kLowest = -std::numeric_limits<float>::infinity();
  Lanes max;
  for (int l = 0; l < kRowLanes; ++l) max[l] = kLowest;
  Mask nan = {};
  int64_t j = 0;
  for (; j + kRowLanes <= n; j += kRowLanes) {
    Lanes v;
    __builtin_memcpy(&v, x + j, sizeof(v));
    max = v > max ? v : max;
    nan |= v != v;
  }
  float result = kLowest;
  bool any_nan = false;
  for (int l = 0; l < kRowLanes; ++l) {
    result = max[l] > result ? max[l] : result;
    any_nan |= nan[l] != 0;
  }
  for (; j < n; ++j) {
    result = x[j] > result ? x[j] : result;
    any_nan |= x[j] != x[j];
  }
  return any_nan ? std::numeric_limits<float>::quiet_NaN() : result;
}

// sum over (x[j] - center)^kPower for j in [0, n), in double (kPower 1 or 2).
template <int kPower>
__attribute__((always_inline)) inline double RowSumF32(const float* x, int64_t n, double center) {
  double lanes[kRowLanes] = {};
  auto term = [center](float v) {
    const double d = static_cast<double>(v) - center;
    return kPower == 1 ? d : d * d;
  };
  int64_t j = 0;
  for (; j + kRowLanes <= n; j += kRowLanes) {
    for (int l = 0; l < kRowLanes; ++l) lanes[l] += term(x[j + l]);
  }
  double sum = 0;
  for (double lane : lanes) sum += lane;
  for (; j < n; ++j) sum += term(x[j]);
  return sum;
}

// y = softmax(x) over one row of n values (y may be x): exp(x - max) stored, summed in
// double, then scaled by 1 / sum. A row of NaN or of -inf only gives NaN, as the
// reference does.
__attribute__((always_inline)) inline void SoftmaxRowF32(const float* x, float* y, int64_t n) {
  const float max = RowMaxF32(x, n);
  for (int64_t j = 0; j < n; ++j) y[j] = ExpF(x[j] - max);
  const float scale = static_cast<float>(1.0 / RowSumF32<1>(y, n, 0.0));
  for (int64_t j = 0; j < n; ++j) y[j] *= scale;
}

}  // namespace kiln::cpu

#endif  // KILN_KERNELS_CPU_ROW_MATH_H_
