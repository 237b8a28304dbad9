// The default pipeline on the full-size example models (structure only: running ResNet-50
// or BERT-base on the reference interpreter is too slow for a unit test; the small
// configurations in default_pipeline_test.cc check the numbers). These counts are the
// figures of docs/benchmarks.md.
#include "examples/models.h"
#include "gtest/gtest.h"
#include "passes/default_pipeline.h"
#include "passes/graph_stats.h"

namespace kiln::passes {
namespace {

struct Counts {
  GraphStats before;
  GraphStats after;
};

Counts Optimize(absl::StatusOr<Graph> graph) {
  EXPECT_TRUE(graph.ok()) << graph.status();
  Counts counts;
  counts.before = ComputeGraphStats(*graph);
  PipelineOptions options;
  options.verify_each = true;
  Pipeline pipeline = BuildDefaultPipeline(PassOptions(), options);
  absl::StatusOr<bool> changed = pipeline.Run(*graph);
  EXPECT_TRUE(changed.ok()) << changed.status();
  counts.after = ComputeGraphStats(*graph);
  return counts;
}

TEST(ModelCountsTest, Mlp) {
  Counts c = Optimize(examples::BuildMlp());
  EXPECT_EQ(c.before.nodes, 16);
  EXPECT_EQ(c.before.kernels, 9);
  EXPECT_EQ(c.after.nodes, 10);
  EXPECT_EQ(c.after.kernels, 4);  // three MatMul+bias(+ReLU) epilogues and the Softmax
}

TEST(ModelCountsTest, ResNet50) {
  Counts c = Optimize(examples::BuildResNet50());
  EXPECT_EQ(c.before.nodes, 444);
  EXPECT_EQ(c.before.kernels, 175);
  // 49 conv epilogues (stem and 16 blocks x 3), the fc epilogue, 4 downsample convs,
  // MaxPool, GlobalAvgPool and the one input transpose.
  EXPECT_EQ(c.after.kernels, 57);
  EXPECT_EQ(c.after.fusions, 50);
  EXPECT_EQ(c.after.transposes, 1);
  EXPECT_EQ(c.after.nodes, 167);
}

TEST(ModelCountsTest, BertBase) {
  Counts c = Optimize(examples::BuildBert());
  EXPECT_EQ(c.before.nodes, 553);
  EXPECT_EQ(c.before.kernels, 300);  // 25 per layer
  EXPECT_EQ(c.after.kernels, 9 * 12);
  EXPECT_EQ(c.after.fusions, 7 * 12);
  // The head split/merge transposes (4 per layer) live inside the attention fusions.
  EXPECT_EQ(c.before.transposes, 4 * 12);
  EXPECT_EQ(c.after.transposes, 0);
  EXPECT_EQ(c.after.fused_transposes, 4 * 12);
  EXPECT_EQ(c.after.nodes, 301);
}

TEST(ModelCountsTest, Eltwise) {
  Counts c = Optimize(examples::BuildEltwise());
  EXPECT_EQ(c.before.kernels, 9);
  EXPECT_EQ(c.after.kernels, 1);
}

}  // namespace
}  // namespace kiln::passes
