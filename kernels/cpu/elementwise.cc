// Elementwise kernels: binary arithmetic and comparisons with NumPy broadcasting, Where,
// and unary math. Broadcast layouts are collapsed at prepare time; the run walks the
// output's rows with an odometer and calls an inner loop specialized for the four
// innermost stride patterns (both contiguous, either one a scalar, both scalars).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/cpu_kernel_library.h"
#include "kernels/cpu/fast_math.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/cpu/params.h"

namespace kiln::cpu {
namespace {

// ---------------------------------------------------------------------------------------
// Operations on compute values. `bad` collects domain errors of integer Div and Pow (the
// loop stays branch-free; the kernel reports the error after the loop).

struct AddOp {
  static constexpr int32_t kError = KILN_KERNEL_OK;
  template <typename C>
  static C Apply(C a, C b, uint8_t&) {
    if constexpr (std::is_integral_v<C>) return WrapAdd(a, b);
    else return a + b;
  }
};
struct SubOp {
  static constexpr int32_t kError = KILN_KERNEL_OK;
  template <typename C>
  static C Apply(C a, C b, uint8_t&) {
    if constexpr (std::is_integral_v<C>) return WrapSub(a, b);
    else return a - b;
  }
};
struct MulOp {
  static constexpr int32_t kError = KILN_KERNEL_OK;
  template <typename C>
  static C Apply(C a, C b, uint8_t&) {
    if constexpr (std::is_integral_v<C>) return WrapMul(a, b);
    else return a * b;
  }
};
// Integers truncate toward zero; MIN / -1 wraps to MIN; a zero divisor is an error.
struct DivOp {
  static constexpr int32_t kError = KILN_KERNEL_DIVISION_BY_ZERO;
  template <typename C>
  static C Apply(C a, C b, uint8_t& bad) {
    if constexpr (std::is_integral_v<C>) {
      if (b == 0) {
        bad = 1;
        return 0;
      }
      if constexpr (std::is_signed_v<C>) {
        if (b == -1) return WrapSub(C{0}, a);
      }
      return static_cast<C>(a / b);
    } else {
      return a / b;
    }
  }
};
// Integers: exponentiation by squaring modulo 2^64, narrowed (0^0 = 1); a negative
// exponent is an error.
struct PowOp {
  static constexpr int32_t kError = KILN_KERNEL_NEGATIVE_EXPONENT;
  template <typename C>
  static C Apply(C a, C b, uint8_t& bad) {
    if constexpr (std::is_integral_v<C>) {
      if constexpr (std::is_signed_v<C>) {
        if (b < 0) {
          bad = 1;
          return 0;
        }
      }
      uint64_t result = 1;
      uint64_t base = static_cast<uint64_t>(static_cast<int64_t>(a));
      for (uint64_t e = static_cast<uint64_t>(b); e != 0; e >>= 1) {
        if (e & 1) result *= base;
        base *= base;
      }
      return static_cast<C>(result);
    } else {
      return std::pow(a, b);
    }
  }
};
// NaN in either operand gives NaN; otherwise the reference's a > b ? a : b.
struct MaximumOp {
  static constexpr int32_t kError = KILN_KERNEL_OK;
  template <typename C>
  static C Apply(C a, C b, uint8_t&) {
    if constexpr (std::is_integral_v<C>) {
      return a > b ? a : b;
    } else {
      C r = a > b ? a : b;
      r = b != b ? b : r;
      return a != a ? a : r;
    }
  }
};
struct MinimumOp {
  static constexpr int32_t kError = KILN_KERNEL_OK;
  template <typename C>
  static C Apply(C a, C b, uint8_t&) {
    if constexpr (std::is_integral_v<C>) {
      return a < b ? a : b;
    } else {
      C r = a < b ? a : b;
      r = b != b ? b : r;
      return a != a ? a : r;
    }
  }
};

// Comparisons give 0/1 bytes; IEEE semantics for floats (NaN unequal to everything).
#define KILN_COMPARE_OP(Name, expr)                   \
  struct Name {                                       \
    static constexpr int32_t kError = KILN_KERNEL_OK; \
    template <typename C>                             \
    static uint8_t Apply(C a, C b, uint8_t&) {        \
      return (expr) ? 1 : 0;                          \
    }                                                 \
  };
KILN_COMPARE_OP(EqualOp, a == b)
KILN_COMPARE_OP(NotEqualOp, a != b)
KILN_COMPARE_OP(LessOp, a < b)
KILN_COMPARE_OP(LessEqualOp, a <= b)
KILN_COMPARE_OP(GreaterOp, a > b)
KILN_COMPARE_OP(GreaterEqualOp, a >= b)
#undef KILN_COMPARE_OP

// ---------------------------------------------------------------------------------------
// Broadcast binary kernel.

template <typename Op, typename TIn, typename TOut, bool kXStep, bool kYStep>
uint8_t BinaryRow(const TIn* x, const TIn* y, TOut* out, int64_t n) {
  uint8_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const auto a = Elem<TIn>::Load(x[kXStep ? i : 0]);
    const auto b = Elem<TIn>::Load(y[kYStep ? i : 0]);
    out[i] = Elem<TOut>::Store(Op::Apply(a, b, bad));
  }
  return bad;
}

template <typename Op, typename TIn, typename TOut>
int32_t BinaryKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  const BinaryParams& p = ParamsOf<BinaryParams>(call);
  const WorkRange range = SplitWork(p.total, workgroup, workgroups);
  if (range.begin >= range.end) return KILN_KERNEL_OK;
  const TIn* x = Operand<TIn>(call, 0);
  const TIn* y = Operand<TIn>(call, 1);
  TOut* out = MutableOperand<TOut>(call, 2);

