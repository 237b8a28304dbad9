// The suite's example models: architecture (parameter counts that match the reference
// definitions) and numerics on small configurations through a Session.
#include "examples/models.h"

#include <cmath>

#include "gtest/gtest.h"
#include "runtime/session.h"
#include "tests/util/op_test_util.h"

namespace kiln::examples {
namespace {

const Tensor& ConstantNamed(const Graph& g, const std::string& name) {
  return g.node(*g.FindNode(name)).attr<Tensor>("value");
}

int64_t CountOps(const Graph& g, const std::string& op) {
  int64_t n = 0;
  for (const Node& node : g.nodes()) n += node.op == op;
  return n;
}

// Sum of constant elements whose node name ends with one of `suffixes`.
int64_t ParameterCount(const Graph& g, const std::vector<std::string>& suffixes) {
  int64_t n = 0;
  for (const Node& node : g.nodes()) {
    if (node.op != "Constant") continue;
    for (const std::string& s : suffixes) {
      if (node.name.size() >= s.size() &&
          node.name.compare(node.name.size() - s.size(), s.size(), s) == 0) {
        n += node.attr<Tensor>("value").NumElements();
        break;
      }
    }
  }
  return n;
}

std::vector<Tensor> RunModel(const Graph& graph, const Tensor& x) {
  auto session = Session::Create(graph);
  EXPECT_TRUE(session.ok()) << session.status();
  auto result = (*session)->Run({{"x", x}});
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : std::vector<Tensor>{};
}

TEST(ModelsTest, MlpMatchesAHandWrittenForwardPass) {
  MlpConfig config{.in = 5, .hidden = 7, .out = 3, .seed = 4};
  absl::StatusOr<Graph> graph = BuildMlp(config);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->node(graph->inputs()[0]).ints_attr("shape"), (std::vector<int64_t>{-1, 5}));
  Tensor x = testing::RandomTensor(DataType::kF32, Shape{2, 5}, 9);
  std::vector<Tensor> y = RunModel(*graph, x);
  ASSERT_EQ(y.size(), 1u);
  ASSERT_EQ(y[0].shape(), (Shape{2, 3}));

  // relu(relu(x W1 + b1) W2 + b2) W3 + b3, then softmax, in double.
  auto dense = [&](const std::vector<double>& in, int64_t rows, const std::string& layer,
                   bool relu) {
    const Tensor& w = ConstantNamed(*graph, layer + "/weight");
    const Tensor& b = ConstantNamed(*graph, layer + "/bias");
    int64_t k = w.shape().dim(0), n = w.shape().dim(1);
    std::vector<double> out(rows * n);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < n; ++j) {
        double acc = b.GetAsDouble(j);
        for (int64_t i = 0; i < k; ++i) acc += in[r * k + i] * w.GetAsDouble(i * n + j);
        out[r * n + j] = relu ? std::max(acc, 0.0) : acc;
      }
    }
    return out;
  };
  std::vector<double> h = dense(testing::Values(x), 2, "fc1", true);
  h = dense(h, 2, "fc2", true);
  std::vector<double> logits = dense(h, 2, "fc3", false);
  for (int r = 0; r < 2; ++r) {
    double max = std::max({logits[r * 3], logits[r * 3 + 1], logits[r * 3 + 2]});
    double sum = 0;
    for (int j = 0; j < 3; ++j) sum += std::exp(logits[r * 3 + j] - max);
    for (int j = 0; j < 3; ++j) {
      // f32 through three layers of width <= 7: errors stay far below 1e-5.
      EXPECT_NEAR(y[0].GetAsDouble(r * 3 + j), std::exp(logits[r * 3 + j] - max) / sum, 1e-5);
    }
  }
}

TEST(ModelsTest, MlpDefaultSizes) {
  absl::StatusOr<Graph> graph = BuildMlp();
  ASSERT_TRUE(graph.ok()) << graph.status();
  // 784*2048 + 2048 + 2048*2048 + 2048 + 2048*10 + 10
  EXPECT_EQ(ParameterCount(*graph, {"/weight", "/bias"}), 5824522);
  EXPECT_EQ(graph->type(graph->outputs()[0].tensor).shape, (Shape{-1, 10}));
}

TEST(ModelsTest, EltwiseMatchesTheFormula) {
  absl::StatusOr<Graph> graph = BuildEltwise();
  ASSERT_TRUE(graph.ok()) << graph.status();
  Tensor x = testing::RandomTensor(DataType::kF32, Shape{1001}, 3, -4, 4);
  std::vector<Tensor> y = RunModel(*graph, x);
  ASSERT_EQ(y.size(), 1u);
  for (int64_t i = 0; i < 1001; ++i) {
    double v = x.GetAsDouble(i);
    double want = std::tanh(v * kEltwiseA + kEltwiseB) / (1 + std::exp(-v)) + v * v - 0.5 * v;
    // Each f32 op rounds once (relative 6e-8); a few ops on values up to 16 stay below 1e-5.
    EXPECT_NEAR(y[0].GetAsDouble(i), want, 1e-5 * std::max(1.0, std::abs(want))) << i;
  }
}

