// Packing constant MatMul weights for a kernel library: which MatMuls are rewritten, one
// packed constant per weight, names kept, and the same numbers before and after (the
// reference interpreter reads PackedMatMul's panels).
#include "passes/pack_weights.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/text_format.h"
#include "gtest/gtest.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/winograd.h"
#include "tests/util/pass_test_util.h"

namespace kiln::passes {
namespace {

constexpr char kGraph[] = R"(graph(%x: f32[-1,5], %v: f32[5,3]) {
  %w = Constant() {value = f32[5,3]{1, -2, 3, 0.5, 4, -1, 2, 2, -3, 0.25, 1, 7, -4, 3, 1}}
  %wt = Constant() {value = f32[3,5]{1, -2, 3, 0.5, 4, -1, 2, 2, -3, 0.25, 1, 7, -4, 3, 1}}
  %a = MatMul(%x, %w)
  %b = MatMul(%x, %w)
  %t = MatMul(%x, %wt) {transpose_b = true}
  %d = MatMul(%x, %v)
  %s = Add(%a, %b)
  %u = Add(%s, %t)
  %y = Add(%u, %d)
  return y = %y, a = %a
})";

PackGemmWeight CpuPacker(int64_t* calls) {
  std::shared_ptr<const KernelProvider> cpu = CreateCpuKernelProvider();
  return [cpu, calls](const Node& node, const Tensor& b) {
    ++*calls;
    return cpu->PackGemmWeight(node, b);
  };
}

TEST(PackWeightsTest, ConstantWeightsArePackedOnceAndKeepTheirValues) {
  Graph graph = *ParseGraph(kGraph);
  const Graph original = graph;
  int64_t calls = 0;
  absl::StatusOr<int> rewritten = PackGemmWeights(graph, CpuPacker(&calls));
  ASSERT_TRUE(rewritten.ok()) << rewritten.status();
  EXPECT_EQ(*rewritten, 3);  // a, b and t; d's b is an input
  EXPECT_EQ(calls, 2);       // w once for a and b, wt once
  int packed_matmuls = 0, matmuls = 0, packed_constants = 0;
  for (const Node& node : graph.nodes()) {
    packed_matmuls += node.op == "PackedMatMul";
    matmuls += node.op == "MatMul";
    packed_constants += node.op == "Constant" && node.outputs[0].shape.rank() == 3;
  }
  EXPECT_EQ(packed_matmuls, 3);
  EXPECT_EQ(matmuls, 1);
  EXPECT_EQ(packed_constants, 2);
  // Names stay with the values; the unpacked weights are gone.
  ASSERT_TRUE(graph.FindNode("a").has_value());
  EXPECT_EQ(graph.node(*graph.FindNode("a")).op, "PackedMatMul");
  EXPECT_FALSE(graph.FindNode("w").has_value());
  absl::Status same = testing::CompareGraphsNumerically(original, graph);
  EXPECT_TRUE(same.ok()) << same;
}

TEST(PackWeightsTest, NhwcConvolutionFiltersArePacked) {
  // A 2x2 HWIO filter over 2 channels into 3, with bias; the grouped one is left alone.
  Graph graph = *ParseGraph(R"(graph(%x: f32[-1,4,4,2]) {
  %f = Constant() {value = f32[2,2,2,3]{1, -2, 3, 0.5, 4, -1, 2, 2, -3, 0.25, 1, 7, -4, 3, 1, 2, 0, -1, 1, 1, 2, -2, 0.5, 3}}
  %g = Constant() {value = f32[1,1,1,2]{2, -1}}
  %bias = Constant() {value = f32[3]{0.5, -1, 2}}
  %c = Conv2D(%x, %f, %bias) {data_format = "NHWC", filter_format = "HWIO", pads = [1, 0, 0, 1], strides = [1, 2]}
  %d = Conv2D(%x, %g) {data_format = "NHWC", filter_format = "HWIO", groups = 2}
  return c = %c, d = %d
})");
  const Graph original = graph;
  int64_t calls = 0;
  absl::StatusOr<int> rewritten = PackGemmWeights(graph, CpuPacker(&calls));
  ASSERT_TRUE(rewritten.ok()) << rewritten.status();
  EXPECT_EQ(*rewritten, 1);
  ASSERT_TRUE(graph.FindNode("c").has_value());
  const Node& c = graph.node(*graph.FindNode("c"));
  EXPECT_EQ(c.op, "PackedConv2D");
  EXPECT_EQ(c.inputs.size(), 3u);  // the bias stays an input
  EXPECT_EQ(graph.node(*graph.FindNode("d")).op, "Conv2D");
  absl::Status same = testing::CompareGraphsNumerically(original, graph);
  EXPECT_TRUE(same.ok()) << same;
}

