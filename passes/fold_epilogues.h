// Folding what follows a contraction into it: a ReLU or ReLU6 (a clamp) and, for the ops
// that take them, a bias Add and a residual Add before it. They then run in the kernel's
// registers before its single store of the output, instead of as one more pass over it
// (ONNX Runtime's FusedConv, XLA:CPU's fused GEMM epilogues). Compile applies it after
// packing weights (runtime/compile.cc).
#ifndef KILN_PASSES_FOLD_EPILOGUES_H_
#define KILN_PASSES_FOLD_EPILOGUES_H_

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace kiln::passes {

// For each f32 op with the kClampedOutput trait (Conv2D, PackedConv2D, WinogradConv2D,
// PackedMatMul) whose output has exactly one reader, and no signature output, where that
// reader is a Relu, a Maximum or Minimum with a splat constant, before any clamp an Add
// of a tensor of the output's type (ops with the kEpilogueInputs trait only: their
// `residual` input, with a zero bias added when they had none) or of a constant [N] (their
// `bias`, when they had none), or a loop Fusion whose body is a chain of those from the
// output (ReLU6 is Maximum 0 then Minimum 6 after import and fusion; ResNet's block end is
// Add then Relu). The bounds move into the node's clamp_min / clamp_max attributes and the
// reader's uses onto the node; repeated until the reader is something else. Returns the
// number of readers folded.
absl::StatusOr<int> FoldEpilogues(Graph& graph);

}  // namespace kiln::passes

#endif  // KILN_PASSES_FOLD_EPILOGUES_H_