TEST(ModelsTest, ResNet50HasTorchvisionsArchitecture) {
  absl::StatusOr<Graph> graph = BuildResNet50();
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(CountOps(*graph, "Conv2D"), 53);
  EXPECT_EQ(CountOps(*graph, "BatchNorm"), 53);
  EXPECT_EQ(CountOps(*graph, "MatMul"), 1);
  EXPECT_EQ(CountOps(*graph, "MaxPool"), 1);
  // torchvision.models.resnet50() has 25,557,032 parameters (running statistics excluded).
  EXPECT_EQ(ParameterCount(*graph, {"/filter", "/bn_scale", "/bn_bias", "/weight", "/bias"}),
            25557032);
  EXPECT_EQ(graph->type(graph->outputs()[0].tensor).shape, (Shape{-1, 1000}));
}

TEST(ModelsTest, SmallResNetRunsAndIsDeterministic) {
  ResNetConfig config;
  config.image = 32;
  config.base_width = 4;
  for (int64_t& b : config.blocks) b = 1;
  config.classes = 10;
  absl::StatusOr<Graph> a = BuildResNet50(config);
  absl::StatusOr<Graph> b = BuildResNet50(config);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status();
  Tensor x = testing::RandomTensor(DataType::kF32, Shape{2, 3, 32, 32}, 5);
  std::vector<Tensor> ya = RunModel(*a, x);
  std::vector<Tensor> yb = RunModel(*b, x);
  ASSERT_EQ(ya.size(), 1u);
  ASSERT_EQ(ya[0].shape(), (Shape{2, 10}));
  EXPECT_EQ(testing::Values(ya[0]), testing::Values(yb[0]));
  for (double v : testing::Values(ya[0])) EXPECT_TRUE(std::isfinite(v));
}

TEST(ModelsTest, BertBaseHasTheRightSize) {
  absl::StatusOr<Graph> graph = BuildBert();
  ASSERT_TRUE(graph.ok()) << graph.status();
  // Per layer: 4 dense 768x768 (+bias), 768x3072 (+bias), 3072x768 (+bias), 2 LayerNorms.
  int64_t per_layer = 4 * (768 * 768 + 768) + (768 * 3072 + 3072) + (3072 * 768 + 768) + 2 * 2 * 768;
  EXPECT_EQ(ParameterCount(*graph, {"/weight", "/bias", "/gamma", "/beta"}), 12 * per_layer);
  EXPECT_EQ(CountOps(*graph, "LayerNorm"), 24);
  EXPECT_EQ(CountOps(*graph, "Softmax"), 12);
  EXPECT_EQ(graph->type(graph->outputs()[0].tensor).shape, (Shape{-1, 128, 768}));
}

TEST(ModelsTest, SmallBertOutputIsLayerNormalized) {
  BertConfig config{.layers = 2, .hidden = 16, .heads = 4, .ffn = 32, .seq = 5, .seed = 2};
  absl::StatusOr<Graph> graph = BuildBert(config);
  ASSERT_TRUE(graph.ok()) << graph.status();
  Tensor x = testing::RandomTensor(DataType::kF32, Shape{3, 5, 16}, 8);
  std::vector<Tensor> y = RunModel(*graph, x);
  ASSERT_EQ(y.size(), 1u);
  ASSERT_EQ(y[0].shape(), (Shape{3, 5, 16}));
  // The last op is LayerNorm: (y - beta) / gamma has mean 0 and variance 1 per token.
  const Tensor& gamma = ConstantNamed(*graph, "layer1/output_norm/gamma");
  const Tensor& beta = ConstantNamed(*graph, "layer1/output_norm/beta");
  for (int64_t token = 0; token < 15; ++token) {
    double sum = 0, sq = 0;
    for (int64_t h = 0; h < 16; ++h) {
      double z = (y[0].GetAsDouble(token * 16 + h) - beta.GetAsDouble(h)) / gamma.GetAsDouble(h);
      sum += z;
      sq += z * z;
    }
    EXPECT_NEAR(sum / 16, 0.0, 1e-5);
    EXPECT_NEAR(sq / 16, 1.0, 1e-4);
  }
  EXPECT_FALSE(BuildBert(BertConfig{.hidden = 10, .heads = 3}).ok());
}

}  // namespace
}  // namespace kiln::examples
