// assign-layout: runs every layout-selectable op (Conv2D, pools) in NHWC with HWIO
// filters, the layout the CPU microkernels and cuDNN's tensor-core paths want (channels
// innermost, so the vector loop runs along C). Each converted op gets a Transpose to NHWC
// before and one back to NCHW after; sink-transposes and simplify-algebra then cancel the
// pairs between neighbouring ops, and fold-constants transposes constant filters, so a
// chain keeps one layout change at each end. Blocked layouts (NCHW16c) are future work.
#include <string>
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

const std::vector<int64_t> kNchwToNhwc = {0, 2, 3, 1};
const std::vector<int64_t> kNhwcToNchw = {0, 3, 1, 2};
const std::vector<int64_t> kOihwToHwio = {2, 3, 1, 0};

Decision WantsNhwc(const Graph& g, const Node& n) {
  if (n.def == nullptr || !n.def->Has(kLayoutSelectable)) return Decision::No("not layout-selectable");
  if (n.string_attr("data_format") != "NCHW") return Decision::No("already NHWC");
  if (g.type(n.inputs[0]).shape.rank() != 4) return Decision::No("input is not rank 4");
  if (n.HasAttr("filter_format") && n.string_attr("filter_format") != "OIHW" &&
      n.string_attr("filter_format") != "HWIO") {
    return Decision::No("unknown filter format");
  }
  return Decision::Yes();
}

absl::StatusOr<TensorRef> AddTranspose(Graph& g, const std::string& hint, TensorRef x,
                                       const std::vector<int64_t>& perm) {
  AttrMap attrs;
  attrs["perm"] = perm;
  ASSIGN_OR_RETURN(int t, AddNodeInferred(g, hint, "Transpose", {x}, std::move(attrs)));
  return TensorRef{t, 0};
}

class AssignLayoutPass : public Pass {
 public:
  explicit AssignLayoutPass(const PassOptions& options) : options_(options) {}
  absl::string_view name() const override { return "assign-layout"; }
  absl::string_view description() const override {
    return "Run Conv2D and pooling in NHWC with HWIO filters, with transposes at the "
           "boundaries of each converted op.";
  }

  absl::StatusOr<bool> Run(Graph& graph) override {
    ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
    bool changed = false;
    for (int id : order) {
      Decision decision = WantsNhwc(graph, graph.node(id));
      if (graph.node(id).def != nullptr && graph.node(id).def->Has(kLayoutSelectable)) {
        LogDecision(options_, name(), absl::StrCat("NHWC for '", graph.node(id).name, "'"),
                    decision);
      }
      if (!decision) continue;
      const Node old = graph.node(id);
      std::vector<TensorRef> inputs = old.inputs;
      ASSIGN_OR_RETURN(inputs[0], AddTranspose(graph, absl::StrCat(old.name, "/to_nhwc"),
                                               old.inputs[0], kNchwToNhwc));
      AttrMap attrs = old.attrs;
      attrs["data_format"] = std::string("NHWC");
      if (old.HasAttr("filter_format") && old.string_attr("filter_format") == "OIHW") {
        // A constant filter is transposed here, at compile time; a computed one gets a node.
        const Tensor* filter = ConstantValue(graph, old.inputs[1]);
        if (filter != nullptr && filter->shape().rank() == 4) {
          ASSIGN_OR_RETURN(Tensor hwio, BroadcastRankAndTranspose(*filter, 4, kOihwToHwio));
          ASSIGN_OR_RETURN(inputs[1], AddConstant(graph, absl::StrCat(old.name, "/filter_hwio"),
                                                  std::move(hwio)));
        } else {
          ASSIGN_OR_RETURN(inputs[1], AddTranspose(graph, absl::StrCat(old.name, "/to_hwio"),
                                                   old.inputs[1], kOihwToHwio));
        }
        attrs["filter_format"] = std::string("HWIO");
      }
      ASSIGN_OR_RETURN(int converted, AddNodeInferred(graph, old.name, old.op, inputs, attrs));
      ASSIGN_OR_RETURN(TensorRef back, AddTranspose(graph, absl::StrCat(old.name, "/to_nchw"),
                                                    TensorRef{converted, 0}, kNhwcToNchw));
      if (!(graph.type(back) == old.outputs[0])) {
        return absl::InternalError(absl::StrCat("assign-layout: '", old.name,
                                                "' changed type in NHWC"));
      }
      ReplaceAllUses(graph, TensorRef{id, 0}, back, /*except=*/back.node);
      RETURN_IF_ERROR(TakeOverName(graph, id, converted));
      changed = true;
    }
    if (changed) RemoveDeadNodes(graph);
    return changed;
  }

 private:
  PassOptions options_;
};

}  // namespace

std::unique_ptr<Pass> CreateAssignLayoutPass(const PassOptions& options) {
  return std::make_unique<AssignLayoutPass>(options);
}

}  // namespace kiln::passes
