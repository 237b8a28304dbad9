// Registration functions of the built-in ops, one per file of graph/ops/. The explicit
// list in register_all_ops.cc is the single place where the op set is assembled.
#ifndef KILN_GRAPH_OPS_REGISTER_OPS_H_
#define KILN_GRAPH_OPS_REGISTER_OPS_H_

#include "graph/op_registry.h"

namespace kiln {

void RegisterSourceOps(OpRegistry& registry);          // Input, Constant, Identity
void RegisterElementwiseOps(OpRegistry& registry);     // unary, binary, compare, Where, Cast
void RegisterMatMulOps(OpRegistry& registry);          // MatMul
void RegisterConvOps(OpRegistry& registry);            // Conv2D
void RegisterPoolOps(OpRegistry& registry);            // MaxPool, AvgPool, GlobalAvgPool
void RegisterNormalizationOps(OpRegistry& registry);   // BatchNorm, LayerNorm, Softmax, BiasAdd
void RegisterReductionOps(OpRegistry& registry);       // ReduceSum, ReduceMean, ReduceMax
void RegisterShapeOps(OpRegistry& registry);  // Reshape, Transpose, Concat, Slice, Gather, Pad, Flatten
void RegisterFusionOps(OpRegistry& registry);          // Fusion
// Trigonometric, rounding, Sign, Softplus, IsNaN, IsInf, Mod, BitShift, Not, And, Or,
// Xor, Det
void RegisterMathExtraOps(OpRegistry& registry);
// ArgMax, ArgMin, CumSum, Trilu, GatherElements, GatherND, ScatterElements, ScatterND,
// TopK, Expand, Tile, ReduceMin, ReduceProd
void RegisterMiscOps(OpRegistry& registry);
void RegisterResizeOps(OpRegistry& registry);  // Resize

// Calls every function above.
void RegisterAllOps(OpRegistry& registry);

}  // namespace kiln

#endif  // KILN_GRAPH_OPS_REGISTER_OPS_H_
