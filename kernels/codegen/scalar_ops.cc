#include "kernels/codegen/scalar_ops.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "kernels/cpu/fast_math.h"

namespace kiln::codegen {
namespace {

using Args = absl::Span<const std::string>;
using Lowering = std::function<absl::StatusOr<std::string>(ScalarBuilder&, const Node&, Args)>;

// The f32 math of kernels/cpu/fast_math.h (its algorithms and coefficients), with each
// multiply feeding an add fused as the library's AVX2 and AVX-512 builds fuse them (GCC
// contracts a * b + c), and within those bounds as few vector operations as the loops
// allow: the eltwise chain's loop is bound by its vector pipes, not by memory. Clamps keep
// NaN by their operand order instead of a select at the end; the sigmoid divides once.
// MLIR's math.exp approximation loses accuracy for large arguments (no Cody-Waite split
// of ln 2: 80 ulp at x = 72). tanh is MLIR's rational approximation with cheaper clamps
// (Kiln's TanhF, an exp and a division, made the eltwise chain 1.4x slower).

std::string Mul(ScalarBuilder& b, const std::string& x, const std::string& y) {
  return b.Op("arith.mulf", {x, y});
}
std::string AddF(ScalarBuilder& b, const std::string& x, const std::string& y) {
  return b.Op("arith.addf", {x, y});
}
std::string SubF(ScalarBuilder& b, const std::string& x, const std::string& y) {
  return b.Op("arith.subf", {x, y});
}
// cond(x, y) ? x : y for a cmpf predicate.
std::string Pick(ScalarBuilder& b, absl::string_view predicate, const std::string& x,
                 const std::string& y) {
  return b.Select(b.Compare(predicate, x, y), x, y);
}

// x clamped to [lo, hi] with NaN passing through: each bound a select on "x beyond it",
// false for NaN, which LLVM emits as one max or min instruction whose NaN operand wins
// (a select on "x within it" would replace NaN by the bound).
std::string ClampKeepingNaN(ScalarBuilder& b, const std::string& x, double lo, double hi) {
  const std::string low = b.Constant(lo);
  const std::string above = b.Select(b.Compare("olt", x, low), low, x);
  const std::string high = b.Constant(hi);
  return b.Select(b.Compare("ogt", above, high), high, above);
}

// Pick, but NaN when either is NaN (the reference's Maximum and Minimum). arith.maxf lowers
// to llvm.maxnum, which returns the other operand for one NaN, so the NaN case is explicit:
// a + b is NaN exactly when one of them is.
std::string NanPropagatingPick(ScalarBuilder& b, absl::string_view predicate,
                               const std::string& x, const std::string& y) {
  return b.Select(b.Compare("uno", x, y), AddF(b, x, y), Pick(b, predicate, x, y));
}

// a * b + c with one rounding.
std::string Fma(ScalarBuilder& b, const std::string& x, const std::string& y,
                const std::string& z) {
  return b.Op("math.fma", {x, y, z});
}

// Each step one fused multiply-add (math.fma: a single rounding, and one instruction
// where LLVM would otherwise keep a multiply and an add, having no licence to contract).
template <int N>
std::string Horner(ScalarBuilder& b, const std::string& x, const float (&c)[N]) {
  std::string p = b.Constant(c[0]);
  for (int i = 1; i < N; ++i) p = Fma(b, p, x, b.Constant(c[i]));
  return p;
}

// 2^n for an i32 n in [-126, 127], as float bits.
std::string Pow2(ScalarBuilder& b, const std::string& n) {
  const std::string biased = b.Raw(absl::StrCat("arith.addi ", n, ", ", b.I32(127), " : i32"));
  const std::string bits = b.Raw(absl::StrCat("arith.shli ", biased, ", ", b.I32(23), " : i32"));
  return b.Raw(absl::StrCat("arith.bitcast ", bits, " : i32 to f32"));
}

// exp(x). A NaN passes the clamp and makes the polynomial, and so the result, NaN.
// `nonpositive`: the caller knows x <= 0 (or NaN), and the upper clamp is left out.
std::string ExpF(ScalarBuilder& b, const std::string& in, bool nonpositive = false) {
  std::string x;
  if (nonpositive) {
    const std::string low = b.Constant(-104.0);
    x = b.Select(b.Compare("olt", in, low), low, in);
  } else {
    x = ClampKeepingNaN(b, in, -104.0, 89.0);
  }
  const std::string magic = b.Constant(12582912.0);
  const std::string t = Fma(b, x, b.Constant(1.44269504088896341), magic);
  const std::string n = SubF(b, t, magic);
  const std::string t_bits = b.Raw(absl::StrCat("arith.bitcast ", t, " : f32 to i32"));
  const std::string ni =
      b.Raw(absl::StrCat("arith.subi ", t_bits, ", ", b.I32(0x4B400000), " : i32"));
  std::string r = Fma(b, n, b.Constant(-0.693359375), x);
  r = Fma(b, n, b.Constant(2.12194440e-4), r);
  const std::string z = Mul(b, r, r);
  std::string p = Horner(b, r, cpu::kExpPolynomial);
  p = AddF(b, Fma(b, p, z, r), b.Constant(1.0));
  if (nonpositive) {
    // n in [-150, 0]: p 2^(n + 64) is normal and exact, and the multiply by 2^-64 rounds
    // once, into the subnormals where it must: the same result as two half-scales, in
    // half the operations.
    const std::string shifted = b.Raw(absl::StrCat("arith.addi ", ni, ", ", b.I32(64), " : i32"));
    return Mul(b, Mul(b, p, Pow2(b, shifted)), b.Constant(std::ldexp(1.0, -64)));
  }
  // 2^n in two halves, each a normal power of two, for n in [-151, 128].
  const std::string n1 = b.Raw(absl::StrCat("arith.shrsi ", ni, ", ", b.I32(1), " : i32"));
  const std::string n2 = b.Raw(absl::StrCat("arith.subi ", ni, ", ", n1, " : i32"));
  return Mul(b, Mul(b, p, Pow2(b, n1)), Pow2(b, n2));
}

// e = exp(-|x|) never overflows; 1 / (1 + e) for x >= 0, e / (1 + e) below (one division,
// no cancellation on either side). NaN: -|x| and e are NaN.
std::string SigmoidF(ScalarBuilder& b, const std::string& x) {
  const std::string zero = b.Constant(0.0);
  const std::string e =
      ExpF(b, b.Select(b.Compare("olt", x, zero), x, b.Op("arith.negf", {x})), true);
  const std::string numerator = b.Select(b.Compare("oge", x, zero), b.Constant(1.0), e);
  return b.Op("arith.divf", {numerator, AddF(b, b.Constant(1.0), e)});
}

// tanh as the rational approximation MLIR's math.tanh expands to (Eigen's coefficients:
// x p(x^2) / q(x^2) over x clamped to [-7.9988, 7.9988], where f32 tanh is 1), written
// here for fewer operations in the same accuracy: the clamp keeps NaN through two
// max/min instructions (MLIR compares and blends), and x times p / q stays within 2 ulp
// down to subnormal x (p(0) / q(0) rounds to 1 - 2^-23) without MLIR's |x| < 0.0004
// select, which returns x itself there.
std::string RationalTanh(ScalarBuilder& b, const std::string& in) {
  static constexpr float kNumerator[] = {-2.76076847742355e-16f, 2.00018790482477e-13f,
                                         -8.60467152213735e-11f, 5.12229709037114e-08f,
                                         1.48572235717979e-05f,  6.37261928875436e-04f,
                                         4.89352455891786e-03f};
  static constexpr float kDenominator[] = {1.19825839466702e-06f, 1.18534705686654e-04f,
                                           2.26843463243900e-03f, 4.89352518554385e-03f};
  const std::string x = ClampKeepingNaN(b, in, -7.99881172180175781, 7.99881172180175781);
  const std::string z = Mul(b, x, x);
  const std::string ratio =
      b.Op("arith.divf", {Horner(b, z, kNumerator), Horner(b, z, kDenominator)});
  return Mul(b, x, ratio);
}

std::string ErfcF(ScalarBuilder& b, const std::string& x) {
  const std::string one = b.Constant(1.0);
  const std::string ten = b.Constant(10.0);
  const std::string a = b.Op("math.absf", {x});
  const std::string z = Mul(b, a, a);
  const std::string near = SubF(b, one, Mul(b, a, Horner(b, z, cpu::kErfNear)));
  const std::string clamped = Pick(b, "olt", a, ten);
  const std::string hi = Mul(b, clamped, clamped);
  const std::string split = Mul(b, clamped, b.Constant(4097.0));
  const std::string bh = SubF(b, split, SubF(b, split, clamped));
  const std::string bl = SubF(b, clamped, bh);
  const std::string lo = AddF(b, AddF(b, SubF(b, Mul(b, bh, bh), hi),
                                      Mul(b, Mul(b, b.Constant(2.0), bh), bl)),
                              Mul(b, bl, bl));
  const std::string e = Mul(b, ExpF(b, b.Op("arith.negf", {hi}), true), SubF(b, one, lo));
  const std::string q = b.Op("arith.divf", {one, clamped});
  const std::string y = Mul(b, q, q);
  const std::string p = Horner(b, y, cpu::kErfcTo2);
  const std::string r = Horner(b, y, cpu::kErfcBeyond);
  const std::string poly = b.Select(b.Compare("olt", a, b.Constant(2.0)), p, r);
  const std::string far =
      b.Select(b.Compare("olt", a, ten), Mul(b, Mul(b, e, q), poly), b.Constant(0.0));
  const std::string positive = b.Select(b.Compare("olt", a, one), near, far);
  const std::string result = b.Select(b.Compare("olt", x, b.Constant(0.0)),
                                      SubF(b, b.Constant(2.0), positive), positive);
  return b.Select(b.Compare("oeq", x, x), result, x);
}

// x/2 * (1 + erf(x/sqrt2)) written with erfc, which keeps relative accuracy on the
// negative side where 1 + erf cancels; the tanh form as x * sigmoid(2z), again without
// the cancellation of 1 + tanh.
absl::StatusOr<std::string> Gelu(ScalarBuilder& b, const Node& node, Args a) {
  const std::string& x = a[0];
  const std::string& mode = node.string_attr("approximate");
  if (mode == "none") {
    const std::string t = Mul(b, x, b.Constant(-0.70710678118654752440));
    return Mul(b, Mul(b, b.Constant(0.5), x), ErfcF(b, t));
  }
  if (mode == "tanh") {
    const std::string cube = Mul(b, Mul(b, Mul(b, b.Constant(0.044715), x), x), x);
    const std::string z = Mul(b, b.Constant(0.79788456080286535588), AddF(b, x, cube));
    const std::string e = ExpF(b, Mul(b, b.Constant(-2.0), z));
    return b.Op("arith.divf", {x, AddF(b, b.Constant(1.0), e)});
  }
  return absl::InvalidArgumentError(
      absl::StrCat("node '", node.name, "' (Gelu): approximate '", mode, "' is not none or tanh"));
}

// Ops whose element is one arith/math operation on all operands.
Lowering Direct(absl::string_view op) {
  std::string name(op);
  return [name](ScalarBuilder& b, const Node&, Args a) -> absl::StatusOr<std::string> {
    return b.Op(name, a);
  };
}

// The graph's own additions and multiplications may contract: LLVM then fuses a multiply
// feeding an add (x * a + b, x * x - 0.5 * x) into one FMA, one rounding instead of two,
// as ONNX Runtime's and XLA's CPU kernels do; the math functions above keep their exact
// sequence (their bounds were measured on it).
Lowering Contracted(absl::string_view op) {
  std::string name(op);
  return [name](ScalarBuilder& b, const Node&, Args a) -> absl::StatusOr<std::string> {
    return b.Op(name, a, "fastmath<contract>");
  };
}

const std::map<std::string, Lowering>& Table() {
  static const auto* table = new std::map<std::string, Lowering>{
      {"Add", Contracted("arith.addf")},
      {"Sub", Contracted("arith.subf")},
      {"Mul", Contracted("arith.mulf")},
      {"Div", Direct("arith.divf")},
      {"Pow", Direct("math.powf")},
      {"BiasAdd", Contracted("arith.addf")},
      {"Neg", Direct("arith.negf")},
      {"Abs", Direct("math.absf")},
      {"Exp", [](ScalarBuilder& b, const Node&, Args a) -> absl::StatusOr<std::string> {
         return ExpF(b, a[0]);
       }},
      {"Log", Direct("math.log")},
      {"Sqrt", Direct("math.sqrt")},
      {"Rsqrt", Direct("math.rsqrt")},
      {"Tanh", [](ScalarBuilder& b, const Node&, Args a) -> absl::StatusOr<std::string> {
         return RationalTanh(b, a[0]);
       }},
      {"Erf", Direct("math.erf")},
      {"Maximum", [](ScalarBuilder& b, const Node&, Args a) -> absl::StatusOr<std::string> {
         return NanPropagatingPick(b, "ogt", a[0], a[1]);
       }},
      {"Minimum", [](ScalarBuilder& b, const Node&, Args a) -> absl::StatusOr<std::string> {
         return NanPropagatingPick(b, "olt", a[0], a[1]);
       }},
      // max(x, 0) with NaN kept: x < 0 is false for NaN, which then passes through.
      {"Relu", [](ScalarBuilder& b, const Node&, Args a) -> absl::StatusOr<std::string> {
         return b.Select(b.Compare("olt", a[0], b.Constant(0.0)), b.Constant(0.0), a[0]);
       }},
      {"Sigmoid", [](ScalarBuilder& b, const Node&, Args a) -> absl::StatusOr<std::string> {
         return SigmoidF(b, a[0]);
       }},
      {"Gelu", Gelu},
      {"Identity", [](ScalarBuilder&, const Node&, Args a) -> absl::StatusOr<std::string> {
         return a[0];
       }},
  };
  return *table;
}

// Integer loops (i32, i64): two's-complement arithmetic that wraps, which is the
// reference's int64 computation narrowed to the type. No Div (division by zero is an
// error the kernel would have to report) and no math functions.
const std::map<std::string, Lowering>& IntegerTable() {
  static const auto* table = new std::map<std::string, Lowering>{
      {"Add", Direct("arith.addi")},
      {"Sub", Direct("arith.subi")},
      {"Mul", Direct("arith.muli")},
      {"Neg", [](ScalarBuilder& b, const Node&, Args a) -> absl::StatusOr<std::string> {
         return b.Op("arith.subi", {b.Constant(0), a[0]});
       }},
      // |x| as max(x, 0 - x): the minimum negates to itself and stays, as the reference.
      {"Abs", [](ScalarBuilder& b, const Node&, Args a) -> absl::StatusOr<std::string> {
         return b.Op("arith.maxsi", {a[0], b.Op("arith.subi", {b.Constant(0), a[0]})});
       }},
      {"Maximum", Direct("arith.maxsi")},
      {"Minimum", Direct("arith.minsi")},
      {"Relu", [](ScalarBuilder& b, const Node&, Args a) -> absl::StatusOr<std::string> {
         return b.Op("arith.maxsi", {a[0], b.Constant(0)});
       }},
      {"Identity", [](ScalarBuilder&, const Node&, Args a) -> absl::StatusOr<std::string> {
         return a[0];
       }},
  };
  return *table;
}

bool IsIntegerType(const std::string& type) { return type == "i32" || type == "i64"; }

}  // namespace

std::string ScalarBuilder::Fresh() { return absl::StrCat("%s", next_++); }

std::string ScalarBuilder::Op(absl::string_view op, absl::Span<const std::string> args,
                              absl::string_view attributes) {
  std::string result = Fresh();
  absl::StrAppend(&text_, "      ", result, " = ", op, " ", absl::StrJoin(args, ", "),
                  attributes.empty() ? "" : " ", attributes, " : ", type_, "\n");
  return result;
}

std::string ScalarBuilder::Compare(absl::string_view predicate, const std::string& a,
                                   const std::string& b) {
  std::string result = Fresh();
  absl::StrAppend(&text_, "      ", result, " = arith.cmpf ", predicate, ", ", a, ", ", b, " : ",
                  type_, "\n");
  return result;
}

std::string ScalarBuilder::Select(const std::string& condition, const std::string& a,
                                  const std::string& b) {
  std::string result = Fresh();
  absl::StrAppend(&text_, "      ", result, " = arith.select ", condition, ", ", a, ", ", b,
                  " : ", type_, "\n");
  return result;
}

std::string ScalarBuilder::Raw(absl::string_view text) {
  std::string result = Fresh();
  absl::StrAppend(&text_, "      ", result, " = ", text, "\n");
  return result;
}

std::string ScalarBuilder::I32(int32_t value) {
  return Raw(absl::StrCat("arith.constant ", value, " : i32"));
}

std::string ScalarBuilder::Constant(double value) {
  std::string literal;
  if (IsIntegerType(type_)) {
    literal = absl::StrCat(static_cast<int64_t>(value));
  } else if (type_ == "f64") {
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    literal = absl::StrFormat("0x%016X", bits);
  } else {
    const float f = static_cast<float>(value);
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof(bits));
    literal = absl::StrFormat("0x%08X", bits);
  }
  std::string result = Fresh();
  absl::StrAppend(&text_, "      ", result, " = arith.constant ", literal, " : ", type_, "\n");
  return result;
}

