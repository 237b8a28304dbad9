// Folding a ReLU or ReLU6 that follows a convolution or packed MatMul into it: the clamp then runs in
// the GEMM's registers before its single store of C, instead of as one more pass over the
// output (ONNX Runtime's FusedConv, XLA:CPU's fused GEMM epilogues). Compile applies it
// after packing weights (runtime/compile.cc).
#ifndef KILN_PASSES_FOLD_CLAMPS_H_
#define KILN_PASSES_FOLD_CLAMPS_H_

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace kiln::passes {

// For each f32 PackedConv2D, PackedMatMul and Conv2D (depthwise and grouped convolutions
// stay Conv2D) whose output has exactly one reader, and no
// signature output, where that reader clamps it: Relu, Maximum or Minimum with a splat
// constant, or a loop Fusion whose body is a chain of those from the output (ReLU6 is
// Maximum 0 then Minimum 6 after import and fusion). The bounds move into the node's
// clamp_min / clamp_max attributes and the reader's uses onto the node; repeated until
// the reader is something else. Returns the number of readers folded.
absl::StatusOr<int> FoldClampsIntoPackedGemms(Graph& graph);

}  // namespace kiln::passes

#endif  // KILN_PASSES_FOLD_CLAMPS_H_
