// Folding ReLU, ReLU6, bias and residual readers into contractions: Relu, Maximum/Minimum with
// a splat constant, a residual Add into PackedConv2D, and loop Fusions of those fold (with the same numbers after, since the
// reference interpreter applies PackedMatMul's and PackedConv2D's clamp); a second reader,
// a signature output of the contraction itself, a non-splat bound or another op stop it.
#include "passes/fold_epilogues.h"

#include <limits>

#include "graph/text_format.h"
#include "gtest/gtest.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "kernels/cpu/winograd.h"
#include "passes/pack_weights.h"
#include "tests/util/pass_test_util.h"

namespace kiln::passes {
namespace {

// Packs with the CPU library (3x3 filters in the Winograd domain whatever their size when
// `winograd`), then folds; checks the numbers against the original.
int PackAndFold(Graph& graph, bool winograd = false) {
  const Graph original = graph;
  std::shared_ptr<const KernelProvider> cpu = CreateCpuKernelProvider();
  WeightPackers packers;
  packers.gemm = [cpu](const Node& node, const Tensor& b) { return cpu->PackGemmWeight(node, b); };
  if (winograd) {
    packers.winograd = [](const Node&, const Tensor& filter) -> std::optional<Tensor> {
      const int64_t c = filter.shape().dim(2);
      const int64_t o = filter.shape().dim(3);
      Tensor u = *Tensor::Allocate(DataType::kF32, Shape{16, (o + 31) / 32, c, 32});
      cpu::PackWinogradFilter(2, filter.data<float>(), c, o, 32, u.data<float>());
      return u;
    };
  }
  absl::StatusOr<int> packed = PackGemmWeights(graph, packers);
  EXPECT_TRUE(packed.ok()) << packed.status();
  absl::StatusOr<int> folded = FoldEpilogues(graph);
  EXPECT_TRUE(folded.ok()) << folded.status();
  absl::Status same = testing::CompareGraphsNumerically(original, graph);
  EXPECT_TRUE(same.ok()) << same;
  return folded.ok() ? *folded : -1;
}

const Node& NodeNamed(const Graph& graph, const std::string& name) {
  return graph.node(*graph.FindNode(name));
}

TEST(FoldEpiloguesTest, ReluAndReluSixFoldIntoTheMatMul) {
  Graph graph = *ParseGraph(R"(graph(%x: f32[-1,5]) {
  %w = Constant() {value = f32[5,3]{1, -2, 3, 0.5, 4, -1, 2, 2, -3, 0.25, 1, 7, -4, 3, 1}}
  %six = Constant() {value = f32[]{6}}
  %zero = Constant() {value = f32[1]{0}}
  %a = MatMul(%x, %w)
  %r = Relu(%a)
  %b = MatMul(%x, %w)
  %lo = Maximum(%zero, %b)
  %hi = Minimum(%lo, %six)
  return r = %r, y = %hi
})");
  EXPECT_EQ(PackAndFold(graph), 3);
  const Node& a = NodeNamed(graph, "a");
  EXPECT_EQ(a.op, "PackedMatMul");
  EXPECT_EQ(a.float_attr("clamp_min"), 0.0);
  EXPECT_EQ(a.float_attr("clamp_max"), std::numeric_limits<double>::infinity());
  const Node& b = NodeNamed(graph, "b");
  EXPECT_EQ(b.float_attr("clamp_min"), 0.0);
  EXPECT_EQ(b.float_attr("clamp_max"), 6.0);
  EXPECT_FALSE(graph.FindNode("r").has_value());
  EXPECT_FALSE(graph.FindNode("hi").has_value());
  ASSERT_EQ(graph.outputs().size(), 2u);
  EXPECT_EQ(graph.outputs()[0].name, "r");  // the signature keeps its names
  EXPECT_EQ(graph.outputs()[1].tensor.node, *graph.FindNode("b"));
}

TEST(FoldEpiloguesTest, ALoopFusionOfClampsFoldsIntoTheConvolution) {
  Graph graph = *ParseGraph(R"(graph(%x: f32[-1,4,4,2]) {
  %f = Constant() {value = f32[1,1,2,3]{1, -2, 3, 0.5, 4, -1}}
  %six = Constant() {value = f32[]{6}}
  %c = Conv2D(%x, %f) {data_format = "NHWC", filter_format = "HWIO"}
  %fusion = Fusion(%c, %six) {kind = "loop", body = graph(%in0: f32[-1,4,4,3], %in1: f32[]) {
    %zero = Constant() {value = f32[]{0}}
    %m = Maximum(%in0, %zero)
    %n = Minimum(%m, %in1)
    return out0 = %n
  }}
  return y = %fusion
})");
  EXPECT_EQ(PackAndFold(graph), 1);
  const Node& c = NodeNamed(graph, "c");
  EXPECT_EQ(c.op, "PackedConv2D");
  EXPECT_EQ(c.float_attr("clamp_min"), 0.0);
  EXPECT_EQ(c.float_attr("clamp_max"), 6.0);
  EXPECT_FALSE(graph.FindNode("fusion").has_value());
}