// The Winograd packer takes every candidate here (a 3x3, stride-1, undilated, ungrouped
// NHWC convolution), whatever its size, so the rewrite is checked on a small graph.
PackGemmWeight AlwaysWinograd(int64_t* calls) {
  return [calls](const Node&, const Tensor& filter) -> std::optional<Tensor> {
    ++*calls;
    const int64_t c = filter.shape().dim(2);
    const int64_t o = filter.shape().dim(3);
    constexpr int64_t kNr = 32;
    Tensor u = *Tensor::Allocate(DataType::kF32, Shape{36, (o + kNr - 1) / kNr, c, kNr});
    cpu::PackWinogradFilter(4, filter.data<float>(), c, o, kNr, u.data<float>());
    return u;
  };
}

// A 3x3 HWIO filter over 2 channels into 3, as graph text.
std::string Filter3x3() {
  std::vector<std::string> values;
  for (int i = 0; i < 54; ++i) values.push_back(absl::StrCat((i * 7 % 11) - 5, ".5"));
  return absl::StrCat("f32[3,3,2,3]{", absl::StrJoin(values, ", "), "}");
}

TEST(PackWeightsTest, ThreeByThreeFiltersGoToTheWinogradDomainWhereThePackerTakesThem) {
  // c: stride 1 with bias and a folded clamp (Winograd); s: strided, l: dilated (GEMM).
  Graph graph = *ParseGraph(absl::StrCat(R"(graph(%x: f32[-1,6,7,2]) {
  %f = Constant() {value = )", Filter3x3(), R"(}
  %bias = Constant() {value = f32[3]{0.5, -1, 2}}
  %c = Conv2D(%x, %f, %bias) {data_format = "NHWC", filter_format = "HWIO", pads = [1, 0, 2, 1], clamp_min = 0.0}
  %s = Conv2D(%x, %f) {data_format = "NHWC", filter_format = "HWIO", strides = [2, 1]}
  %l = Conv2D(%x, %f) {data_format = "NHWC", filter_format = "HWIO", dilations = [1, 2]}
  return c = %c, s = %s, l = %l
})"));
  const Graph original = graph;
  int64_t gemm_calls = 0, winograd_calls = 0;
  absl::StatusOr<int> rewritten = PackGemmWeights(
      graph, WeightPackers{CpuPacker(&gemm_calls), AlwaysWinograd(&winograd_calls)});
  ASSERT_TRUE(rewritten.ok()) << rewritten.status();
  EXPECT_EQ(*rewritten, 3);
  EXPECT_EQ(winograd_calls, 1);  // the one filter, transformed once
  EXPECT_EQ(gemm_calls, 1);      // and packed once for the other two
  const Node& c = graph.node(*graph.FindNode("c"));
  EXPECT_EQ(c.op, "WinogradConv2D");
  EXPECT_EQ(c.inputs.size(), 3u);
  EXPECT_EQ(c.ints_attr("pads"), (std::vector<int64_t>{1, 0, 2, 1}));
  EXPECT_EQ(c.float_attr("clamp_min"), 0.0);
  EXPECT_EQ(graph.node(*graph.FindNode("s")).op, "PackedConv2D");
  EXPECT_EQ(graph.node(*graph.FindNode("l")).op, "PackedConv2D");
  absl::Status same = testing::CompareGraphsNumerically(original, graph);
  EXPECT_TRUE(same.ok()) << same;

  // A Winograd packer that declines leaves the GEMM's packing.
  Graph declined = original;
  rewritten = PackGemmWeights(
      declined, WeightPackers{CpuPacker(&gemm_calls),
                              [](const Node&, const Tensor&) { return std::optional<Tensor>(); }});
  ASSERT_TRUE(rewritten.ok()) << rewritten.status();
  EXPECT_EQ(declined.node(*declined.FindNode("c")).op, "PackedConv2D");
}

TEST(PackWeightsTest, AMalformedWinogradFilterIsAnErrorNamingTheNode) {
  Graph graph = *ParseGraph(absl::StrCat(R"(graph(%x: f32[1,6,6,2]) {
  %f = Constant() {value = )", Filter3x3(), R"(}
  %c = Conv2D(%x, %f) {data_format = "NHWC", filter_format = "HWIO", pads = [1, 1, 1, 1]}
  return c = %c
})"));
  int64_t calls = 0;
  absl::StatusOr<int> rewritten = PackGemmWeights(
      graph, WeightPackers{CpuPacker(&calls), [](const Node&, const Tensor&) {
                             // Two panels of 3 for 3 output channels.
                             return std::optional<Tensor>(
                                 *Tensor::Allocate(DataType::kF32, Shape{36, 2, 2, 3}));
                           }});
  ASSERT_FALSE(rewritten.ok());
  EXPECT_NE(rewritten.status().message().find("node 'c' (Conv2D)"), std::string::npos)
      << rewritten.status();
}