  const int last = p.rank - 1;
  const int64_t inner = p.dims[last];
  const int64_t xs = p.x_strides[last];  // 0 or 1 after collapsing
  const int64_t ys = p.y_strides[last];
  // Odometer over the outer dimensions, started at range.begin.
  int64_t coord[kMaxRank] = {};
  int64_t row = range.begin / inner;
  int64_t col = range.begin % inner;
  int64_t x_row = 0;
  int64_t y_row = 0;
  for (int d = last - 1; d >= 0; --d) {
    coord[d] = row % p.dims[d];
    row /= p.dims[d];
    x_row += coord[d] * p.x_strides[d];
    y_row += coord[d] * p.y_strides[d];
  }
  uint8_t bad = 0;
  int64_t pos = range.begin;
  while (true) {
    const int64_t n = std::min(inner - col, range.end - pos);
    const TIn* xp = x + x_row + col * xs;
    const TIn* yp = y + y_row + col * ys;
    if (xs != 0 && ys != 0) {
      bad |= BinaryRow<Op, TIn, TOut, true, true>(xp, yp, out + pos, n);
    } else if (xs != 0) {
      bad |= BinaryRow<Op, TIn, TOut, true, false>(xp, yp, out + pos, n);
    } else if (ys != 0) {
      bad |= BinaryRow<Op, TIn, TOut, false, true>(xp, yp, out + pos, n);
    } else {
      bad |= BinaryRow<Op, TIn, TOut, false, false>(xp, yp, out + pos, n);
    }
    pos += n;
    if (pos >= range.end) break;
    col = 0;
    for (int d = last - 1; d >= 0; --d) {
      x_row += p.x_strides[d];
      y_row += p.y_strides[d];
      if (++coord[d] < p.dims[d]) break;
      x_row -= p.dims[d] * p.x_strides[d];
      y_row -= p.dims[d] * p.y_strides[d];
      coord[d] = 0;
    }
  }
  return bad ? Op::kError : KILN_KERNEL_OK;
}

// The kernel for `Op` on dtype `dtype` (arithmetic: output of the same type; comparisons:
// bool output), or null when the dtype has none.
template <typename Op, bool kCompare>
kiln_kernel_fn BinaryFn(DataType dtype) {
  auto pick = [](auto tag) -> kiln_kernel_fn {
    using T = typename decltype(tag)::type;
    if constexpr (kCompare) {
      return &BinaryKernel<Op, T, uint8_t>;
    } else {
      return &BinaryKernel<Op, T, T>;
    }
  };
  switch (dtype) {
    case DataType::kF32: return pick(std::common_type<float>());
    case DataType::kF64: return pick(std::common_type<double>());
    case DataType::kF16: return pick(std::common_type<Half>());
    case DataType::kBF16: return pick(std::common_type<BFloat16>());
    case DataType::kI8: return pick(std::common_type<int8_t>());
    case DataType::kU8: return pick(std::common_type<uint8_t>());
    case DataType::kI32: return pick(std::common_type<int32_t>());
    case DataType::kI64: return pick(std::common_type<int64_t>());
    case DataType::kBool:
      if constexpr (kCompare) return pick(std::common_type<BoolByte>());
      return nullptr;
    default: return nullptr;
  }
}

// ---------------------------------------------------------------------------------------
// Where: selects element bytes, so one kernel per element size serves every dtype.