TEST(FoldEpiloguesTest, AGroupedConvolutionKeepsItsClamp) {
  // Grouped: stays Conv2D (not packed), and takes the clamp itself.
  Graph graph = *ParseGraph(R"(graph(%x: f32[-1,3,3,4]) {
  %f = Constant() {value = f32[1,1,2,4]{1, -2, 3, 0.5, 4, -1, 2, 2}}
  %c = Conv2D(%x, %f) {data_format = "NHWC", filter_format = "HWIO", groups = 2}
  %r = Relu(%c)
  return y = %r
})");
  EXPECT_EQ(PackAndFold(graph), 1);
  const Node& c = NodeNamed(graph, "c");
  EXPECT_EQ(c.op, "Conv2D");
  EXPECT_EQ(c.float_attr("clamp_min"), 0.0);
  EXPECT_FALSE(graph.FindNode("r").has_value());
}

TEST(FoldEpiloguesTest, AResidualBlockEndFoldsIntoThePackedConvolution) {
  // ResNet's block end: conv + bias, Add of the shortcut, Relu, as a loop Fusion; and a
  // bias-less conv with a standalone residual Add (it gets a zero bias).
  Graph graph = *ParseGraph(R"(graph(%x: f32[-1,3,3,2], %s: f32[-1,3,3,3]) {
  %f = Constant() {value = f32[1,1,2,3]{1, -2, 3, 0.5, 4, -1}}
  %b = Constant() {value = f32[3]{0.5, -1, 2}}
  %c = Conv2D(%x, %f, %b) {data_format = "NHWC", filter_format = "HWIO"}
  %fusion = Fusion(%c, %s) {kind = "loop", body = graph(%in0: f32[-1,3,3,3], %in1: f32[-1,3,3,3]) {
    %a = Add(%in0, %in1)
    %r = Relu(%a)
    return out0 = %r
  }}
  %d = Conv2D(%x, %f) {data_format = "NHWC", filter_format = "HWIO"}
  %e = Add(%s, %d)
  return y = %fusion, z = %e
})");
  EXPECT_EQ(PackAndFold(graph), 2);
  const Node& c = NodeNamed(graph, "c");
  EXPECT_EQ(c.op, "PackedConv2D");
  ASSERT_EQ(c.inputs.size(), 4u);
  EXPECT_EQ(c.inputs[3].node, *graph.FindNode("s"));
  EXPECT_EQ(c.float_attr("clamp_min"), 0.0);
  const Node& d = NodeNamed(graph, "d");
  ASSERT_EQ(d.inputs.size(), 4u);
  EXPECT_EQ(graph.node(d.inputs[2].node).op, "Constant");  // the zero bias
  EXPECT_EQ(d.float_attr("clamp_min"), -std::numeric_limits<double>::infinity());
  EXPECT_FALSE(graph.FindNode("fusion").has_value());
  EXPECT_FALSE(graph.FindNode("e").has_value());
}

TEST(FoldEpiloguesTest, BiasResidualAndReluFoldIntoTheWinogradConvolution) {
  // A 3x3 filter of 2 channels into 1 with no bias: the constant [1] Add becomes its bias,
  // the Add of %r its residual, the Relu its clamp.
  Graph graph = *ParseGraph(R"(graph(%x: f32[-1,5,6,2], %r: f32[-1,5,6,1]) {
  %f = Constant() {value = f32[3,3,2,1]{1, -2, 3, 0.5, 4, -1, 2, 2, -3, 0.25, 1, 7, -4, 3, 1, 2, 0, -1}}
  %b = Constant() {value = f32[1]{0.75}}
  %c = Conv2D(%x, %f) {data_format = "NHWC", filter_format = "HWIO", pads = [1, 1, 1, 1]}
  %biased = Add(%c, %b)
  %sum = Add(%biased, %r)
  %y = Relu(%sum)
  return y = %y
})");
  EXPECT_EQ(PackAndFold(graph, /*winograd=*/true), 3);
  const Node& c = NodeNamed(graph, "c");
  EXPECT_EQ(c.op, "WinogradConv2D");
  EXPECT_EQ(c.inputs.size(), 4u);
  EXPECT_EQ(c.float_attr("clamp_min"), 0.0);
}

