// simplify-algebra: local algebraic identities, each a small rule (x*1, x+0, x-0, x/1,
// x-x on integers, transpose of transpose, reshape of reshape, transposes that only move
// size-1 dimensions, exact cast chains). Transposes of constants are left to
// fold-constants, which evaluates them within its size cap.
#include <optional>

#include "absl/strings/str_cat.h"
#include "graph/graph_rewrite.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace kiln::passes {
namespace {

using Result = absl::StatusOr<std::optional<TensorRef>>;

// `x op c` or (for commutative ops) `c op x` where c is a splat equal to `value` and the
// result has x's type (c does not broadcast x to a larger shape or another dtype).
std::optional<TensorRef> NeutralOperand(const Graph& g, int id, absl::string_view op,
                                        double value, bool either_side) {
  const Node& n = g.node(id);
  if (n.op != op || n.inputs.size() != 2) return std::nullopt;
  for (int side = 0; side < (either_side ? 2 : 1); ++side) {
    TensorRef x = n.inputs[side];
    TensorRef c = n.inputs[1 - side];
    if (IsSplat(g, c, value) && g.type(x) == n.outputs[0]) return x;
  }
  return std::nullopt;
}

Result MulByOne(Graph& g, int id) { return NeutralOperand(g, id, "Mul", 1.0, true); }
Result DivByOne(Graph& g, int id) { return NeutralOperand(g, id, "Div", 1.0, false); }
// x + 0 and x - 0 only change the sign of a zero (-0 + 0 = +0), which compares equal.
Result AddZero(Graph& g, int id) { return NeutralOperand(g, id, "Add", 0.0, true); }
Result SubZero(Graph& g, int id) { return NeutralOperand(g, id, "Sub", 0.0, false); }

// x - x == 0 for integers (wrapping arithmetic is exact); not for floats, where inf and
// NaN give NaN. Needs a known shape to build the constant.
Result SubSelfInteger(Graph& g, int id) {
  const Node& n = g.node(id);
  if (n.op != "Sub" || n.inputs[0] != n.inputs[1]) return std::nullopt;
  const TensorType& type = n.outputs[0];
  if (!IsInteger(type.dtype) || !type.shape.IsFullyKnown()) return std::nullopt;
  ASSIGN_OR_RETURN(Tensor zeros, Tensor::Allocate(type.dtype, type.shape));
  ASSIGN_OR_RETURN(TensorRef c, AddConstant(g, absl::StrCat(n.name, "/zero"), zeros));
  return c;
}

Result TransposeOfTranspose(Graph& g, int id) {
  const Node& n = g.node(id);
  if (n.op != "Transpose") return std::nullopt;
  const Node* inner = ProducerIs(g, n.inputs[0], "Transpose");
  if (inner == nullptr) return std::nullopt;
  std::vector<int64_t> perm = ComposePermutations(inner->ints_attr("perm"), n.ints_attr("perm"));
  TensorRef source = inner->inputs[0];
  if (IsIdentityPermutation(perm)) return source;
  AttrMap attrs;
  attrs["perm"] = perm;
  ASSIGN_OR_RETURN(int t, AddNodeInferred(g, n.name, "Transpose", {source}, std::move(attrs)));
  return TensorRef{t, 0};
}

// A transpose keeps the row-major order of elements when the dimensions that are not
// size 1 appear in the same relative order before and after: elements are enumerated by
// those dimensions alone (size-1 dimensions contribute index 0 everywhere), so the
// transpose is a reshape. Example: [N,1,1,C] -> perm [0,3,1,2] -> [N,C,1,1] keeps N before
// C, which is why Flatten(GlobalAvgPool) gives the same order in NHWC and NCHW. Unknown
// dims count as "not size 1" (they might not be), and at most one may remain for Reshape.
Result TransposeOfUnitDims(Graph& g, int id) {
  const Node& n = g.node(id);
  if (n.op != "Transpose") return std::nullopt;
  const Shape& in = g.type(n.inputs[0]).shape;
  const std::vector<int64_t>& perm = n.ints_attr("perm");
  int64_t last = -1;
  for (int64_t p : perm) {
    if (in.dim(p) == 1) continue;
    if (p < last) return std::nullopt;
    last = p;
  }
  std::optional<std::vector<int64_t>> spec = ReshapeSpec(n.outputs[0].shape);
  if (!spec) return std::nullopt;
  AttrMap attrs;
  attrs["shape"] = *spec;
  ASSIGN_OR_RETURN(int r, AddNodeInferred(g, n.name, "Reshape", {n.inputs[0]}, std::move(attrs)));
  return TensorRef{r, 0};
}

// Bitcasts compose: both only reinterpret the same row-major elements.
Result BitcastOfBitcast(Graph& g, int id) {
  const Node& n = g.node(id);
  if (n.def == nullptr || !n.def->Has(kBitcast) || n.inputs.size() != 1) return std::nullopt;
  const Node& inner = g.node(n.inputs[0].node);
  if (inner.def == nullptr || !inner.def->Has(kBitcast) || inner.inputs.size() != 1) {
    return std::nullopt;
  }
  std::optional<std::vector<int64_t>> spec = ReshapeSpec(n.outputs[0].shape);
  if (!spec) return std::nullopt;
  AttrMap attrs;
  attrs["shape"] = *spec;
  ASSIGN_OR_RETURN(int r, AddNodeInferred(g, n.name, "Reshape", {inner.inputs[0]},
                                          std::move(attrs)));
  return TensorRef{r, 0};
}

// Every value of `from` is exactly representable in `to` (so a cast between them is the
// identity on values), and both are of the same kind, so a following cast converts the
// same value with the same rule (float->int saturates, int->int wraps).
bool ExactWidening(DataType from, DataType to) {
  auto rank_of = [](DataType t) {
    switch (t) {
      case DataType::kBool: return 0;
      case DataType::kI8: return 1;
      case DataType::kU8: return 1;
      case DataType::kI32: return 3;
      case DataType::kI64: return 4;
      case DataType::kF16: return 11;
      case DataType::kBF16: return 11;
      case DataType::kF32: return 12;
      case DataType::kF64: return 13;
      default: return -1;
    }
  };
  if (from == to) return true;
  if (from == DataType::kBool) return IsInteger(to);
  if (IsFloating(from) != IsFloating(to) || IsInteger(from) != IsInteger(to)) return false;
  if (from == DataType::kU8 && to == DataType::kI8) return false;
  if (from == DataType::kI8 && to == DataType::kU8) return false;
  if ((from == DataType::kF16 && to == DataType::kBF16) ||
      (from == DataType::kBF16 && to == DataType::kF16)) {
    return false;  // neither holds the other's values
  }
  return rank_of(from) < rank_of(to);
}

Result CastOfCast(Graph& g, int id) {
  const Node& n = g.node(id);
  if (n.op != "Cast") return std::nullopt;
  const Node* inner = ProducerIs(g, n.inputs[0], "Cast");
  if (inner == nullptr) return std::nullopt;
  DataType source = g.type(inner->inputs[0]).dtype;
  if (!ExactWidening(source, inner->attr<DataType>("to"))) return std::nullopt;
  AttrMap attrs;
  attrs["to"] = n.attr<DataType>("to");
  ASSIGN_OR_RETURN(int c, AddNodeInferred(g, n.name, "Cast", {inner->inputs[0]}, std::move(attrs)));
  return TensorRef{c, 0};
}

}  // namespace

