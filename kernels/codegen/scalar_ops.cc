#include "kernels/codegen/scalar_ops.h"

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "kernels/cpu/fast_math.h"

namespace kiln::codegen {
namespace {

using Args = absl::Span<const std::string>;
using Lowering = std::function<absl::StatusOr<std::string>(ScalarBuilder&, const Node&, Args)>;

// The f32 math of kernels/cpu/fast_math.h, operation for operation, with each multiply
// feeding an add fused as the library's AVX2 and AVX-512 builds fuse them (GCC contracts
// a * b + c), so generated kernels and those builds compute the same operations and share
// the measured bounds (ExpF 1 ulp, SigmoidF 3, ErfcF 10); a fused step is one instruction
// in the add pipes' place (the eltwise chain's loop is bound by its vector pipes). MLIR's math.exp approximation loses accuracy for large arguments (no
// Cody-Waite split of ln 2: 80 ulp at x = 72). tanh stays MLIR's rational approximation
// (5 ulp measured; Kiln's TanhF, an exp and a division, made the eltwise chain 1.4x
// slower).

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

std::string ExpF(ScalarBuilder& b, const std::string& in) {
  std::string x = Pick(b, "ogt", in, b.Constant(-104.0));
  x = Pick(b, "olt", x, b.Constant(89.0));
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
  const std::string n1 = b.Raw(absl::StrCat("arith.shrsi ", ni, ", ", b.I32(1), " : i32"));
  const std::string n2 = b.Raw(absl::StrCat("arith.subi ", ni, ", ", n1, " : i32"));
  const std::string result = Mul(b, Mul(b, p, Pow2(b, n1)), Pow2(b, n2));
  return b.Select(b.Compare("oeq", in, in), result, in);
}

std::string SigmoidF(ScalarBuilder& b, const std::string& x) {
  const std::string zero = b.Constant(0.0);
  const std::string e =
      ExpF(b, b.Select(b.Compare("olt", x, zero), x, b.Op("arith.negf", {x})));
  const std::string r = b.Op("arith.divf", {b.Constant(1.0), AddF(b, b.Constant(1.0), e)});
  return b.Select(b.Compare("oge", x, zero), r, Mul(b, e, r));
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
  const std::string e = Mul(b, ExpF(b, b.Op("arith.negf", {hi})), SubF(b, one, lo));
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
      {"Tanh", Direct("math.tanh")},
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
  if (type_ == "f64") {
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

bool HasScalarLowering(const Node& node) { return Table().count(node.op) > 0; }

absl::StatusOr<std::string> EmitScalarOp(ScalarBuilder& builder, const Node& node,
                                         absl::Span<const std::string> args) {
  auto it = Table().find(node.op);
  if (it == Table().end()) {
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
