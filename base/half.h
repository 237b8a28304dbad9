// IEEE binary16 and bfloat16 storage types with round-to-nearest-even conversion from float.
// Reference kernels compute in float/double and store through these.
#ifndef KILN_BASE_HALF_H_
#define KILN_BASE_HALF_H_

#include <cstdint>
#include <cstring>

namespace kiln {

struct Half {
  uint16_t bits = 0;
};
struct BFloat16 {
  uint16_t bits = 0;
};

inline uint32_t FloatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float BitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float BFloat16ToFloat(BFloat16 h) { return BitsFloat(static_cast<uint32_t>(h.bits) << 16); }

inline BFloat16 FloatToBFloat16(float f) {
  uint32_t u = FloatBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return BFloat16{static_cast<uint16_t>((u >> 16) | 0x40)};
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
  return BFloat16{static_cast<uint16_t>(u >> 16)};
}

float HalfToFloat(Half h);
Half FloatToHalf(float f);

}  // namespace kiln

#endif  // KILN_BASE_HALF_H_