template <typename T>
int32_t WhereKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  const WhereParams& p = ParamsOf<WhereParams>(call);
  const WorkRange range = SplitWork(p.total, workgroup, workgroups);
  if (range.begin >= range.end) return KILN_KERNEL_OK;
  const uint8_t* c = Operand<uint8_t>(call, 0);
  const T* x = Operand<T>(call, 1);
  const T* y = Operand<T>(call, 2);
  T* out = MutableOperand<T>(call, 3);
  const int last = p.rank - 1;
  const int64_t inner = p.dims[last];
  const int64_t cs = p.strides[0][last];
  const int64_t xs = p.strides[1][last];
  const int64_t ys = p.strides[2][last];
  int64_t coord[kMaxRank] = {};
  int64_t row = range.begin / inner;
  int64_t col = range.begin % inner;
  int64_t base[3] = {0, 0, 0};
  for (int d = last - 1; d >= 0; --d) {
    coord[d] = row % p.dims[d];
    row /= p.dims[d];
    for (int k = 0; k < 3; ++k) base[k] += coord[d] * p.strides[k][d];
  }
  int64_t pos = range.begin;
  while (true) {
    const int64_t n = std::min(inner - col, range.end - pos);
    const uint8_t* cp = c + base[0] + col * cs;
    const T* xp = x + base[1] + col * xs;
    const T* yp = y + base[2] + col * ys;
    T* op = out + pos;
    for (int64_t i = 0; i < n; ++i) op[i] = cp[i * cs] != 0 ? xp[i * xs] : yp[i * ys];
    pos += n;
    if (pos >= range.end) break;
    col = 0;
    for (int d = last - 1; d >= 0; --d) {
      for (int k = 0; k < 3; ++k) base[k] += p.strides[k][d];
      if (++coord[d] < p.dims[d]) break;
      for (int k = 0; k < 3; ++k) base[k] -= p.dims[d] * p.strides[k][d];
      coord[d] = 0;
    }
  }
  return KILN_KERNEL_OK;
}

// ---------------------------------------------------------------------------------------
// Unary math on contiguous ranges.

struct NegOp {
  template <typename C>
  static C Apply(C v) {
    if constexpr (std::is_integral_v<C>) return WrapSub(C{0}, v);
    else return -v;
  }
};
struct AbsOp {
  template <typename C>
  static C Apply(C v) {
    if constexpr (std::is_integral_v<C>) return v < 0 ? WrapSub(C{0}, v) : v;
    else return std::fabs(v);
  }
};
// NaN stays NaN (the comparison is false).
struct ReluOp {
  template <typename C>
  static C Apply(C v) { return v < 0 ? C{0} : v; }
};
struct ExpOp {
  template <typename C>
  static C Apply(C v) { return Exp(v); }
};
struct LogOp {
  template <typename C>
  static C Apply(C v) { return std::log(v); }
};
struct SqrtOp {
  template <typename C>
  static C Apply(C v) { return std::sqrt(v); }
};
struct RsqrtOp {
  template <typename C>
  static C Apply(C v) { return C{1} / std::sqrt(v); }
};
// f32 (and f16/bf16, computed in f32) through the vectorizable TanhF; f64 through libm.
struct TanhOp {
  template <typename C>
  static C Apply(C v) {
    if constexpr (std::is_same_v<C, float>) return TanhF(v);
    else return std::tanh(v);
  }
};
// exp of a non-positive argument only, so neither branch overflows or loses the tiny
// values of the far negative side.
struct SigmoidOp {
  template <typename C>
  static C Apply(C v) {
    if constexpr (std::is_same_v<C, float>) {
      return SigmoidF(v);
    } else {
      if (v >= 0) return C{1} / (C{1} + std::exp(-v));
      const C e = std::exp(v);
      return e / (C{1} + e);
    }
  }
};
struct ErfOp {
  template <typename C>
  static C Apply(C v) { return std::erf(v); }
};
// x/2 * (1 + erf(x/sqrt2)) written with erfc, which keeps relative accuracy on the
// negative side where 1 + erf cancels.
struct GeluErfOp {
  template <typename C>
  static C Apply(C v) {
    const C t = v * C{-0.70710678118654752440};
    if constexpr (std::is_same_v<C, float>) return C{0.5} * v * ErfcF(t);
    else return C{0.5} * v * std::erfc(t);
  }
};
// x/2 * (1 + tanh(z)) = x * sigmoid(2z), again without the cancellation of 1 + tanh.
struct GeluTanhOp {
  template <typename C>
  static C Apply(C v) {
    const C z = C{0.79788456080286535588} * (v + C{0.044715} * v * v * v);
    return v / (C{1} + Exp(C{-2} * z));
  }
};

template <typename Op, typename T>
__attribute__((always_inline)) inline int32_t UnaryBody(const kiln_kernel_call* call,
                                                        int64_t workgroup, int64_t workgroups) {
  const UnaryParams& p = ParamsOf<UnaryParams>(call);
  const WorkRange range = SplitWork(p.total, workgroup, workgroups);
  const T* x = Operand<T>(call, 0);
  T* out = MutableOperand<T>(call, 1);
  for (int64_t i = range.begin; i < range.end; ++i) {
    out[i] = Elem<T>::Store(Op::Apply(Elem<T>::Load(x[i])));
  }
  return KILN_KERNEL_OK;
}