TEST(FoldEpiloguesTest, AnAddAfterTheClampStays) {
  Graph graph = *ParseGraph(R"(graph(%x: f32[-1,3,3,2], %s: f32[-1,3,3,3]) {
  %f = Constant() {value = f32[1,1,2,3]{1, -2, 3, 0.5, 4, -1}}
  %c = Conv2D(%x, %f) {data_format = "NHWC", filter_format = "HWIO"}
  %r = Relu(%c)
  %a = Add(%r, %s)
  return y = %a
})");
  EXPECT_EQ(PackAndFold(graph), 1);  // the Relu only
  EXPECT_TRUE(graph.FindNode("a").has_value());
  EXPECT_EQ(NodeNamed(graph, "c").inputs.size(), 2u);
}

TEST(FoldEpiloguesTest, BiasAndResidualFoldIntoThePackedMatMul) {
  // A transformer projection's end: MatMul, bias, residual Add as a loop Fusion; a
  // standalone bias Add; and an Add of a broadcast scalar, which is neither.
  Graph graph = *ParseGraph(R"(graph(%t: f32[-1,3], %u: f32[-1,3]) {
  %w = Constant() {value = f32[3,3]{1, -2, 3, 0.5, 4, -1, 2, 2, -3}}
  %b = Constant() {value = f32[3]{0.5, -1, 2}}
  %m = MatMul(%t, %w)
  %fusion = Fusion(%m, %b, %u) {kind = "loop", body = graph(%in0: f32[-1,3], %in1: f32[3], %in2: f32[-1,3]) {
    %a = Add(%in0, %in1)
    %r = Add(%a, %in2)
    return out0 = %r
  }}
  %n = MatMul(%t, %w)
  %nb = Add(%b, %n)
  %o = MatMul(%t, %w)
  %half = Constant() {value = f32[1]{0.5}}
  %os = Add(%o, %half)
  return y = %fusion, z = %nb, v = %os
})");
  EXPECT_EQ(PackAndFold(graph), 2);
  const Node& m = NodeNamed(graph, "m");
  EXPECT_EQ(m.op, "PackedMatMul");
  ASSERT_EQ(m.inputs.size(), 4u);
  EXPECT_EQ(m.inputs[3].node, *graph.FindNode("u"));
  EXPECT_EQ(NodeNamed(graph, "n").inputs.size(), 3u);
  EXPECT_EQ(NodeNamed(graph, "o").inputs.size(), 2u);
  EXPECT_TRUE(graph.FindNode("os").has_value());
  EXPECT_FALSE(graph.FindNode("fusion").has_value());
  EXPECT_FALSE(graph.FindNode("nb").has_value());
}

TEST(FoldEpiloguesTest, OtherReadersStayAsTheyAre) {
  Graph graph = *ParseGraph(R"(graph(%x: f32[-1,5], %bound: f32[3]) {
  %w = Constant() {value = f32[5,3]{1, -2, 3, 0.5, 4, -1, 2, 2, -3, 0.25, 1, 7, -4, 3, 1}}
  %v = Constant() {value = f32[3]{0, 1, 2}}
  %a = MatMul(%x, %w)
  %r = Relu(%a)
  %b = MatMul(%x, %w)
  %rb = Relu(%b)
  %c = MatMul(%x, %w)
  %mc = Maximum(%c, %v)
  %d = MatMul(%x, %w)
  %md = Minimum(%d, %bound)
  %e = MatMul(%x, %w)
  %te = Tanh(%e)
  return r = %r, a = %a, rb = %rb, b2 = %b, mc = %mc, md = %md, te = %te
})");
  // a and b are signature outputs themselves; c's bound is not a splat, d's is an input,
  // e's reader is no clamp.
  EXPECT_EQ(PackAndFold(graph), 0);
  for (const char* name : {"r", "rb", "mc", "md", "te"}) {
    EXPECT_TRUE(graph.FindNode(name).has_value()) << name;
  }
  EXPECT_FALSE(NodeNamed(graph, "a").HasAttr("clamp_min") &&
               NodeNamed(graph, "a").float_attr("clamp_min") == 0.0);
}

}  // namespace
}  // namespace kiln::passes
