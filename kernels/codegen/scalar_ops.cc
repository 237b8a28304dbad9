#include "kernels/codegen/scalar_ops.h"

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace kiln::codegen {
namespace {

using Args = absl::Span<const std::string>;
using Lowering = std::function<absl::StatusOr<std::string>(ScalarBuilder&, const Node&, Args)>;

// a op b, NaN when either is NaN (the reference's Maximum and Minimum). arith.maxf lowers
// to llvm.maxnum, which returns the other operand for one NaN, so the NaN case is explicit:
// a + b is NaN exactly when one of them is.
std::string NanPropagatingPick(ScalarBuilder& b, absl::string_view predicate,
                               const std::string& x, const std::string& y) {
  const std::string pick = b.Select(b.Compare(predicate, x, y), x, y);
  return b.Select(b.Compare("uno", x, y), b.Op("arith.addf", {x, y}), pick);
}

// 1 / (1 + e^-x): e^-x overflows to inf for x < -88 and the quotient is then 0, as it
// should be; no clamping needed.
std::string Sigmoid(ScalarBuilder& b, const std::string& x) {
  const std::string e = b.Op("math.exp", {b.Op("arith.negf", {x})});
  const std::string one = b.Constant(1.0);
  return b.Op("arith.divf", {one, b.Op("arith.addf", {one, e})});
}

absl::StatusOr<std::string> Gelu(ScalarBuilder& b, const Node& node, Args a) {
  const std::string& x = a[0];
  const std::string& mode = node.string_attr("approximate");
  std::string inner;
  if (mode == "none") {
    inner = b.Op("math.erf", {b.Op("arith.mulf", {x, b.Constant(0.70710678118654752440)})});
  } else if (mode == "tanh") {
    const std::string x3 = b.Op("arith.mulf", {b.Op("arith.mulf", {x, x}), x});
    const std::string poly = b.Op("arith.addf", {x, b.Op("arith.mulf", {x3, b.Constant(0.044715)})});
    inner = b.Op("math.tanh", {b.Op("arith.mulf", {poly, b.Constant(0.79788456080286535588)})});
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("node '", node.name, "' (Gelu): approximate '", mode, "' is not none or tanh"));
  }
  const std::string half_x = b.Op("arith.mulf", {x, b.Constant(0.5)});
  return b.Op("arith.mulf", {half_x, b.Op("arith.addf", {b.Constant(1.0), inner})});
}

// Ops whose element is one arith/math operation on all operands.
Lowering Direct(absl::string_view op) {
  std::string name(op);
  return [name](ScalarBuilder& b, const Node&, Args a) -> absl::StatusOr<std::string> {
    return b.Op(name, a);
  };
}

const std::map<std::string, Lowering>& Table() {
  static const auto* table = new std::map<std::string, Lowering>{
      {"Add", Direct("arith.addf")},
      {"Sub", Direct("arith.subf")},
      {"Mul", Direct("arith.mulf")},
      {"Div", Direct("arith.divf")},
      {"Pow", Direct("math.powf")},
      {"BiasAdd", Direct("arith.addf")},
      {"Neg", Direct("arith.negf")},
      {"Abs", Direct("math.absf")},
      {"Exp", Direct("math.exp")},
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
         return Sigmoid(b, a[0]);
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

std::string ScalarBuilder::Op(absl::string_view op, absl::Span<const std::string> args) {
  std::string result = Fresh();
  absl::StrAppend(&text_, "      ", result, " = ", op, " ", absl::StrJoin(args, ", "), " : ",
                  type_, "\n");
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
