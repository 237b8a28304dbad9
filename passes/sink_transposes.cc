// sink-transposes: moves a Transpose below the op that reads it, when the op commutes with
// the permutation, so transposes meet and cancel (simplify-algebra composes them):
//   f(T(x, p))                 -> T(f(x), p)      f elementwise and layout-agnostic
//   g(T(a, p), T(b, p), c)     -> T(g(a, b, c'), p)  c a scalar, or a constant of the same
//                                                    rank transposed at compile time (c')
//   h(T(x, p), params) axis=a  -> T(h(x, params) axis=p[a], p)   h a channel-axis op
//   Concat(T(a, p), T(b, p)) axis=a -> T(Concat(a, b) axis=p[a], p)   (every input
//                                      transposed alike, or a constant transposed here)
//   R(T(x, p)) axes=A keepdims     -> T(R(x) axes=p[A], p)   R ReduceSum/Mean/Max
// An op whose inputs carry different permutations, or a non-constant of lower rank (which
// would broadcast against other dimensions), stays.
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/graph_rewrite.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "passes/decision.h"
#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace kiln::passes {
namespace {

class SinkTransposesPass : public Pass {
 public:
  explicit SinkTransposesPass(const PassOptions& options) : options_(options) {}
  absl::string_view name() const override { return "sink-transposes"; }
  absl::string_view description() const override {
    return "Move transposes below elementwise, channel-axis and Concat ops so that inverse "
           "pairs meet and cancel.";
  }

  absl::StatusOr<bool> Run(Graph& graph) override {
    ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
    bool changed = false;
    for (int id : order) {
      ASSIGN_OR_RETURN(bool sunk, TrySink(graph, id));
      changed = changed || sunk;
    }
    if (changed) RemoveDeadNodes(graph);
    return changed;
  }

 private:
  absl::StatusOr<bool> TrySink(Graph& g, int id) {
    const Node& n = g.node(id);
    if (n.def == nullptr || n.outputs.size() != 1) return false;
    const bool elementwise = n.def->Has(kElementwise) && n.def->Has(kLayoutAgnostic);
    const bool channel = n.def->Has(kChannelAxis);
    // Concatenation along an axis commutes with a permutation of the axes (NHWC networks
    // that concatenate channels, as SqueezeNet and DenseNet do, otherwise transpose back
    // to NCHW around every Concat).
    const bool concat = n.op == "Concat";
    if (IsKeepDimsReduction(n)) return SinkBelowReduction(g, id);
    if (!elementwise && !channel && !concat) return false;
    // The permutation: that of the first transposed input.
    std::optional<std::vector<int64_t>> perm;
    for (const TensorRef& in : n.inputs) {
      if (const Node* t = ProducerIs(g, in, "Transpose")) {
        perm = t->ints_attr("perm");
        break;
      }
    }
    if (!perm) return false;
    const int rank = static_cast<int>(perm->size());
    if (n.outputs[0].shape.rank() != rank) return false;
    const std::vector<int64_t> inverse = InversePermutation(*perm);

    Decision decision = Decision::Yes();
    std::vector<TensorRef> inputs;
    std::vector<Tensor> new_constants(n.inputs.size());
    for (size_t i = 0; i < n.inputs.size() && decision; ++i) {
      const TensorRef in = n.inputs[i];
      const TensorType& type = g.type(in);
      const Node* t = ProducerIs(g, in, "Transpose");
      if (channel && i > 0) {
        inputs.push_back(in);  // 1-D per-channel parameters are indexed by axis
      } else if (t != nullptr && t->ints_attr("perm") == *perm) {
        inputs.push_back(t->inputs[0]);
      } else if (type.shape.rank() == 0 && !concat) {
        inputs.push_back(in);
      } else if (const Tensor* c = ConstantValue(g, in)) {
        // c broadcast to rank, then permuted by the inverse: T(c', p) == c (broadcast).
        absl::StatusOr<Tensor> moved = BroadcastRankAndTranspose(*c, rank, inverse);
        if (!moved.ok()) {
          decision = Decision::No(std::string(moved.status().message()));
          break;
        }
        new_constants[i] = *std::move(moved);
        inputs.push_back(in);  // replaced below
      } else {
        decision = Decision::No(absl::StrCat("input ", i, " is neither transposed by the same "
                                             "permutation, a scalar, nor a constant"));
      }
    }
    LogDecision(options_, name(), absl::StrCat("sink transpose below '", n.name, "'"), decision);
    if (!decision) return false;

    const Node old = n;
    for (size_t i = 0; i < new_constants.size(); ++i) {
      if (!new_constants[i].valid()) continue;
      ASSIGN_OR_RETURN(inputs[i], AddConstant(g, absl::StrCat(g.node(old.inputs[i].node).name,
                                                              "/transposed"),
                                              new_constants[i]));
    }
    AttrMap attrs = old.attrs;
    if (channel || concat) {
      ASSIGN_OR_RETURN(int axis, NormalizeAxis(old.int_attr("axis"), rank));
      attrs["axis"] = (*perm)[axis];
    }
    RETURN_IF_ERROR(ReplaceBelowTranspose(g, id, old, inputs, std::move(attrs), *perm));
    return true;
  }

