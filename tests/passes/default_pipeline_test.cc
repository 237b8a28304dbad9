// The default pipeline (-O2) on the example models at small sizes: the optimized graph
// gives the same outputs on the reference interpreter, and its structure is what the
// passes promise (kernels per model, transposes left). Full-size counts are in
// model_counts_test.cc.
#include "passes/default_pipeline.h"

#include "examples/models.h"
#include "graph/fusion.h"
#include "gtest/gtest.h"
#include "passes/graph_stats.h"
#include "tests/util/pass_test_util.h"

namespace kiln::passes {
namespace {

Graph Optimize(const Graph& graph) {
  PipelineOptions options;
  options.verify_each = true;
  Pipeline pipeline = BuildDefaultPipeline(PassOptions(), options);
  Graph optimized = graph;
  absl::StatusOr<bool> changed = pipeline.Run(optimized);
  EXPECT_TRUE(changed.ok()) << changed.status();
  return optimized;
}

int CountKind(const Graph& graph, absl::string_view kind) {
  int n = 0;
  for (const Node& node : graph.nodes()) {
    if (FusionBody(node) != nullptr && node.string_attr(kFusionKindAttr) == kind) ++n;
  }
  return n;
}

TEST(DefaultPipelineTest, EltwiseBecomesOneLoop) {
  Graph graph = *examples::BuildEltwise();
  Graph optimized = Optimize(graph);
  GraphStats stats = ComputeGraphStats(optimized);
  EXPECT_EQ(stats.kernels, 1);
  EXPECT_EQ(CountKind(optimized, "loop"), 1);
  EXPECT_EQ(stats.nodes, 2);  // the input and the fusion
  absl::Status same = testing::CompareGraphsNumerically(graph, optimized, 3, 64);
  EXPECT_TRUE(same.ok()) << same;
}

TEST(DefaultPipelineTest, MlpIsThreeEpiloguesAndASoftmax) {
  examples::MlpConfig config;
  config.in = 12;
  config.hidden = 16;
  config.out = 5;
  Graph graph = *examples::BuildMlp(config);
  Graph optimized = Optimize(graph);
  GraphStats stats = ComputeGraphStats(optimized);
  EXPECT_EQ(CountKind(optimized, "matmul_epilogue"), 3);
  EXPECT_EQ(stats.kernels, 4);
  absl::Status same = testing::CompareGraphsNumerically(graph, optimized, 5, 3);
  EXPECT_TRUE(same.ok()) << same;
}

TEST(DefaultPipelineTest, SmallResNetKeepsOneTransposeAndMatchesNumerically) {
  examples::ResNetConfig config;
  config.image = 16;
  config.base_width = 4;
  config.blocks[0] = 1;
  config.blocks[1] = 1;
  config.blocks[2] = 1;
  config.blocks[3] = 1;
  config.classes = 7;
  Graph graph = *examples::BuildResNet50(config);
  Graph optimized = Optimize(graph);
  GraphStats stats = ComputeGraphStats(optimized);
  // One layout change at the input; the output is [N, classes], reached by a Reshape.
  EXPECT_EQ(stats.transposes, 1);
  int nhwc = 0;
  for (const Node& node : optimized.nodes()) {
    EXPECT_NE(node.op, "BatchNorm") << node.name;
    if (node.HasAttr("data_format")) nhwc += node.string_attr("data_format") == "NHWC";
    if (const Graph* body = FusionBody(node)) {
      for (const Node& inner : body->nodes()) {
        if (inner.HasAttr("data_format")) nhwc += inner.string_attr("data_format") == "NHWC";
      }
    }
  }
  // 1 stem + 4 blocks x 3 + 4 downsample convs, MaxPool and GlobalAvgPool.
  EXPECT_EQ(nhwc, 1 + 12 + 4 + 2);
  // Per block: conv1+relu, conv2+relu, conv3+add+relu; the stem conv+relu; fc matmul+bias.
  EXPECT_EQ(CountKind(optimized, "conv2d_epilogue"), 13);
  EXPECT_EQ(CountKind(optimized, "matmul_epilogue"), 1);
  // + 4 downsample convs, MaxPool, GlobalAvgPool and the input transpose.
  EXPECT_EQ(stats.kernels, 14 + 4 + 3);
  absl::Status same = testing::CompareGraphsNumerically(graph, optimized, 7, 2);
  EXPECT_TRUE(same.ok()) << same;
}

TEST(DefaultPipelineTest, SmallBertLayerIsNineKernels) {
  examples::BertConfig config;
  config.layers = 2;
  config.hidden = 16;
  config.heads = 2;
  config.ffn = 32;
  config.seq = 4;
  Graph graph = *examples::BuildBert(config);
  Graph optimized = Optimize(graph);
  GraphStats stats = ComputeGraphStats(optimized);
  // Per layer: q, k, v, attention output, intermediate (+GELU), output (+residual)
  // epilogues; one attention fusion (head split/merge absorbed); two LayerNorms.
  EXPECT_EQ(CountKind(optimized, "attention"), 2);
  EXPECT_EQ(CountKind(optimized, "matmul_epilogue"), 12);
  EXPECT_EQ(stats.kernels, 9 * 2);
  absl::Status same = testing::CompareGraphsNumerically(graph, optimized, 9, 2);
  EXPECT_TRUE(same.ok()) << same;
}

}  // namespace
}  // namespace kiln::passes
