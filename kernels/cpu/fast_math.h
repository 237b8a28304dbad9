// Vectorizable f32 math for the elementwise and Softmax kernels: branch-free code that
// GCC and Clang vectorize (kernels are built with -fno-trapping-math so float selects
// if-convert). Accuracy is pinned by tests/kernels/cpu/fast_math_test.cc.
#ifndef KILN_KERNELS_CPU_FAST_MATH_H_
#define KILN_KERNELS_CPU_FAST_MATH_H_

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace kiln::cpu {

// The polynomials' coefficients, highest degree first: shared with the generated kernels
// (kernels/codegen/scalar_ops.cc), which emit the same algorithms as MLIR.
inline constexpr float kExpPolynomial[] = {1.9875691500e-4f, 1.3981999507e-3f,
                                           8.3334519073e-3f, 4.1665795894e-2f,
                                           1.6666665459e-1f, 5.0000001201e-1f};
inline constexpr float kTanhOdd[] = {-5.70498872745e-3f, 2.06390887954e-2f, -5.37397155531e-2f,
                                     1.33314422036e-1f, -3.33332819422e-1f};
inline constexpr float kErfNear[] = {7.853861353153693e-5f,  -8.010193625184903e-4f,
                                     5.188327685732524e-3f,  -2.685381193529856e-2f,
                                     1.128358514861418e-1f,  -3.761262582423300e-1f,
                                     1.128379165726710e+0f};
inline constexpr float kErfcTo2[] = {2.326819970068386e-2f, -1.387039388740657e-1f,
                                     3.687424674597105e-1f, -5.824733027278666e-1f,
                                     6.210004621745983e-1f, -4.944515323274145e-1f,
                                     3.404879937665872e-1f, -2.741127028184656e-1f,
                                     5.638259427386472e-1f};
inline constexpr float kErfcBeyond[] = {-1.047766399936249e+1f, 1.297719955372516e+1f,
                                        -7.495518717768503e+0f, 2.921019019210786e+0f,
                                        -1.015265279202700e+0f, 4.218463358204948e-1f,
                                        -2.820767439740514e-1f, 5.641895067754075e-1f};

// c[0] x^(N-1) + ... + c[N-1] by Horner's rule, in that order of operations.
template <int N>
inline float Horner(float x, const float (&c)[N]) {
  float p = c[0];
#pragma GCC unroll 16
  for (int i = 1; i < N; ++i) p = p * x + c[i];
  return p;
}

// e^x for f32, within 1 ulp everywhere (0.98 ulp measured over every float in
// [-104, 89], subnormal results included); exp(-inf) = 0, exp(inf) = inf, NaN -> NaN.
// Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, Cephes' degree-6 polynomial for
// e^r, and 2^n applied as two halves so that neither overflows nor goes subnormal
// before the final product (whose single rounding gives correct gradual underflow).
inline float ExpF(float x) {
  const float in = x;
  // Clamp (a NaN clamps to -104 here and is restored at the end): e^-104 rounds to 0 and
  // e^89 to inf, and n stays within [-150, 129].
  x = x > -104.0f ? x : -104.0f;
  x = x < 89.0f ? x : 89.0f;
  // Adding 1.5 * 2^23 rounds x / ln2 to an integer n, left in the low mantissa bits.
  constexpr float kMagic = 12582912.0f;
  const float t = x * 1.44269504088896341f + kMagic;
  const float n = t - kMagic;
  const int32_t ni = __builtin_bit_cast(int32_t, t) - 0x4B400000;
  // ln2 split so that n * 0.693359375 is exact.
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const float z = r * r;
  float p = Horner(r, kExpPolynomial);
  p = p * z + r + 1.0f;
  const int32_t n1 = ni >> 1;
  const int32_t n2 = ni - n1;
  const float s1 = __builtin_bit_cast(float, (n1 + 127) << 23);
  const float s2 = __builtin_bit_cast(float, (n2 + 127) << 23);
  const float result = p * s1 * s2;
  return in == in ? result : in;
}

// 1 / (1 + e^-x) from e^-|x| (never overflows), within 3 ulp.
inline float SigmoidF(float x) {
  const float e = ExpF(x < 0.0f ? x : -x);
  const float r = 1.0f / (1.0f + e);
  return x >= 0.0f ? r : e * r;
}

// tanh(x) for f32, within 1.5 ulp (measured over a sweep of every 97th float in [-20, 20]);
// tanh(+-inf) = +-1, tanh(-0) = -0, NaN -> NaN. For |x| >= 0.625, (1 - e) / (1 + e) with
// e = e^(-2|x|) <= 0.29, so nothing cancels and nothing overflows; below, Cephes' odd
// polynomial |x| + |x|^3 P(x^2). The sign is applied last.
inline float TanhF(float x) {
  const float a = std::fabs(x);
  const float e = ExpF(-2.0f * a);
  const float large = (1.0f - e) / (1.0f + e);
  const float z = a * a;
  const float small = a + a * z * Horner(z, kTanhOdd);
  return std::copysign(a < 0.625f ? small : large, x);
}

// erfc(x) for f32, within 10 ulp (measured over a sweep of every 97th float in
// [-10, 9.1]; the worst is near |x| = 1, where 1 - erf(x) cancels about two bits);
// erfc(+inf) = 0 (so is every x >= 10), erfc(-inf) = 2, NaN -> NaN. Cephes' single-precision
// fits: below |x| = 1, 1 - x T(x^2); above, e^(-x^2) P(1/x^2) / |x| on [1, 2) and
// e^(-x^2) R(1/x^2) / |x| beyond, with x^2 formed exactly as hi + lo (Dekker's product,
// no FMA needed) so e^(-x^2) keeps its accuracy for large x; erfc(-x) = 2 - erfc(x).
inline float ErfcF(float x) {
  const float a = std::fabs(x);
  const float z = a * a;
  const float near = 1.0f - a * Horner(z, kErfNear);
  // The far path on min(|x|, 10), so infinities make no NaN; its result is replaced by 0
  // from 10 on (erfc(10) is below the smallest float).
  const float b = a < 10.0f ? a : 10.0f;
  const float hi = b * b;
  const float split = b * 4097.0f;  // Veltkamp: b = bh + bl with 12-bit halves
  const float bh = split - (split - b);
  const float bl = b - bh;
  const float lo = ((bh * bh - hi) + 2.0f * bh * bl) + bl * bl;
  const float e = ExpF(-hi) * (1.0f - lo);
  const float q = 1.0f / b;
  const float y = q * q;
  const float p = Horner(y, kErfcTo2);
  const float r = Horner(y, kErfcBeyond);
  const float far = a < 10.0f ? e * q * (a < 2.0f ? p : r) : 0.0f;
  const float positive = a < 1.0f ? near : far;
  const float result = x < 0.0f ? 2.0f - positive : positive;
  return x == x ? result : x;
}

// e^v in the compute type: ExpF for f32 (and f16/bf16, computed in f32), libm for f64.
template <typename C>
inline C Exp(C v) {
  if constexpr (std::is_same_v<C, float>) return ExpF(v);
  else return std::exp(v);
}

// max(a, b) where a NaN in b replaces a and a NaN in a stays: NaN propagates through a
// running maximum, as the reference's `if (v > max || isnan(v)) max = v` does.
template <typename C>
inline C MaxNaN(C a, C b) {
  return (b > a || b != b) ? b : a;
}

}  // namespace kiln::cpu

#endif  // KILN_KERNELS_CPU_FAST_MATH_H_
