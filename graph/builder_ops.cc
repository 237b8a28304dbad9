#include "graph/builder_ops.h"

namespace kiln::ops {
namespace {

Value Binary(GraphBuilder& b, absl::string_view op, Value x, Value y) {
  return b.AddOp1(op, {x, y});
}

Value Unary(GraphBuilder& b, absl::string_view op, Value x) { return b.AddOp1(op, {x}); }

Value Reduce(GraphBuilder& b, absl::string_view op, Value x, std::vector<int64_t> axes,
             bool keepdims) {
  return b.AddOp1(op, {x}, {{"axes", std::move(axes)}, {"keepdims", keepdims}});
}

AttrMap PoolAttrs(const PoolOptions& o) {
  return {{"kernel", o.kernel},
          {"strides", o.strides},
          {"pads", o.pads},
          {"data_format", o.data_format}};
}

AttrMap ConvAttrs(const Conv2DOptions& o) {
  return {{"strides", o.strides},         {"pads", o.pads},
          {"dilations", o.dilations},     {"groups", o.groups},
          {"data_format", o.data_format}, {"filter_format", o.filter_format}};
}

}  // namespace

Value Add(GraphBuilder& b, Value x, Value y) { return Binary(b, "Add", x, y); }
Value Sub(GraphBuilder& b, Value x, Value y) { return Binary(b, "Sub", x, y); }
Value Mul(GraphBuilder& b, Value x, Value y) { return Binary(b, "Mul", x, y); }
Value Div(GraphBuilder& b, Value x, Value y) { return Binary(b, "Div", x, y); }
Value Pow(GraphBuilder& b, Value x, Value y) { return Binary(b, "Pow", x, y); }
Value Maximum(GraphBuilder& b, Value x, Value y) { return Binary(b, "Maximum", x, y); }
Value Minimum(GraphBuilder& b, Value x, Value y) { return Binary(b, "Minimum", x, y); }
Value Equal(GraphBuilder& b, Value x, Value y) { return Binary(b, "Equal", x, y); }
Value NotEqual(GraphBuilder& b, Value x, Value y) { return Binary(b, "NotEqual", x, y); }
Value Less(GraphBuilder& b, Value x, Value y) { return Binary(b, "Less", x, y); }
Value LessEqual(GraphBuilder& b, Value x, Value y) { return Binary(b, "LessEqual", x, y); }
Value Greater(GraphBuilder& b, Value x, Value y) { return Binary(b, "Greater", x, y); }
Value GreaterEqual(GraphBuilder& b, Value x, Value y) { return Binary(b, "GreaterEqual", x, y); }
Value Where(GraphBuilder& b, Value condition, Value x, Value y) {
  return b.AddOp1("Where", {condition, x, y});
}

Value Neg(GraphBuilder& b, Value x) { return Unary(b, "Neg", x); }
Value Abs(GraphBuilder& b, Value x) { return Unary(b, "Abs", x); }
Value Exp(GraphBuilder& b, Value x) { return Unary(b, "Exp", x); }
Value Log(GraphBuilder& b, Value x) { return Unary(b, "Log", x); }
Value Sqrt(GraphBuilder& b, Value x) { return Unary(b, "Sqrt", x); }
Value Rsqrt(GraphBuilder& b, Value x) { return Unary(b, "Rsqrt", x); }
Value Tanh(GraphBuilder& b, Value x) { return Unary(b, "Tanh", x); }
Value Sigmoid(GraphBuilder& b, Value x) { return Unary(b, "Sigmoid", x); }
Value Relu(GraphBuilder& b, Value x) { return Unary(b, "Relu", x); }
Value Erf(GraphBuilder& b, Value x) { return Unary(b, "Erf", x); }
Value Identity(GraphBuilder& b, Value x) { return Unary(b, "Identity", x); }
Value Gelu(GraphBuilder& b, Value x, const std::string& approximate) {
  return b.AddOp1("Gelu", {x}, {{"approximate", approximate}});
}
Value Cast(GraphBuilder& b, Value x, DataType to) { return b.AddOp1("Cast", {x}, {{"to", to}}); }

Value ScalarLike(GraphBuilder& b, Value like, double value) {
  absl::StatusOr<Tensor> t = Tensor::Allocate(like.valid() ? like.dtype() : DataType::kF32, Shape{});
  if (!t.ok()) return b.Constant(Tensor::ScalarF32(static_cast<float>(value)));
  t->SetFromDouble(0, value);
  return b.Constant(*std::move(t));
}

Value MatMul(GraphBuilder& b, Value x, Value y, bool transpose_x, bool transpose_y) {
  return b.AddOp1("MatMul", {x, y}, {{"transpose_a", transpose_x}, {"transpose_b", transpose_y}});
}

Value Conv2D(GraphBuilder& b, Value x, Value filter, const Conv2DOptions& options) {
  return b.AddOp1("Conv2D", {x, filter}, ConvAttrs(options));
}
Value Conv2D(GraphBuilder& b, Value x, Value filter, Value bias, const Conv2DOptions& options) {
  return b.AddOp1("Conv2D", {x, filter, bias}, ConvAttrs(options));
}

Value MaxPool(GraphBuilder& b, Value x, const PoolOptions& options) {
  return b.AddOp1("MaxPool", {x}, PoolAttrs(options));
}
Value AvgPool(GraphBuilder& b, Value x, const PoolOptions& options) {
  AttrMap attrs = PoolAttrs(options);
  attrs["count_include_pad"] = options.count_include_pad;
  return b.AddOp1("AvgPool", {x}, std::move(attrs));
}
Value GlobalAvgPool(GraphBuilder& b, Value x, const std::string& data_format) {
  return b.AddOp1("GlobalAvgPool", {x}, {{"data_format", data_format}});
}

Value BatchNorm(GraphBuilder& b, Value x, Value scale, Value bias, Value mean, Value variance,
                double epsilon, int64_t axis) {
  return b.AddOp1("BatchNorm", {x, scale, bias, mean, variance},
                  {{"epsilon", epsilon}, {"axis", axis}});
}
Value LayerNorm(GraphBuilder& b, Value x, Value gamma, Value beta, double epsilon, int64_t axis) {
  return b.AddOp1("LayerNorm", {x, gamma, beta}, {{"epsilon", epsilon}, {"axis", axis}});
}
Value Softmax(GraphBuilder& b, Value x, int64_t axis) {
  return b.AddOp1("Softmax", {x}, {{"axis", axis}});
}
Value BiasAdd(GraphBuilder& b, Value x, Value bias, int64_t axis) {
  return b.AddOp1("BiasAdd", {x, bias}, {{"axis", axis}});
}

Value ReduceSum(GraphBuilder& b, Value x, std::vector<int64_t> axes, bool keepdims) {
  return Reduce(b, "ReduceSum", x, std::move(axes), keepdims);
}
Value ReduceMean(GraphBuilder& b, Value x, std::vector<int64_t> axes, bool keepdims) {
  return Reduce(b, "ReduceMean", x, std::move(axes), keepdims);
}
Value ReduceMax(GraphBuilder& b, Value x, std::vector<int64_t> axes, bool keepdims) {
  return Reduce(b, "ReduceMax", x, std::move(axes), keepdims);
}

Value Reshape(GraphBuilder& b, Value x, std::vector<int64_t> shape) {
  return b.AddOp1("Reshape", {x}, {{"shape", std::move(shape)}});
}
Value Transpose(GraphBuilder& b, Value x, std::vector<int64_t> perm) {
  return b.AddOp1("Transpose", {x}, {{"perm", std::move(perm)}});
}
Value Concat(GraphBuilder& b, const std::vector<Value>& xs, int64_t axis) {
  return b.AddOp1("Concat", xs, {{"axis", axis}});
}
Value Slice(GraphBuilder& b, Value x, std::vector<int64_t> starts, std::vector<int64_t> ends,
            std::vector<int64_t> axes, std::vector<int64_t> steps) {
  return b.AddOp1("Slice", {x},
                  {{"starts", std::move(starts)},
                   {"ends", std::move(ends)},
                   {"axes", std::move(axes)},
                   {"steps", std::move(steps)}});
}
Value Gather(GraphBuilder& b, Value data, Value indices, int64_t axis) {
  return b.AddOp1("Gather", {data, indices}, {{"axis", axis}});
}
Value Pad(GraphBuilder& b, Value x, std::vector<int64_t> pads, double value,
          const std::string& mode) {
  return b.AddOp1("Pad", {x}, {{"pads", std::move(pads)}, {"value", value}, {"mode", mode}});
}
Value Flatten(GraphBuilder& b, Value x, int64_t axis) {
  return b.AddOp1("Flatten", {x}, {{"axis", axis}});
}

}  // namespace kiln::ops
