// remove-identities: drops nodes whose output equals their input: Identity, reshapes to
// the same shape, identity transposes, casts to the same dtype, single-input concats,
// zero pads and full slices.
#include <optional>

#include "graph/op_registry.h"
#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace kiln::passes {
namespace {

using Result = absl::StatusOr<std::optional<TensorRef>>;

const TensorType& OutputType(const Graph& g, int id) { return g.node(id).outputs[0]; }

// A bitcast (Identity, Reshape, Flatten) whose output type equals its input's moves no
// element. Unknown dims compare as equal only in the same position, which Reshape's
// spec then reproduces exactly.
Result BitcastToSameType(Graph& g, int id) {
  const Node& n = g.node(id);
  if (n.def == nullptr || !n.def->Has(kBitcast) || n.inputs.size() != 1) return std::nullopt;
  const TensorType& in = g.type(n.inputs[0]);
  if (!(in == OutputType(g, id))) return std::nullopt;
  // Two unknown dims could be bound to different sizes ([-1,-1] -> [-1,-1] may swap them).
  int unknown = 0;
  for (int64_t d : in.shape.dims()) unknown += d == kUnknownDim;
  if (unknown > 1) return std::nullopt;
  return n.inputs[0];
}

Result IdentityTranspose(Graph& g, int id) {
  const Node& n = g.node(id);
  if (n.op != "Transpose" || !IsIdentityPermutation(n.ints_attr("perm"))) return std::nullopt;
  return n.inputs[0];
}

Result CastToSameDtype(Graph& g, int id) {
  const Node& n = g.node(id);
  if (n.op != "Cast" || g.type(n.inputs[0]).dtype != n.attr<DataType>("to")) return std::nullopt;
  return n.inputs[0];
}

Result SingleInputConcat(Graph& g, int id) {
  const Node& n = g.node(id);
  if (n.op != "Concat" || n.inputs.size() != 1) return std::nullopt;
  return n.inputs[0];
}

Result ZeroPad(Graph& g, int id) {
  const Node& n = g.node(id);
  if (n.op != "Pad") return std::nullopt;
  for (int64_t p : n.ints_attr("pads")) {
    if (p != 0) return std::nullopt;
  }
  return n.inputs[0];
}

// With positive steps, an output as large as the input in every (known) dimension starts
// at 0 and takes every element (a size-1 dimension has one element whatever the step).
Result FullSlice(Graph& g, int id) {
  const Node& n = g.node(id);
  if (n.op != "Slice") return std::nullopt;
  const TensorType& in = g.type(n.inputs[0]);
  if (!in.shape.IsFullyKnown() || !(in == OutputType(g, id))) return std::nullopt;
  for (int64_t step : n.ints_attr("steps")) {
    if (step < 0) return std::nullopt;
  }
  return n.inputs[0];
}

class RemoveIdentitiesPass : public Pass {
 public:
  explicit RemoveIdentitiesPass(const PassOptions& options) : options_(options) {
    rules_ = {{"bitcast-to-same-type", BitcastToSameType},
              {"identity-transpose", IdentityTranspose},
              {"cast-to-same-dtype", CastToSameDtype},
              {"single-input-concat", SingleInputConcat},
              {"zero-pad", ZeroPad},
              {"full-slice", FullSlice}};
  }
  absl::string_view name() const override { return "remove-identities"; }
  absl::string_view description() const override {
    return "Remove nodes whose output equals their input (Identity, no-op reshapes, "
           "transposes, casts, pads, slices and concats).";
  }
  absl::StatusOr<bool> Run(Graph& graph) override {
    return ApplyRewriteRules(graph, rules_, options_, name());
  }

 private:
  PassOptions options_;
  std::vector<RewriteRule> rules_;
};

}  // namespace

std::unique_ptr<Pass> CreateRemoveIdentitiesPass(const PassOptions& options) {
  return std::make_unique<RemoveIdentitiesPass>(options);
}

}  // namespace kiln::passes
