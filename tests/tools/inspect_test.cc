// Tests of `kiln inspect`'s summary (tools/cli/inspect.h): counts, parameters, FLOP
// summation and the exact printed format.
#include "tools/cli/inspect.h"

#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "graph/op_registry.h"
#include "gtest/gtest.h"
#include "runtime/reference_kernel_provider.h"

namespace kiln::cli {
namespace {

using ::testing::HasSubstr;

// x: f32[-1,3] and a 2x3 f32 weight plus a 4-element i64 constant, through Identities.
Graph SmallGraph() {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, {-1, 3});
  Value w = b.Constant(Tensor::F32({2, 3}, {1, 2, 3, 4, 5, 6}), "weight");
  Value k = b.Constant(Tensor::I64({4}, {1, 2, 3, 4}), "k");
  b.Output("y", ops::Identity(b, x));
  b.Output("w", ops::Identity(b, w));
  b.Output("k", ops::Identity(b, k));
  return b.BuildGraph().value();
}

TEST(InspectTest, SummarizesSignatureOpsAndParameters) {
  GraphSummary s = SummarizeGraph(SmallGraph(), 1);
  ASSERT_EQ(s.inputs.size(), 1u);
  EXPECT_EQ(s.inputs[0].name, "x");
  EXPECT_EQ(s.inputs[0].type.ToString(), "f32[-1,3]");
  ASSERT_EQ(s.outputs.size(), 3u);
  EXPECT_EQ(s.outputs[0].type.ToString(), "f32[-1,3]");
  EXPECT_EQ(s.outputs[2].name, "k");
  EXPECT_EQ(s.outputs[2].type.ToString(), "i64[4]");
  // 3 Identity, 2 Constant, 1 Input: by count, then name.
  ASSERT_EQ(s.op_counts.size(), 3u);
  EXPECT_EQ(s.op_counts[0], (std::pair<std::string, int64_t>("Identity", 3)));
  EXPECT_EQ(s.op_counts[1], (std::pair<std::string, int64_t>("Constant", 2)));
  EXPECT_EQ(s.op_counts[2], (std::pair<std::string, int64_t>("Input", 1)));
  EXPECT_EQ(s.num_nodes, 6);
  EXPECT_EQ(s.parameter_elements, 6 + 4);
  EXPECT_EQ(s.parameter_bytes, 6 * 4 + 4 * 8);
  EXPECT_TRUE(s.has_unknown_dims);
  ASSERT_TRUE(s.flops.has_value()) << s.flops_error;
}

TEST(InspectTest, ExactFormat) {
  std::string text = FormatGraphSummary(SummarizeGraph(SmallGraph(), 8), "small.pbtxt");
  // Identity has no FLOPs, so the count stays 0 whatever ops exist later.
  EXPECT_EQ(text,
            "graph: small.pbtxt\n"
            "inputs: 1\n"
            "  x  f32[-1,3]\n"
            "outputs: 3\n"
            "  y  f32[-1,3]\n"
            "  w  f32[2,3]\n"
            "  k  i64[4]\n"
            "ops: 3 types\n"
            "  Identity  3\n"
            "  Constant  2\n"
            "  Input     1\n"
            "nodes: 6\n"
            "parameters: 10 elements, 56 bytes\n"
            "flops: 0 at batch 8\n");
}

TEST(InspectTest, NoBatchSuffixWhenShapesAreKnown) {
  GraphBuilder b;
  b.Output("y", ops::Identity(b, b.Input("x", DataType::kI32, {2})));
  GraphSummary s = SummarizeGraph(b.BuildGraph().value(), 5);
  EXPECT_FALSE(s.has_unknown_dims);
  EXPECT_THAT(FormatGraphSummary(s, "g"), HasSubstr("\nflops: 0\n"));
}

TEST(InspectTest, EmptyListsAndLargeNumbers) {
  GraphSummary s;
  s.num_nodes = 0;
  s.parameter_elements = 25557032;
  s.parameter_bytes = 102228128;
  s.flops = 4089184256;
  EXPECT_EQ(FormatGraphSummary(s, "big"),
            "graph: big\n"
            "inputs: 0\n"
            "outputs: 0\n"
            "ops: 0 types\n"
            "nodes: 0\n"
            "parameters: 25557032 elements (25.6M), 102228128 bytes (97.5 MiB)\n"
            "flops: 4089184256 (4.09 GFLOP)\n");
  // Rounding never switches to exponent notation at a prefix boundary.
  s.parameter_elements = 999999;
  s.parameter_bytes = 1048575;
  s.flops = 1000;
  EXPECT_THAT(FormatGraphSummary(s, "edge"),
              HasSubstr("parameters: 999999 elements (1M), 1048575 bytes (1 MiB)\n"
                        "flops: 1000 (1 KFLOP)\n"));
}

TEST(InspectTest, UnbindableBatchReportsUnknownFlops) {
  GraphBuilder b;
  b.Output("y", ops::Identity(b, b.Input("x", DataType::kF32, {-1, -1})));
  // 2^21 * 2^21 elements exceed Kiln's 2^40 limit.
  GraphSummary s = SummarizeGraph(b.BuildGraph().value(), int64_t{1} << 21);
  EXPECT_FALSE(s.flops.has_value());
  std::string text = FormatGraphSummary(s, "g");
  EXPECT_THAT(text, HasSubstr("flops: unknown at batch 2097152 ("));
  EXPECT_THAT(text, HasSubstr("2^40"));
}

// CountFlops sums OpDef::flops over nodes; checked on a hand-made graph whose nodes point
// at a test op, so it does not depend on which op families are registered.
class CountFlopsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    op_.name = "TestOp";
    // Two FLOPs per output element, or the node's "flops" attribute when present.
    op_.flops = [](const Node& node, absl::Span<const TensorType>,
                   absl::Span<const TensorType> outputs) -> int64_t {
      if (node.HasAttr("flops")) return node.int_attr("flops");
      return 2 * outputs[0].shape.NumElements();
    };
    no_flops_.name = "NoFlops";
  }

  int Add(const std::string& name, const OpDef& def, Shape shape, AttrMap attrs = {}) {
    Node node;
    node.name = name;
    node.op = def.name;
    node.attrs = std::move(attrs);
    node.outputs = {{DataType::kF32, std::move(shape)}};
    int id = graph_.AddNode(std::move(node)).value();
    graph_.node(id).def = &def;
    return id;
  }

  OpDef op_;
  OpDef no_flops_;
  Graph graph_;
};