  // Replaces node `id` (a copy of it: `old`) by T(OP(inputs) attrs, perm), the op taking
  // over its name; the result must have old's type.
  absl::Status ReplaceBelowTranspose(Graph& g, int id, const Node& old,
                                     const std::vector<TensorRef>& inputs, AttrMap attrs,
                                     const std::vector<int64_t>& perm) {
    ASSIGN_OR_RETURN(int moved, AddNodeInferred(g, old.name, old.op, inputs, std::move(attrs)));
    AttrMap t_attrs;
    t_attrs["perm"] = perm;
    ASSIGN_OR_RETURN(int t, AddNodeInferred(g, absl::StrCat(old.name, "/transpose"), "Transpose",
                                            {TensorRef{moved, 0}}, std::move(t_attrs)));
    if (!(g.node(t).outputs[0] == old.outputs[0])) {
      return absl::InternalError(absl::StrCat("sink-transposes: '", old.name, "' changed type"));
    }
    ReplaceAllUses(g, TensorRef{id, 0}, TensorRef{t, 0});
    return TakeOverName(g, id, moved);
  }

  // ReduceSum, ReduceMean or ReduceMax keeping the reduced dimensions (their output has
  // the input's rank, so the permutation still applies to it).
  static bool IsKeepDimsReduction(const Node& n) {
    return (n.op == "ReduceSum" || n.op == "ReduceMean" || n.op == "ReduceMax") &&
           n.inputs.size() == 1 && n.outputs.size() == 1 && n.bool_attr("keepdims");
  }

  // R(T(x, p)) axes A -> T(R(x) axes p[A], p): a global pooling of an NHWC network (ONNX's
  // GlobalAveragePool, a ReduceMean over H and W) then reduces the NHWC tensor in place
  // of transposing all of it back to NCHW first; the transpose left behind moves only
  // size-1 dimensions, and simplify-algebra makes it a reshape.
  absl::StatusOr<bool> SinkBelowReduction(Graph& g, int id) {
    const Node& n = g.node(id);
    const Node* t = ProducerIs(g, n.inputs[0], "Transpose");
    if (t == nullptr) return false;
    const std::vector<int64_t> perm = t->ints_attr("perm");
    const int rank = static_cast<int>(perm.size());
    std::vector<int64_t> axes;
    for (int64_t axis : n.ints_attr("axes")) {
      if (axis < -rank || axis >= rank) return false;  // verification reports it
      axes.push_back(perm[axis < 0 ? axis + rank : axis]);
    }
    LogDecision(options_, name(), absl::StrCat("sink transpose below '", n.name, "'"),
                Decision::Yes());
    const Node old = n;
    AttrMap attrs = old.attrs;
    if (!axes.empty()) attrs["axes"] = axes;
    RETURN_IF_ERROR(ReplaceBelowTranspose(g, id, old, {t->inputs[0]}, std::move(attrs), perm));
    return true;
  }

  PassOptions options_;
};

}  // namespace

std::unique_ptr<Pass> CreateSinkTransposesPass(const PassOptions& options) {
  return std::make_unique<SinkTransposesPass>(options);
}

}  // namespace kiln::passes
