// Typed op functions for GraphBuilder: kiln::ops::MatMul(b, x, w) and friends. Each adds
// one node and checks its shapes at once (see GraphBuilder for error handling). Attribute
// meanings are those of the op reference (docs/ops.md).
#ifndef KILN_GRAPH_BUILDER_OPS_H_
#define KILN_GRAPH_BUILDER_OPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "graph/builder.h"

namespace kiln::ops {

// Elementwise binary ops with NumPy broadcasting; both inputs share one dtype.
Value Add(GraphBuilder& b, Value x, Value y);
Value Sub(GraphBuilder& b, Value x, Value y);
Value Mul(GraphBuilder& b, Value x, Value y);
Value Div(GraphBuilder& b, Value x, Value y);
Value Pow(GraphBuilder& b, Value x, Value y);
Value Maximum(GraphBuilder& b, Value x, Value y);
Value Minimum(GraphBuilder& b, Value x, Value y);

// Comparisons (bool result) and selection.
Value Equal(GraphBuilder& b, Value x, Value y);
Value NotEqual(GraphBuilder& b, Value x, Value y);
Value Less(GraphBuilder& b, Value x, Value y);
Value LessEqual(GraphBuilder& b, Value x, Value y);
Value Greater(GraphBuilder& b, Value x, Value y);
Value GreaterEqual(GraphBuilder& b, Value x, Value y);
Value Where(GraphBuilder& b, Value condition, Value x, Value y);

// Elementwise unary ops.
Value Neg(GraphBuilder& b, Value x);
Value Abs(GraphBuilder& b, Value x);
Value Exp(GraphBuilder& b, Value x);
Value Log(GraphBuilder& b, Value x);
Value Sqrt(GraphBuilder& b, Value x);
Value Rsqrt(GraphBuilder& b, Value x);
Value Tanh(GraphBuilder& b, Value x);
Value Sigmoid(GraphBuilder& b, Value x);
Value Relu(GraphBuilder& b, Value x);
Value Erf(GraphBuilder& b, Value x);
// approximate: "none" (erf form) or "tanh".
Value Gelu(GraphBuilder& b, Value x, const std::string& approximate = "none");
Value Cast(GraphBuilder& b, Value x, DataType to);
Value Identity(GraphBuilder& b, Value x);

// A scalar constant of `like`'s dtype, for use with broadcasting ops.
Value ScalarLike(GraphBuilder& b, Value like, double value);

// Batched matrix product over the last two dimensions; batch dimensions broadcast.
Value MatMul(GraphBuilder& b, Value x, Value y, bool transpose_x = false,
             bool transpose_y = false);

struct Conv2DOptions {
  std::vector<int64_t> strides = {1, 1};
  std::vector<int64_t> pads = {0, 0, 0, 0};  // top, left, bottom, right
  std::vector<int64_t> dilations = {1, 1};
  int64_t groups = 1;
  std::string data_format = "NCHW";    // or "NHWC"
  std::string filter_format = "OIHW";  // or "HWIO"
};
// 2-D convolution; `bias` (one value per output channel) is optional.
Value Conv2D(GraphBuilder& b, Value x, Value filter, const Conv2DOptions& options = {});
Value Conv2D(GraphBuilder& b, Value x, Value filter, Value bias, const Conv2DOptions& options);

struct PoolOptions {
  std::vector<int64_t> kernel;                // kh, kw (required)
  std::vector<int64_t> strides = {1, 1};
  std::vector<int64_t> pads = {0, 0, 0, 0};   // top, left, bottom, right
  std::string data_format = "NCHW";
  bool count_include_pad = false;             // AvgPool only
};
Value MaxPool(GraphBuilder& b, Value x, const PoolOptions& options);
Value AvgPool(GraphBuilder& b, Value x, const PoolOptions& options);
// Mean over the spatial dimensions, kept as size 1.
Value GlobalAvgPool(GraphBuilder& b, Value x, const std::string& data_format = "NCHW");

// Inference batch normalization along channel `axis`.
Value BatchNorm(GraphBuilder& b, Value x, Value scale, Value bias, Value mean, Value variance,
                double epsilon = 1e-5, int64_t axis = 1);
// Normalizes over dimensions [axis, rank); gamma and beta have those dimensions.
Value LayerNorm(GraphBuilder& b, Value x, Value gamma, Value beta, double epsilon = 1e-5,
                int64_t axis = -1);
Value Softmax(GraphBuilder& b, Value x, int64_t axis = -1);
// Adds a 1-D bias along `axis`.
Value BiasAdd(GraphBuilder& b, Value x, Value bias, int64_t axis = -1);

// Reductions over `axes` (empty: all).
Value ReduceSum(GraphBuilder& b, Value x, std::vector<int64_t> axes, bool keepdims = false);
Value ReduceMean(GraphBuilder& b, Value x, std::vector<int64_t> axes, bool keepdims = false);
Value ReduceMax(GraphBuilder& b, Value x, std::vector<int64_t> axes, bool keepdims = false);

// Shape and data movement.
Value Reshape(GraphBuilder& b, Value x, std::vector<int64_t> shape);  // one -1 allowed
Value Transpose(GraphBuilder& b, Value x, std::vector<int64_t> perm);
Value Concat(GraphBuilder& b, const std::vector<Value>& xs, int64_t axis);
// NumPy-style slicing; empty axes means 0..n-1, empty steps means all 1.
Value Slice(GraphBuilder& b, Value x, std::vector<int64_t> starts, std::vector<int64_t> ends,
            std::vector<int64_t> axes = {}, std::vector<int64_t> steps = {});
Value Gather(GraphBuilder& b, Value data, Value indices, int64_t axis = 0);
// pads: begins of every dimension, then ends (ONNX order). mode: constant, reflect, edge.
Value Pad(GraphBuilder& b, Value x, std::vector<int64_t> pads, double value = 0.0,
          const std::string& mode = "constant");
Value Flatten(GraphBuilder& b, Value x, int64_t axis = 1);

}  // namespace kiln::ops

#endif  // KILN_GRAPH_BUILDER_OPS_H_
