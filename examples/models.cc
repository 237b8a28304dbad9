#include "examples/models.h"

#include <cmath>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"

namespace kiln::examples {
namespace {

// Weights drawn from one seeded generator, so every build of a model is identical.
class WeightSource {
 public:
  explicit WeightSource(uint64_t seed) : rng_(seed) {}

  // Normal(0, stddev) weights.
  Tensor Normal(const Shape& shape, double stddev) {
    Tensor t = Tensor::Allocate(DataType::kF32, shape).value();
    std::normal_distribution<float> dist(0.0f, static_cast<float>(stddev));
    float* data = t.data<float>();
    for (int64_t i = 0; i < t.NumElements(); ++i) data[i] = dist(rng_);
    return t;
  }
  // Uniform[lo, hi) weights.
  Tensor Uniform(const Shape& shape, double lo, double hi) {
    Tensor t = Tensor::Allocate(DataType::kF32, shape).value();
    std::uniform_real_distribution<float> dist(static_cast<float>(lo), static_cast<float>(hi));
    float* data = t.data<float>();
    for (int64_t i = 0; i < t.NumElements(); ++i) data[i] = dist(rng_);
    return t;
  }

 private:
  std::mt19937_64 rng_;
};

// x @ W + b with He-scaled weights (keeps activations O(1) through deep stacks).
Value Dense(GraphBuilder& b, WeightSource& w, Value x, int64_t in, int64_t out,
            const std::string& name) {
  Value weight = b.Constant(w.Normal(Shape{in, out}, std::sqrt(2.0 / in)), name + "/weight");
  Value bias = b.Constant(w.Normal(Shape{out}, 0.01), name + "/bias");
  return ops::Add(b, ops::MatMul(b, x, weight), bias);
}

// Conv (no bias) followed by inference BatchNorm, as torchvision writes ResNet.
Value ConvBn(GraphBuilder& b, WeightSource& w, Value x, int64_t in, int64_t out, int64_t k,
             int64_t stride, const std::string& name) {
  ops::Conv2DOptions conv;
  conv.strides = {stride, stride};
  int64_t pad = k / 2;
  conv.pads = {pad, pad, pad, pad};
  Value filter = b.Constant(w.Normal(Shape{out, in, k, k}, std::sqrt(2.0 / (in * k * k))),
                            name + "/filter");
  b.set_name_scope(name);
  Value y = ops::Conv2D(b, x, filter, conv);
  Value scale = b.Constant(w.Uniform(Shape{out}, 0.5, 1.0), name + "/bn_scale");
  Value shift = b.Constant(w.Normal(Shape{out}, 0.05), name + "/bn_bias");
  Value mean = b.Constant(w.Normal(Shape{out}, 0.05), name + "/bn_mean");
  Value var = b.Constant(w.Uniform(Shape{out}, 0.5, 1.5), name + "/bn_var");
  y = ops::BatchNorm(b, y, scale, shift, mean, var, 1e-5, 1);
  b.set_name_scope("");
  return y;
}

Value Bottleneck(GraphBuilder& b, WeightSource& w, Value x, int64_t in, int64_t width,
                 int64_t stride, const std::string& name) {
  int64_t out = width * 4;
  Value y = ops::Relu(b, ConvBn(b, w, x, in, width, 1, 1, name + "/conv1"));
  y = ops::Relu(b, ConvBn(b, w, y, width, width, 3, stride, name + "/conv2"));
  y = ConvBn(b, w, y, width, out, 1, 1, name + "/conv3");
  Value shortcut = x;
  if (stride != 1 || in != out) shortcut = ConvBn(b, w, x, in, out, 1, stride, name + "/downsample");
  return ops::Relu(b, ops::Add(b, y, shortcut));
}

Value EncoderLayer(GraphBuilder& b, WeightSource& w, Value x, const BertConfig& c,
                   const std::string& name) {
  int64_t head_dim = c.hidden / c.heads;
  auto split_heads = [&](Value t) {  // [B,S,H] -> [B,heads,S,dh]
    return ops::Transpose(b, ops::Reshape(b, t, {-1, c.seq, c.heads, head_dim}), {0, 2, 1, 3});
  };
  Value q = split_heads(Dense(b, w, x, c.hidden, c.hidden, name + "/query"));
  Value k = split_heads(Dense(b, w, x, c.hidden, c.hidden, name + "/key"));
  Value v = split_heads(Dense(b, w, x, c.hidden, c.hidden, name + "/value"));
  Value scores = ops::MatMul(b, q, k, false, /*transpose_y=*/true);
  scores = ops::Mul(b, scores, ops::ScalarLike(b, scores, 1.0 / std::sqrt(double(head_dim))));
  Value probs = ops::Softmax(b, scores, -1);
  Value context = ops::MatMul(b, probs, v);  // [B,heads,S,dh]
  context = ops::Reshape(b, ops::Transpose(b, context, {0, 2, 1, 3}), {-1, c.seq, c.hidden});
  Value attention = Dense(b, w, context, c.hidden, c.hidden, name + "/attention_output");
  auto layer_norm = [&](Value t, const std::string& ln) {
    Value gamma = b.Constant(w.Uniform(Shape{c.hidden}, 0.9, 1.1), ln + "/gamma");
    Value beta = b.Constant(w.Normal(Shape{c.hidden}, 0.02), ln + "/beta");
    return ops::LayerNorm(b, t, gamma, beta, 1e-12, -1);
  };
  Value x1 = layer_norm(ops::Add(b, x, attention), name + "/attention_norm");
  Value hidden = ops::Gelu(b, Dense(b, w, x1, c.hidden, c.ffn, name + "/intermediate"), "none");
  Value ffn = Dense(b, w, hidden, c.ffn, c.hidden, name + "/output");
  return layer_norm(ops::Add(b, x1, ffn), name + "/output_norm");
}

}  // namespace

absl::StatusOr<Graph> BuildMlp(const MlpConfig& config) {
  GraphBuilder b;
  WeightSource w(config.seed);
  Value x = b.Input("x", DataType::kF32, Shape{-1, config.in});
  Value h = ops::Relu(b, Dense(b, w, x, config.in, config.hidden, "fc1"));
  h = ops::Relu(b, Dense(b, w, h, config.hidden, config.hidden, "fc2"));
  Value logits = Dense(b, w, h, config.hidden, config.out, "fc3");
  b.Output("y", ops::Softmax(b, logits, -1));
  return b.BuildGraph();
}

absl::StatusOr<Graph> BuildResNet50(const ResNetConfig& config) {
  GraphBuilder b;
  WeightSource w(config.seed);
  Value x = b.Input("x", DataType::kF32, Shape{-1, 3, config.image, config.image});
  int64_t base = config.base_width;
  Value y = ops::Relu(b, ConvBn(b, w, x, 3, base, 7, 2, "stem"));
  ops::PoolOptions pool;
  pool.kernel = {3, 3};
  pool.strides = {2, 2};
  pool.pads = {1, 1, 1, 1};
  y = ops::MaxPool(b, y, pool);
  int64_t channels = base;
  for (int stage = 0; stage < 4; ++stage) {
    int64_t width = base << stage;
    for (int64_t block = 0; block < config.blocks[stage]; ++block) {
      int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
      y = Bottleneck(b, w, y, channels, width, stride,
                     absl::StrCat("layer", stage + 1, "/block", block));
      channels = width * 4;
    }
  }
  y = ops::Flatten(b, ops::GlobalAvgPool(b, y), 1);
  b.Output("y", Dense(b, w, y, channels, config.classes, "fc"));
  return b.BuildGraph();
}

absl::StatusOr<Graph> BuildBert(const BertConfig& config) {
  if (config.heads <= 0 || config.hidden % config.heads != 0) {
    return absl::InvalidArgumentError("BertConfig: hidden must be a multiple of heads");
  }
  GraphBuilder b;
  WeightSource w(config.seed);
  Value x = b.Input("x", DataType::kF32, Shape{-1, config.seq, config.hidden});
  Value y = x;
  for (int64_t layer = 0; layer < config.layers; ++layer) {
    y = EncoderLayer(b, w, y, config, absl::StrCat("layer", layer));
  }
  b.Output("y", y);
  return b.BuildGraph();
}

absl::StatusOr<Graph> BuildEltwise() {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{-1});
  Value a = ops::ScalarLike(b, x, kEltwiseA);
  Value bias = ops::ScalarLike(b, x, kEltwiseB);
  Value t = ops::Mul(b, ops::Tanh(b, ops::Add(b, ops::Mul(b, x, a), bias)), ops::Sigmoid(b, x));
  Value y = ops::Sub(b, ops::Add(b, t, ops::Mul(b, x, x)), ops::Mul(b, ops::ScalarLike(b, x, 0.5), x));
  b.Output("y", y);
  return b.BuildGraph();
}

}  // namespace kiln::examples
