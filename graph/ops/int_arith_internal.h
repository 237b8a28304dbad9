// Integer arithmetic shared by the math ops' reference kernels: integer dtypes wrap modulo
// 2^bits (two's complement). Results are computed modulo 2^64 through uint64 and narrowed
// by Tensor::SetFromInt64, so no input can cause signed overflow (undefined behaviour).
#ifndef KILN_GRAPH_OPS_INT_ARITH_INTERNAL_H_
#define KILN_GRAPH_OPS_INT_ARITH_INTERNAL_H_

#include <cstdint>
#include <limits>

namespace kiln {

// The int64 whose two's complement bits are `u`; spelled out because the plain cast is
// implementation-defined before C++20.
inline int64_t FromBits(uint64_t u) {
  if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(u);
  }
  return -static_cast<int64_t>(~u) - 1;
}
inline uint64_t Bits(int64_t v) { return static_cast<uint64_t>(v); }

inline int64_t WrapAdd(int64_t a, int64_t b) { return FromBits(Bits(a) + Bits(b)); }
inline int64_t WrapSub(int64_t a, int64_t b) { return FromBits(Bits(a) - Bits(b)); }
inline int64_t WrapMul(int64_t a, int64_t b) { return FromBits(Bits(a) * Bits(b)); }

}  // namespace kiln

#endif  // KILN_GRAPH_OPS_INT_ARITH_INTERNAL_H_
