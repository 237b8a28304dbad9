// Helpers shared by the converters of onnx_ops_*.cc (implemented in onnx_ops_shape.cc).
#ifndef KILN_GRAPH_ONNX_ONNX_OPS_UTIL_H_
#define KILN_GRAPH_ONNX_ONNX_OPS_UTIL_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/onnx/onnx_converter.h"

namespace kiln::onnx_import {

// Reshape of `x` to `dims`, which may hold known sizes and the input's unknown sizes: at
// most one -1 may remain (Kiln's Reshape infers one); more is UnimplementedError.
absl::StatusOr<TensorRef> ReshapeTo(NodeContext& ctx, TensorRef x, std::vector<int64_t> dims);

// Normalizes axes in [-rank, rank) to [0, rank); InvalidArgument naming `what` when one is
// out of range or repeated.
absl::StatusOr<std::vector<int64_t>> NormalizeAxes(const std::vector<int64_t>& axes, int rank,
                                                   absl::string_view what);

// The axes of a node that takes them as attribute 'axes' before `input_opset` and as
// input `input_index` from then on; empty when absent.
absl::StatusOr<std::vector<int64_t>> AxesAttrOrInput(NodeContext& ctx, int64_t input_opset,
                                                     int input_index);

// The elementwise Kiln op `op` of two tensors.
absl::StatusOr<TensorRef> Binary(NodeContext& ctx, absl::string_view op, TensorRef a, TensorRef b);
// a op scalar, the scalar of a's dtype.
absl::StatusOr<TensorRef> BinaryScalar(NodeContext& ctx, absl::string_view op, TensorRef a,
                                       double scalar);

// LogSoftmax along `axis` (onnx_ops_nn.cc).
absl::StatusOr<TensorRef> LogSoftmaxAlong(NodeContext& ctx, TensorRef x, int axis);

}  // namespace kiln::onnx_import

#endif  // KILN_GRAPH_ONNX_ONNX_OPS_UTIL_H_