TEST_F(CountFlopsTest, SumsEveryNode) {
  Add("a", op_, {2, 3});
  Add("b", no_flops_, {100});
  Add("c", op_, {5});
  absl::StatusOr<int64_t> flops = CountFlops(graph_);
  ASSERT_TRUE(flops.ok()) << flops.status();
  EXPECT_EQ(*flops, 2 * 6 + 2 * 5);
}

TEST_F(CountFlopsTest, NegativeCountNamesTheNode) {
  Add("a", op_, {2});
  Add("bad", op_, {2}, {{"flops", int64_t{-3}}});
  absl::StatusOr<int64_t> flops = CountFlops(graph_);
  ASSERT_FALSE(flops.ok());
  EXPECT_THAT(std::string(flops.status().message()), HasSubstr("node 'bad'"));
  EXPECT_THAT(std::string(flops.status().message()), HasSubstr("-3"));
}

TEST_F(CountFlopsTest, OverflowIsAnError) {
  int64_t max = std::numeric_limits<int64_t>::max();
  Add("a", op_, {1}, {{"flops", max - 5}});
  Add("b", op_, {1}, {{"flops", int64_t{5}}});
  EXPECT_EQ(*CountFlops(graph_), max);  // exactly the largest count is fine
  Add("c", op_, {1}, {{"flops", int64_t{1}}});
  absl::StatusOr<int64_t> flops = CountFlops(graph_);
  ASSERT_FALSE(flops.ok());
  EXPECT_EQ(flops.status().code(), absl::StatusCode::kOutOfRange);
}

// relu(x) + c over x: f32[-1,4]; the add runs in place on relu (the reference kernels'
// hint), so the arena is one buffer.
TEST(InspectTest, MemoryReportFormat) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, {-1, 4});
  Value c = b.Constant(Tensor::F32({4}, {1, 2, 3, 4}), "c");
  b.Output("y", ops::Add(b, ops::Relu(b, x), c));
  Graph graph = b.BuildGraph().value();
  absl::StatusOr<std::string> report = MemoryReport(graph, 2, ReferenceKernelProvider());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report,
            "arena: 64 bytes\n"
            "naive: 128 bytes\n"
            "lower bound: 64 bytes\n"
            "largest live step: 0 of 2, node 'relu' (Relu), 1 tensors\n"
            "  relu  f32[2,4]  32 bytes\n");
  // At batch 40 (640 bytes per tensor) the numbers scale and nothing else changes.
  report = MemoryReport(graph, 40, ReferenceKernelProvider());
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(*report, HasSubstr("arena: 640 bytes\nnaive: 1280 bytes\nlower bound: 640 bytes\n"));
}

TEST(InspectTest, MemoryReportWithoutKernels) {
  GraphBuilder b;
  b.Output("y", b.Input("x", DataType::kF32, {3}));
  absl::StatusOr<std::string> report =
      MemoryReport(b.BuildGraph().value(), 1, ReferenceKernelProvider());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report,
            "arena: 0 bytes\nnaive: 0 bytes\nlower bound: 0 bytes\n"
            "largest live step: none (no kernels run)\n");
}

}  // namespace
}  // namespace kiln::cli