template <typename Op, typename T>
int32_t UnaryKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  return UnaryBody<Op, T>(call, workgroup, workgroups);
}

// The same loop compiled for AVX2 + FMA (8 lanes instead of SSE2's 4), for the f32 math
// that is compute-bound; chosen at prepare time only where the CPU has AVX2 and FMA. The
// body is inlined here, so no default-target code is replaced by AVX2 code elsewhere.
template <typename Op>
__attribute__((target("avx2,fma"))) int32_t UnaryKernelAvx2(const kiln_kernel_call* call,
                                                             int64_t workgroup,
                                                             int64_t workgroups) {
  return UnaryBody<Op, float>(call, workgroup, workgroups);
}

template <typename Op>
kiln_kernel_fn UnaryFn(DataType dtype, bool integers) {
  switch (dtype) {
    case DataType::kF32: return &UnaryKernel<Op, float>;
    case DataType::kF64: return &UnaryKernel<Op, double>;
    case DataType::kF16: return &UnaryKernel<Op, Half>;
    case DataType::kBF16: return &UnaryKernel<Op, BFloat16>;
    default: break;
  }
  if constexpr (std::is_same_v<Op, NegOp> || std::is_same_v<Op, AbsOp> ||
                std::is_same_v<Op, ReluOp>) {
    if (!integers) return nullptr;
    switch (dtype) {
      case DataType::kI8: return &UnaryKernel<Op, int8_t>;
      case DataType::kU8: return &UnaryKernel<Op, uint8_t>;
      case DataType::kI32: return &UnaryKernel<Op, int32_t>;
      case DataType::kI64: return &UnaryKernel<Op, int64_t>;
      default: break;
    }
  }
  return nullptr;
}

// Binary arithmetic "cpu.<op>.<dtype>" and comparisons (bool output).
template <typename Op, bool kCompare>
void AddBinary(SymbolList& list, absl::string_view op) {
  list.AddPerType<BinaryParams>(op, [](DataType d) { return BinaryFn<Op, kCompare>(d); });
}

// "cpu.<op>.<dtype>", plus "cpu.<op>.f32.avx2" for the AVX2 + FMA build of the f32 loop.
template <typename Op>
void AddUnary(SymbolList& list, absl::string_view op, bool integers) {
  list.AddPerType<UnaryParams>(op, [integers](DataType d) { return UnaryFn<Op>(d, integers); });
  list.Add<UnaryParams>(absl::StrCat(SymbolName(op, DataType::kF32), ".avx2"),
                        &UnaryKernelAvx2<Op>, kCpuAvx2Fma);
}

}  // namespace

void AddElementwiseKernels(SymbolList& list) {
  AddBinary<AddOp, false>(list, "add");
  AddBinary<SubOp, false>(list, "sub");
  AddBinary<MulOp, false>(list, "mul");
  AddBinary<DivOp, false>(list, "div");
  AddBinary<PowOp, false>(list, "pow");
  AddBinary<MaximumOp, false>(list, "maximum");
  AddBinary<MinimumOp, false>(list, "minimum");
  AddBinary<EqualOp, true>(list, "equal");
  AddBinary<NotEqualOp, true>(list, "not_equal");
  AddBinary<LessOp, true>(list, "less");
  AddBinary<LessEqualOp, true>(list, "less_equal");
  AddBinary<GreaterOp, true>(list, "greater");
  AddBinary<GreaterEqualOp, true>(list, "greater_equal");
  // Where selects element bytes: one kernel per element size.
  list.Add<WhereParams>("cpu.where.x8", &WhereKernel<uint8_t>);
  list.Add<WhereParams>("cpu.where.x16", &WhereKernel<uint16_t>);
  list.Add<WhereParams>("cpu.where.x32", &WhereKernel<uint32_t>);
  list.Add<WhereParams>("cpu.where.x64", &WhereKernel<uint64_t>);
  AddUnary<NegOp>(list, "neg", true);
  AddUnary<AbsOp>(list, "abs", true);
  AddUnary<ReluOp>(list, "relu", true);
  AddUnary<ExpOp>(list, "exp", false);
  AddUnary<LogOp>(list, "log", false);
  AddUnary<SqrtOp>(list, "sqrt", false);
  AddUnary<RsqrtOp>(list, "rsqrt", false);
  AddUnary<TanhOp>(list, "tanh", false);
  AddUnary<SigmoidOp>(list, "sigmoid", false);
  AddUnary<ErfOp>(list, "erf", false);
  AddUnary<GeluErfOp>(list, "gelu", false);
  AddUnary<GeluTanhOp>(list, "gelu_tanh", false);
}

}  // namespace kiln::cpu
