// Rewrite utilities: uses, rewiring, insertion with inference, dead-node removal with
// compaction, topological sorting, constant queries.
#include "graph/graph_rewrite.h"

#include "gtest/gtest.h"
#include "graph/text_format.h"

namespace kiln {
namespace {

Graph Parse(const char* text) {
  absl::StatusOr<Graph> graph = ParseGraph(text);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return graph.ok() ? *std::move(graph) : Graph();
}

constexpr char kDiamond[] = R"(graph(%x: f32[2], %unused: f32[1]) {
  %a = Relu(%x)
  %b = Neg(%x)
  %dead = Exp(%a)
  %s = Add(%a, %a)
  %t = Mul(%s, %b)
  return y = %t, z = %a
})";

TEST(GraphRewriteTest, UsesCountEdgesAndOutputs) {
  Graph g = Parse(kDiamond);
  UseInfo uses = ComputeUses(g);
  int a = *g.FindNode("a");
  EXPECT_EQ(uses.NumUses(g, {a, 0}), 4);  // dead, s twice, output z
  EXPECT_EQ(uses.DistinctConsumers(a).size(), 2u);
  EXPECT_TRUE(uses.is_output[a]);
  EXPECT_FALSE(uses.is_output[*g.FindNode("b")]);
}

TEST(GraphRewriteTest, ReplaceAllUsesRewiresInputsAndSignature) {
  Graph g = Parse(kDiamond);
  int a = *g.FindNode("a");
  int b = *g.FindNode("b");
  int s = *g.FindNode("s");
  EXPECT_EQ(ReplaceAllUses(g, {a, 0}, {b, 0}, /*except=*/s), 2);  // dead and output z
  EXPECT_EQ(g.node(s).inputs[0].node, a);
  EXPECT_EQ(g.outputs()[1].tensor.node, b);
}

TEST(GraphRewriteTest, RemoveDeadNodesCompactsAndKeepsSignatureInputs) {
  Graph g = Parse(kDiamond);
  EXPECT_EQ(RemoveDeadNodes(g), 1);
  EXPECT_FALSE(g.FindNode("dead").has_value());
  ASSERT_TRUE(g.FindNode("unused").has_value());
  EXPECT_EQ(g.inputs().size(), 2u);
  // References were renumbered: the graph still verifies and prints the same nodes.
  EXPECT_TRUE(ParseGraph(PrintGraph(g)).ok());
  EXPECT_EQ(g.node(*g.FindNode("t")).inputs[1].node, *g.FindNode("b"));
  EXPECT_EQ(RemoveDeadNodes(g), 0);
}

TEST(GraphRewriteTest, AddNodeInferredRollsBackOnError) {
  Graph g = Parse(kDiamond);
  int n = g.num_nodes();
  absl::StatusOr<int> bad = AddNodeInferred(g, "bad", "Add", {{0, 0}, {1, 0}});  // [2] + [1] ok
  ASSERT_TRUE(bad.ok());
  absl::StatusOr<int> worse =
      AddNodeInferred(g, "worse", "MatMul", {{0, 0}, {0, 0}});  // rank 1: rejected
  ASSERT_FALSE(worse.ok());
  EXPECT_NE(worse.status().message().find("node 'worse' (MatMul)"), std::string::npos);
  EXPECT_EQ(g.num_nodes(), n + 1);
  EXPECT_FALSE(g.FindNode("worse").has_value());
  absl::StatusOr<int> again = AddNodeInferred(g, "bad", "Neg", {{0, 0}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(g.node(*again).name, "bad_1");
  EXPECT_EQ(g.node(*again).outputs[0].ToString(), "f32[2]");
}

TEST(GraphRewriteTest, SortNodesTopologicallyMovesAppendedProducersFirst) {
  Graph g = Parse(kDiamond);
  int t = *g.FindNode("t");
  absl::StatusOr<TensorRef> c = AddConstant(g, "c", Tensor::F32(Shape{2}, {1, 2}));
  ASSERT_TRUE(c.ok());
  g.node(t).inputs[1] = *c;
  ASSERT_TRUE(SortNodesTopologically(g).ok());
  EXPECT_LT(*g.FindNode("c"), *g.FindNode("t"));
  EXPECT_EQ(g.node(*g.FindNode("t")).inputs[1].node, *g.FindNode("c"));
}

TEST(GraphRewriteTest, KeepNodesRejectsDroppingAReadNode) {
  Graph g = Parse(kDiamond);
  absl::Status status = g.KeepNodes({0, 1, 3, 4, 5, 6});  // drops a, read by s
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(g.num_nodes(), 7);
  EXPECT_FALSE(g.KeepNodes({0, 0}).ok());
}

TEST(GraphRewriteTest, SplatValueAndDependsOn) {
  Graph g = Parse(R"(graph(%x: f32[2]) {
  %one = Constant() {value = f32[2]{splat 1}}
  %mixed = Constant() {value = f32[2]{1, 2}}
  %a = Mul(%x, %one)
  %b = Add(%a, %mixed)
  return y = %b
})");
  EXPECT_EQ(SplatValue(g, {*g.FindNode("one"), 0}), 1.0);
  EXPECT_FALSE(SplatValue(g, {*g.FindNode("mixed"), 0}).has_value());
  EXPECT_FALSE(SplatValue(g, {*g.FindNode("a"), 0}).has_value());
  std::vector<bool> from(g.num_nodes(), false);
  from[*g.FindNode("one")] = true;
  EXPECT_TRUE(DependsOnAny(g, *g.FindNode("b"), from));
  EXPECT_FALSE(DependsOnAny(g, *g.FindNode("mixed"), from));
}

}  // namespace
}  // namespace kiln