TEST(PackWeightsTest, MalformedPackedOpsAreVerifierErrorsNamingTheNode) {
  // N = 40 does not fill 1 panel of 32; K differs; a packed filter of the wrong depth;
  // a bias or residual of the wrong shape.
  const std::pair<const char*, const char*> cases[] = {
      {R"(graph(%x: f32[2,5], %p: f32[1,5,32]) {
  %m = PackedMatMul(%x, %p) {n = 40}
  return y = %m
})", "attribute 'n' = 40 does not fill 1 panels of width 32"},
      {R"(graph(%x: f32[2,6], %p: f32[1,5,32]) {
  %m = PackedMatMul(%x, %p) {n = 20}
  return y = %m
})", "inner dimensions differ"},
      {R"(graph(%x: f32[1,4,4,2], %p: f32[1,9,32]) {
  %c = PackedConv2D(%x, %p) {kernel_shape = [2, 2], out_channels = 3}
  return y = %c
})", "is not [ceil(3 / W), 2 * 2 * 2, W]"},
      // Folded epilogue inputs of the wrong type.
      {R"(graph(%x: f32[2,5], %p: f32[1,5,32], %b: f32[3]) {
  %m = PackedMatMul(%x, %p, %b) {n = 20}
  return y = %m
})", "input 'bias' is f32[3], expected [20]"},
      {R"(graph(%x: f32[2,5], %p: f32[1,5,32], %b: f32[20], %r: f32[2,21]) {
  %m = PackedMatMul(%x, %p, %b, %r) {n = 20}
  return y = %m
})", "input 'residual' is f32[2,21], expected f32[2,20]"},
      {R"(graph(%x: f32[1,4,4,2], %p: f32[1,8,32], %b: f32[3], %r: f32[1,4,4,2]) {
  %c = PackedConv2D(%x, %p, %b, %r) {kernel_shape = [2, 2], out_channels = 3}
  return y = %c
})", "input 'residual' is f32[1,4,4,2], expected f32[1,3,3,3]"},
      // A Winograd filter of the wrong depth, or neither 36 nor 16 positions.
      {R"(graph(%x: f32[1,4,4,2], %u: f32[36,1,3,32]) {
  %c = WinogradConv2D(%x, %u) {out_channels = 3}
  return y = %c
})", "is not [36 or 16, ceil(3 / W), 2, W]"},
      {R"(graph(%x: f32[1,4,4,2], %u: f32[25,1,2,32]) {
  %c = WinogradConv2D(%x, %u) {out_channels = 3}
  return y = %c
})", "is not [36 or 16, ceil(3 / W), 2, W]"},
  };
  for (const auto& [text, message] : cases) {
    absl::StatusOr<Graph> graph = ParseGraph(text);
    ASSERT_FALSE(graph.ok()) << text;
    EXPECT_NE(graph.status().message().find(message), std::string::npos) << graph.status();
    EXPECT_NE(graph.status().message().find("node '"), std::string::npos) << graph.status();
  }
}

TEST(PackWeightsTest, NothingToPackLeavesTheGraph) {
  Graph graph = *ParseGraph(kGraph);
  absl::StatusOr<int> rewritten = PackGemmWeights(
      graph, [](const Node&, const Tensor&) { return std::optional<Tensor>(); });
  ASSERT_TRUE(rewritten.ok());
  EXPECT_EQ(*rewritten, 0);
  EXPECT_TRUE(graph.FindNode("w").has_value());
}

TEST(PackWeightsTest, AMalformedPackingIsAnErrorNamingTheNode) {
  Graph graph = *ParseGraph(kGraph);
  absl::StatusOr<int> rewritten =
      PackGemmWeights(graph, [](const Node&, const Tensor&) -> std::optional<Tensor> {
        return Tensor::F32(Shape{1, 2}, {1, 2});
      });
  ASSERT_FALSE(rewritten.ok());
  EXPECT_NE(rewritten.status().message().find("node 'a' (MatMul)"), std::string::npos)
      << rewritten.status();
}

}  // namespace
}  // namespace kiln::passes