bool HasScalarLowering(const Node& node, DataType dtype) {
  if (dtype == DataType::kF32) return Table().count(node.op) > 0;
  if (dtype == DataType::kI32 || dtype == DataType::kI64) {
    return IntegerTable().count(node.op) > 0;
  }
  // The math functions above are f32 polynomials; these lower through arith and
  // math.absf/math.sqrt, which LLVM has as instructions for any float type.
  static const auto* kAnyFloat = new std::set<std::string>{
      "Add", "Sub", "Mul", "Div", "BiasAdd", "Neg", "Abs", "Sqrt", "Maximum", "Minimum",
      "Relu", "Identity"};
  return dtype == DataType::kF64 && kAnyFloat->count(node.op) > 0;
}

absl::StatusOr<std::string> EmitScalarOp(ScalarBuilder& builder, const Node& node,
                                         absl::Span<const std::string> args) {
  const auto& table = IsIntegerType(builder.type()) ? IntegerTable() : Table();
  auto it = table.find(node.op);
  if (it == table.end()) {
    return absl::UnimplementedError(
        absl::StrCat("node '", node.name, "' (", node.op, "): no generated-code lowering"));
  }
  return it->second(builder, node, args);
}

std::vector<std::string> ScalarLoweringOps() {
  std::vector<std::string> ops;
  for (const auto& [op, lowering] : Table()) ops.push_back(op);
  return ops;
}

}  // namespace kiln::codegen
