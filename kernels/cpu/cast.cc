// Cast between any two dtypes with the registry's conversions: float -> float rounds to
// nearest (through double, then float for f16/bf16); float -> int truncates, saturates and
// maps NaN to 0; int -> int wraps; int -> float rounds via double (i64 may round twice);
// anything -> bool is x != 0; bool -> anything is 0 or 1.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/cpu_kernel_library.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/cpu/params.h"

namespace kiln::cpu {
namespace {

template <typename T>
constexpr bool kIsFloatStorage = std::is_floating_point_v<T> || std::is_same_v<T, Half> ||
                                 std::is_same_v<T, BFloat16>;

template <typename T>
T SaturatingCast(double v) {
  if (v != v) return 0;
  if (v <= static_cast<double>(std::numeric_limits<T>::min())) {
    return std::numeric_limits<T>::min();
  }
  if (v >= static_cast<double>(std::numeric_limits<T>::max())) {
    return std::numeric_limits<T>::max();
  }
  return static_cast<T>(v);
}

// A double rounded to the dtype D, as Tensor::SetFromDouble does.
template <typename D>
D FromDouble(double v) {
  if constexpr (std::is_same_v<D, float>) return static_cast<float>(v);
  else if constexpr (std::is_same_v<D, double>) return v;
  else if constexpr (std::is_same_v<D, Half>) return FloatToHalf(static_cast<float>(v));
  else if constexpr (std::is_same_v<D, BFloat16>) return FloatToBFloat16(static_cast<float>(v));
  else if constexpr (std::is_same_v<D, BoolByte>) return BoolByte{static_cast<uint8_t>(v != 0.0)};
  else return SaturatingCast<D>(v);
}

template <typename S, typename D>
D Convert(S s) {
  if constexpr (kIsFloatStorage<S>) {
    return FromDouble<D>(static_cast<double>(Elem<S>::Load(s)));
  } else {
    const int64_t v = static_cast<int64_t>(Elem<S>::Load(s));
    if constexpr (kIsFloatStorage<D>) return FromDouble<D>(static_cast<double>(v));
    else if constexpr (std::is_same_v<D, BoolByte>) return BoolByte{static_cast<uint8_t>(v != 0)};
    else return static_cast<D>(v);  // two's complement wrap (GCC and Clang define it)
  }
}

template <typename S, typename D>
int32_t CastKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  const CastParams& p = ParamsOf<CastParams>(call);
  const WorkRange range = SplitWork(p.total, workgroup, workgroups);
  const S* x = Operand<S>(call, 0);
  D* y = MutableOperand<D>(call, 1);
  for (int64_t i = range.begin; i < range.end; ++i) y[i] = Convert<S, D>(x[i]);
  return KILN_KERNEL_OK;
}

template <typename T>
int32_t CopyKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  const CastParams& p = ParamsOf<CastParams>(call);
  const WorkRange range = SplitWork(p.total, workgroup, workgroups);
  const T* x = Operand<T>(call, 0);
  T* y = MutableOperand<T>(call, 1);
  if (x != y && range.end > range.begin) {
    std::memcpy(y + range.begin, x + range.begin, (range.end - range.begin) * sizeof(T));
  }
  return KILN_KERNEL_OK;
}

template <typename S>
kiln_kernel_fn CastTo(DataType to) {
  switch (to) {
    case DataType::kF32: return &CastKernel<S, float>;
    case DataType::kF64: return &CastKernel<S, double>;
    case DataType::kF16: return &CastKernel<S, Half>;
    case DataType::kBF16: return &CastKernel<S, BFloat16>;
    case DataType::kI8: return &CastKernel<S, int8_t>;
    case DataType::kU8: return &CastKernel<S, uint8_t>;
    case DataType::kI32: return &CastKernel<S, int32_t>;
    case DataType::kI64: return &CastKernel<S, int64_t>;
    case DataType::kBool: return &CastKernel<S, BoolByte>;
    default: return nullptr;
  }
}

kiln_kernel_fn CastFn(DataType from, DataType to) {
  if (from == to && from != DataType::kBool) {
    // Bool is excluded: a cast normalizes any non-zero byte to 1.
    switch (DataTypeSize(from)) {
      case 1: return &CopyKernel<uint8_t>;
      case 2: return &CopyKernel<uint16_t>;
      case 4: return &CopyKernel<uint32_t>;
      case 8: return &CopyKernel<uint64_t>;
      default: return nullptr;
    }
  }
  switch (from) {
    case DataType::kF32: return CastTo<float>(to);
    case DataType::kF64: return CastTo<double>(to);
    case DataType::kF16: return CastTo<Half>(to);
    case DataType::kBF16: return CastTo<BFloat16>(to);
    case DataType::kI8: return CastTo<int8_t>(to);
    case DataType::kU8: return CastTo<uint8_t>(to);
    case DataType::kI32: return CastTo<int32_t>(to);
    case DataType::kI64: return CastTo<int64_t>(to);
    case DataType::kBool: return CastTo<BoolByte>(to);
    default: return nullptr;
  }
}

}  // namespace

// "cpu.cast.<from>.<to>": a copy between same-typed tensors (but bool, which a cast
// normalizes), a conversion otherwise.
void AddCastKernels(SymbolList& list) {
  for (DataType from : {DataType::kF32, DataType::kF16, DataType::kBF16, DataType::kF64,
                        DataType::kI8, DataType::kI32, DataType::kI64, DataType::kBool,
                        DataType::kU8}) {
    list.AddPerType<CastParams>(absl::StrCat("cast.", DataTypeName(from)),
                                [from](DataType to) { return CastFn(from, to); });
  }
}

}  // namespace kiln::cpu
