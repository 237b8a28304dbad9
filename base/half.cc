#include "base/half.h"

namespace kiln {

float HalfToFloat(Half h) {
  uint32_t sign = static_cast<uint32_t>(h.bits & 0x8000u) << 16;
  uint32_t exp = (h.bits >> 10) & 0x1fu;
  uint32_t mant = h.bits & 0x3ffu;
  if (exp == 0x1f) return BitsFloat(sign | 0x7f800000u | (mant << 13));  // inf / nan
  if (exp == 0) {
    if (mant == 0) return BitsFloat(sign);
    // Subnormal: value = mant * 2^-24.
    float value = static_cast<float>(mant) * (1.0f / 16777216.0f);
    return sign ? -value : value;
  }
  return BitsFloat(sign | ((exp + 112u) << 23) | (mant << 13));
}

Half FloatToHalf(float f) {
  uint32_t u = FloatBits(f);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return Half{static_cast<uint16_t>(sign | 0x7e00u)};  // nan
  if (abs >= 0x477ff000u) return Half{static_cast<uint16_t>(sign | 0x7c00u)};  // overflow: inf
  if (abs < 0x38800000u) {
    // Result is subnormal or zero: scale into the subnormal grid and round to nearest even.
    float magnitude = BitsFloat(abs) * 16777216.0f;  // units of 2^-24
    uint32_t m = static_cast<uint32_t>(magnitude);
    float rest = magnitude - static_cast<float>(m);
    if (rest > 0.5f || (rest == 0.5f && (m & 1u))) ++m;
    return Half{static_cast<uint16_t>(sign | m)};
  }
  // Normal: rebias exponent, round mantissa from 23 to 10 bits to nearest even.
  uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  uint32_t bits = ((rounded >> 13) - (112u << 10));
  return Half{static_cast<uint16_t>(sign | bits)};
}

}  // namespace kiln
