// The pass table and what is generated from it.
#include "passes/registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "passes/passes.h"

namespace kiln::passes {

const std::vector<PassInfo>& AllPasses() {
  static const auto* passes = new std::vector<PassInfo>{
      {"remove-identities", "Remove nodes whose output equals their input.",
       "Identity; Reshape/Flatten to the same type (at most one unknown dim); Transpose by "
       "the identity permutation; Cast to the same dtype; Concat of one input; Pad by zeros; "
       "Slice taking every element with positive steps.",
       CreateRemoveIdentitiesPass},
      {"simplify-algebra", "Apply local algebraic identities.",
       "x*1, 1*x, x/1, x+0, 0+x, x-0 (when the constant does not broadcast x); x-x for "
       "integers; Transpose(Transpose) composed or removed; Reshape/Flatten chains to one "
       "Reshape; a Transpose that only moves size-1 dims becomes a Reshape (element order is "
       "unchanged); Cast(Cast(x)) when the first cast is an exact widening of the same kind. "
       "Transposes of constants are left to fold-constants.",
       CreateSimplifyAlgebraPass},
      {"fold-constants", "Evaluate nodes whose inputs are all constants.",
       "Runs the registry's reference kernel and replaces the node by Constants when every "
       "output shape is known and the output is at most fold_max_output_bytes (1 MiB) or no "
       "larger than its constant inputs. Kernel errors are left for run time.",
       CreateFoldConstantsPass},
      {"eliminate-common-subexpressions", "Merge identical nodes and equal constants.",
       "Same op, attributes and inputs (any order for commutative ops); constants by value. "
       "Input nodes are never merged.",
       CreateEliminateCommonSubexpressionsPass},
      {"eliminate-dead-nodes", "Remove nodes no graph output depends on.",
       "Signature inputs stay even when unused.", CreateEliminateDeadNodesPass},
      {"raise-composite-ops", "Recognize GELU, LayerNorm and Softmax written out op by op.",
       "GELU in erf and tanh forms (any association, x^3 as Pow or products), LayerNorm as "
       "ReduceMean/Sub/Pow-or-Mul/ReduceMean/Add eps/Sqrt-Div or Rsqrt-Mul with optional "
       "gamma and beta, Softmax as Exp/ReduceSum/Div with optional max subtraction. "
       "Constants match to 1e-6 relative; intermediates must have no other readers.",
       CreateRaiseCompositeOpsPass},
      {"fold-batch-norm", "Fold BatchNorm, scales and biases into Conv2D/MatMul weights.",
       "BatchNorm along the output channels of a Conv2D or MatMul with constant weights, a "
       "Mul by a per-channel or scalar constant, and (for Conv2D) an Add/BiasAdd of one, when "
       "the contraction has no other reader. Weights are recomputed in double and rounded "
       "once. A BatchNorm (f32/f64, constant statistics) left over becomes (x - mean) * s + "
       "beta with per-channel constants, for loop fusion.",
       CreateFoldBatchNormPass},
      {"assign-layout", "Run Conv2D and pooling in NHWC with HWIO filters.",
       "Each NCHW layout-selectable op is rewritten to NHWC between a Transpose to NHWC and "
       "one back; sink-transposes, simplify-algebra and fold-constants then remove the pairs "
       "between neighbours and transpose constant filters at compile time.",
       CreateAssignLayoutPass},
      {"sink-transposes", "Move transposes below elementwise, channel-axis and Concat ops.",
       "f(T(x,p)) -> T(f(x),p) for layout-agnostic elementwise ops whose other operands are "
       "transposed the same way, scalars or constants (transposed at compile time), for "
       "channel-axis ops (BatchNorm, BiasAdd) with the axis remapped, and for Concat of "
       "inputs all transposed the same way (or constants) with the axis remapped, so that "
       "inverse transposes meet and cancel.",
       CreateSinkTransposesPass},
      {"fuse-attention", "Fuse scaled dot-product attention into one Fusion.",
       "MatMul, scale (Mul/Div by a scalar), optional mask Add, Softmax over the last axis and "
       "MatMul become an \"attention\" Fusion, absorbing single-use head split/merge "
       "Transpose/Reshape chains.",
       CreateFuseAttentionPass},
      {"fuse-epilogues", "Fuse elementwise epilogues into MatMul and Conv2D.",
       "The single-reader chain of elementwise ops of the contraction's shape (bias, scale, "
       "activation, residual add) joins it in a \"matmul_epilogue\" or \"conv2d_epilogue\" "
       "Fusion, unless an operand depends on the cluster.",
       CreateFuseEpiloguesPass},
      {"fuse-reductions", "Fuse elementwise producers into reductions.",
       "Producers of a reduction's, Softmax's or LayerNorm's input with the input's shape and "
       "no reader outside join it in a \"reduction\" Fusion.",
       CreateFuseReductionsPass},
      {"fuse-elementwise", "Fuse chains of elementwise ops into loop Fusions.",
       "Grown from each consumer up through producers that are elementwise or channel-axis "
       "ops of the same loop shape, read only inside the cluster; broadcast operands are "
       "inputs; Transposes never join (see the cost model in docs/architecture.md).",
       CreateFuseElementwisePass},
      {"fuse-siblings", "Merge loop clusters that read the same tensor.",
       "Loop Fusions or lone elementwise ops with the same loop shape reading a common "
       "tensor, neither depending on the other, become one multi-output loop Fusion.",
       CreateFuseSiblingsPass},
      {"expand-fusions", "Replace every Fusion node by the ops of its body.",
       "The body's nodes join the graph wired to the fusion's inputs (keeping their names "
       "where free) and the fusion's readers read the body's outputs. Compile runs it on "
       "the clusters that no kernel library runs as one kernel, so -O2 still gains folding "
       "and layout where fused kernels are missing; not part of the -O2 pipeline.",
       CreateExpandFusionsPass},
  };
  return *passes;
}

const PassInfo* FindPass(absl::string_view name) {
  for (const PassInfo& info : AllPasses()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

absl::StatusOr<std::vector<std::unique_ptr<Pass>>> CreatePasses(absl::string_view names,
                                                                const PassOptions& options) {
  std::vector<std::unique_ptr<Pass>> passes;
  for (absl::string_view name : absl::StrSplit(names, ',', absl::SkipEmpty())) {
    const PassInfo* info = FindPass(name);
    if (info == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown pass '", name, "'; see --list-passes"));
    }
    passes.push_back(info->create(options));
  }
  return passes;
}

std::string PassReferenceMarkdown() {
  std::string out =
      "# Kiln pass reference\n\n"
      "Generated from the pass table (passes/registry.cc) by `make docs`; do not edit by\n"
      "hand (a test checks that this file matches the table). Run a pass with\n"
      "`kiln opt GRAPH --passes=NAME,...`; `kiln opt -O2` runs the default pipeline\n"
      "(passes/default_pipeline.cc). Each pass lives in passes/NAME_WITH_UNDERSCORES.cc and\n"
      "is tested by tests/passes/NAME_WITH_UNDERSCORES.kgraph.\n\n"
      "| pass | summary |\n|---|---|\n";
  for (const PassInfo& info : AllPasses()) {
    absl::StrAppend(&out, "| [", info.name, "](#", info.name, ") | ", info.summary, " |\n");
  }
  for (const PassInfo& info : AllPasses()) {
    absl::StrAppend(&out, "\n## ", info.name, "\n\n", info.summary, "\n\n", info.description,
                    "\n");
  }
  return out;
}

}  // namespace kiln::passes