// The algebraic rules, shared with pipelines that want them inside other passes.
void PopulateAlgebraicRules(std::vector<RewriteRule>& rules) {
  rules.push_back({"mul-by-one", MulByOne});
  rules.push_back({"div-by-one", DivByOne});
  rules.push_back({"add-zero", AddZero});
  rules.push_back({"sub-zero", SubZero});
  rules.push_back({"sub-self-integer", SubSelfInteger});
  rules.push_back({"transpose-of-transpose", TransposeOfTranspose});
  rules.push_back({"transpose-of-unit-dims", TransposeOfUnitDims});
  rules.push_back({"bitcast-of-bitcast", BitcastOfBitcast});
  rules.push_back({"cast-of-cast", CastOfCast});
}

namespace {

class SimplifyAlgebraPass : public Pass {
 public:
  explicit SimplifyAlgebraPass(const PassOptions& options) : options_(options) {
    PopulateAlgebraicRules(rules_);
  }
  absl::string_view name() const override { return "simplify-algebra"; }
  absl::string_view description() const override {
    return "Apply algebraic identities: x*1, x+0, x-0, x/1, integer x-x, transpose of "
           "transpose, reshape of reshape, unit-dimension transposes, exact cast chains.";
  }
  absl::StatusOr<bool> Run(Graph& graph) override {
    return ApplyRewriteRules(graph, rules_, options_, name());
  }

 private:
  PassOptions options_;
  std::vector<RewriteRule> rules_;
};

}  // namespace

std::unique_ptr<Pass> CreateSimplifyAlgebraPass(const PassOptions& options) {
  return std::make_unique<SimplifyAlgebraPass>(options);
}

}  // namespace kiln::passes
