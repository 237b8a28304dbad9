// Run-time helpers shared by the portable CPU kernels: workgroup ranges, operand access and
// element loads/stores that convert f16/bf16 through f32. Nothing here allocates or checks.
#ifndef KILN_KERNELS_CPU_KERNEL_UTIL_H_
#define KILN_KERNELS_CPU_KERNEL_UTIL_H_

#include <cstdint>
#include <type_traits>

#include "base/half.h"
#include "kernels/abi/kernel_abi.h"

namespace kiln::cpu {

// Largest tensor rank the CPU kernels' fixed-size params hold.
inline constexpr int kMaxRank = 8;

// The half-open slice [begin, end) of `total` units that workgroup `id` of `count` owns.
// Slices are disjoint, cover [0, total) and differ in size by at most one unit. The product
// is formed in 128 bits so any workgroup count is safe.
struct WorkRange {
  int64_t begin;
  int64_t end;
};
inline WorkRange SplitWork(int64_t total, int64_t id, int64_t count) {
  using U = unsigned __int128;
  const U t = static_cast<U>(total);
  return {static_cast<int64_t>(t * static_cast<U>(id) / static_cast<U>(count)),
          static_cast<int64_t>(t * static_cast<U>(id + 1) / static_cast<U>(count))};
}

template <typename P>
inline const P& ParamsOf(const kiln_kernel_call* call) {
  return *static_cast<const P*>(call->params);
}
template <typename T>
inline const T* Operand(const kiln_kernel_call* call, int i) {
  return static_cast<const T*>(call->buffers[i]);
}
template <typename T>
inline T* MutableOperand(const kiln_kernel_call* call, int i) {
  return static_cast<T*>(call->buffers[i]);
}

// Element types by storage: f16 and bf16 compute in f32, f64 in f64, integers in their
// own type, bool (stored as one byte) as a normalized 0/1 uint8.
struct BoolByte {
  uint8_t v;
};

template <typename T>
struct Elem {
  using Compute = T;
  static Compute Load(T v) { return v; }
  static T Store(Compute v) { return v; }
};
template <>
struct Elem<Half> {
  using Compute = float;
  static float Load(Half v) { return HalfToFloat(v); }
  static Half Store(float v) { return FloatToHalf(v); }
};
template <>
struct Elem<BFloat16> {
  using Compute = float;
  static float Load(BFloat16 v) { return BFloat16ToFloat(v); }
  static BFloat16 Store(float v) { return FloatToBFloat16(v); }
};
template <>
struct Elem<BoolByte> {
  using Compute = uint8_t;
  static uint8_t Load(BoolByte v) { return v.v != 0 ? 1 : 0; }
  static BoolByte Store(uint8_t v) { return BoolByte{static_cast<uint8_t>(v != 0 ? 1 : 0)}; }
};

template <typename T>
using ComputeOf = typename Elem<T>::Compute;

template <typename T>
inline constexpr bool kIsFloatElem = std::is_floating_point_v<ComputeOf<T>>;

// Integer arithmetic that wraps modulo 2^bits (the registry's integer semantics): computed
// in the unsigned type of the same width, so no input is undefined behaviour.
template <typename T>
inline T WrapAdd(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
}
template <typename T>
inline T WrapSub(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
}
template <typename T>
inline T WrapMul(T a, T b) {
  using U = std::make_unsigned_t<T>;
  // uint8 promotes to int, where 255 * 255 cannot overflow; wider types stay unsigned.
  using P = std::conditional_t<(sizeof(U) < sizeof(unsigned)), unsigned, U>;
  return static_cast<T>(static_cast<U>(static_cast<P>(a) * static_cast<P>(b)));
}

// v clamped to [lo, hi] as max then min, so NaN stays NaN (the reference's clamp and
// ReLU): for scalars and for GCC vector types alike.
template <typename T>
inline T ClampKeepingNaN(T v, T lo, T hi) {
  v = lo > v ? lo : v;
  return hi < v ? hi : v;
}

inline int64_t RoundUp(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

}  // namespace kiln::cpu

#endif  // KILN_KERNELS_CPU_KERNEL_UTIL_H_
