// Helpers shared by op definitions: broadcasting index maps and attribute checks.
#ifndef KILN_GRAPH_OPS_OP_UTIL_H_
#define KILN_GRAPH_OPS_OP_UTIL_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "graph/op_registry.h"
#include "base/shape.h"
#include "base/tensor.h"

namespace kiln {

// Maps flat indices of a broadcast output to flat indices of one input (NumPy rules).
// Construct once per kernel call; Map() is O(rank).
class BroadcastIndexer {
 public:
  BroadcastIndexer(const Shape& input, const Shape& output);
  int64_t Map(int64_t out_index) const;

 private:
  std::vector<int64_t> out_dims_;
  std::vector<int64_t> in_strides_;  // 0 on broadcast dimensions
};

// The common error for an input whose dtype must equal input 0's.
absl::Status CheckSameDtype(const InferContext& ctx, int input);

// A folded residual: when input `index` is given, it must have output 0's type exactly
// (it is added element by element); the error names input 'residual'.
absl::Status CheckResidualInput(const InferContext& ctx, size_t index);

// Clamps every element of `out` to the node's [clamp_min, clamp_max] attributes (absent:
// unbounded) as max then min, so NaN stays NaN: the reference of a ReLU or ReLU6 folded
// into a contraction (PackedMatMul, PackedConv2D).
void ClampOutput(const Node& node, Tensor& out);

// Registers `def` into `registry`; a failure is a programming error in the op table.
void MustRegister(OpRegistry& registry, OpDef def);

}  // namespace kiln

#endif  // KILN_GRAPH_OPS_OP_UTIL_H_
