// Outlining node sets into Fusion nodes and inlining them back.
#include "passes/cluster.h"

#include "graph/fusion.h"
#include "graph/text_format.h"
#include "gtest/gtest.h"
#include "tests/util/pass_test_util.h"

namespace kiln::passes {
namespace {

constexpr char kGraph[] = R"(graph(%x: f32[-1,4], %w: f32[4,4]) {
  %c = Constant() {value = f32[]{2}}
  %a = Mul(%x, %c)
  %b = Exp(%a)
  %m = MatMul(%a, %w)
  %s = Add(%b, %m)
  return y = %s, b = %b
})";

TEST(ClusterTest, OutlineMakesInputsOutputsAndInlinesSmallConstants) {
  Graph graph = *ParseGraph(kGraph);
  Graph original = graph;
  std::vector<int> members = {*graph.FindNode("a"), *graph.FindNode("b")};
  absl::StatusOr<int> fusion = OutlineCluster(graph, members, FusionKind::kLoop, "f", 16);
  ASSERT_TRUE(fusion.ok()) << fusion.status();
  const Node& f = graph.node(*fusion);
  ASSERT_NE(FusionBody(f), nullptr);
  EXPECT_EQ(f.inputs.size(), 1u);  // x; the scalar constant moved into the body
  // a is read by the MatMul and b by Add and the signature: two outputs.
  EXPECT_EQ(f.outputs.size(), 2u);
  EXPECT_EQ(FusionBody(f)->num_nodes(), 4);  // in0, c, a, b
  EXPECT_FALSE(graph.FindNode("a").has_value());
  absl::Status same = testing::CompareGraphsNumerically(original, graph);
  EXPECT_TRUE(same.ok()) << same;

  absl::StatusOr<std::vector<int>> inlined = InlineFusion(graph, *graph.FindNode("f"));
  ASSERT_TRUE(inlined.ok()) << inlined.status();
  EXPECT_EQ(inlined->size(), 3u);  // c, a, b
  EXPECT_FALSE(graph.FindNode("f").has_value());
  same = testing::CompareGraphsNumerically(original, graph);
  EXPECT_TRUE(same.ok()) << same;
}

TEST(ClusterTest, RejectsNonConvexClusters) {
  Graph graph = *ParseGraph(kGraph);
  // a -> m (outside) -> s: {a, s} would read its own output through m.
  std::vector<int> members = {*graph.FindNode("a"), *graph.FindNode("s")};
  absl::StatusOr<int> fusion = OutlineCluster(graph, members, FusionKind::kLoop, "f", 16);
  ASSERT_FALSE(fusion.ok());
  EXPECT_EQ(fusion.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(fusion.status().message().find("not convex"), std::string::npos);
  EXPECT_TRUE(graph.FindNode("a").has_value());  // unchanged
}

TEST(ClusterTest, LargeConstantsBecomeInputs) {
  Graph graph = *ParseGraph(kGraph);
  std::vector<int> members = {*graph.FindNode("a")};
  absl::StatusOr<int> fusion = OutlineCluster(graph, members, FusionKind::kLoop, "f", 0);
  ASSERT_TRUE(fusion.ok());
  EXPECT_EQ(graph.node(*fusion).inputs.size(), 2u);
}

}  // namespace
}  // namespace kiln::passes
