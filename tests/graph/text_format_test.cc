// The kgraph text form: exact round trips (values, attributes of every type, subgraphs,
// multi-output references), elision, defaults, and parse errors with line numbers.
#include "graph/text_format.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "graph/proto_convert.h"

namespace kiln {
namespace {

constexpr char kSmall[] = R"(graph(%x: f32[-1,3]) {
  %c = Constant() {value = f32[3]{0.1, -2.5, 1e+30}} : f32[3]
  %y = Add(%x, %c) : f32[-1,3]
  %t = Transpose(%y) {perm = [1,0]} : f32[3,-1]
  return y = %y, "t/out" = %t
}
)";

TEST(TextFormatTest, PrintsWhatItParses) {
  absl::StatusOr<Graph> graph = ParseGraph(kSmall);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(PrintGraph(*graph), kSmall);
  EXPECT_EQ(graph->outputs()[1].name, "t/out");
  // 0.1 prints in its shortest form yet reads back as the same f32 bits.
  const Tensor& c = graph->node(*graph->FindNode("c")).attr<Tensor>("value");
  EXPECT_EQ(c.data<float>()[0], 0.1f);
}

TEST(TextFormatTest, RoundTripsEveryAttributeTypeAndDtype) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF16, Shape{2, 2});
  Value h = b.Constant(*Tensor::FromBytes(DataType::kF16, Shape{2},
                                          {0x00, 0x3c, 0x01, 0x00}),  // 1.0, smallest subnormal
                       "h");
  Value d = b.Constant(Tensor::F32(Shape{2}, {std::numeric_limits<float>::infinity(),
                                              -std::numeric_limits<float>::quiet_NaN()}),
                       "d");
  Value i64 = b.Constant(Tensor::I64(Shape{3}, {std::numeric_limits<int64_t>::min(), 0,
                                                std::numeric_limits<int64_t>::max()}),
                         "i");
  Value bools = b.Constant(Tensor::Bool(Shape{2}, {true, false}), "b");
  Value s = ops::Add(b, x, h);
  Value cast = ops::Cast(b, s, DataType::kBF16);
  Value pad = ops::Pad(b, x, {0, 1, 0, 1}, 0.25, "constant");
  b.Output("cast", cast);
  b.Output("pad", pad);
  b.Output("d", d);
  b.Output("i", i64);
  b.Output("b", bools);
  absl::StatusOr<Graph> graph = b.BuildGraph();
  ASSERT_TRUE(graph.ok()) << graph.status();
  std::string text = PrintGraph(*graph);
  absl::StatusOr<Graph> parsed = ParseGraph(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
  EXPECT_EQ(PrintGraph(*parsed), text);
  EXPECT_NE(text.find("value = f16[2]{1, 5.9604645e-08}"), std::string::npos) << text;
  EXPECT_NE(text.find("{inf, nan}"), std::string::npos) << text;
  EXPECT_NE(text.find("-9223372036854775808, 0, 9223372036854775807"), std::string::npos);
  EXPECT_NE(text.find("to = bf16"), std::string::npos) << text;
  EXPECT_NE(text.find("value = 0.25"), std::string::npos) << text;
  const Tensor& half = parsed->node(*parsed->FindNode("h")).attr<Tensor>("value");
  EXPECT_EQ(std::memcmp(half.raw_data(), graph->node(*graph->FindNode("h")).attr<Tensor>("value").raw_data(), 4), 0);
}

TEST(TextFormatTest, SubgraphAttributesAndMultiOutputReferences) {
  constexpr char kFused[] = R"(graph(%a: f32[4], %b: f32[4]) {
  %f = Fusion(%a, %b) {body = graph(%p0: f32[4], %p1: f32[4]) {
    %s = Add(%p0, %p1) : f32[4]
    %m = Mul(%p0, %p1) : f32[4]
    return s = %s, m = %m
  }} : (f32[4], f32[4])
  %r = Sub(%f:1, %f) : f32[4]
  return r = %r
}
)";
  absl::StatusOr<Graph> graph = ParseGraph(kFused);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(PrintGraph(*graph), kFused);
  // Through the proto as well: the body survives export and import.
  absl::StatusOr<proto::GraphDef> def = GraphToProto(*graph);
  ASSERT_TRUE(def.ok());
  absl::StatusOr<Graph> imported = GraphFromProto(*def);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(PrintGraph(*imported), kFused);
  EXPECT_TRUE(GraphsEqual(*graph, *imported));
}

TEST(TextFormatTest, ElidesLargeConstantsButKeepsSplats) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{4});
  Value big = b.Constant(Tensor::F32(Shape{4}, {1, 2, 3, 4}), "big");
  Value splat = b.Constant(Tensor::F32(Shape{4}, {7, 7, 7, 7}), "splat");
  b.Output("y", ops::Add(b, ops::Add(b, x, big), splat));
  Graph graph = *b.BuildGraph();
  TextPrintOptions options;
  options.max_inline_elements = 2;
  std::string text = PrintGraph(graph, options);
  EXPECT_NE(text.find("f32[4]{elided 0x"), std::string::npos) << text;
  EXPECT_NE(text.find("f32[4]{splat 7}"), std::string::npos) << text;
  absl::StatusOr<Graph> parsed = ParseGraph(text);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("elided tensor cannot be parsed"), std::string::npos);
}

TEST(TextFormatTest, OmitsDefaultsUnlessAsked) {
  absl::StatusOr<Graph> graph = ParseGraph(R"(graph(%x: f32[2,2]) {
  %m = MatMul(%x, %x) {transpose_b = true}
  return y = %m
})");
  ASSERT_TRUE(graph.ok()) << graph.status();
  std::string text = PrintGraph(*graph);
  EXPECT_NE(text.find("%m = MatMul(%x, %x) {transpose_b = true} : f32[2,2]"), std::string::npos)
      << text;
  TextPrintOptions all;
  all.print_defaults = true;
  EXPECT_NE(PrintGraph(*graph, all).find("transpose_a = false"), std::string::npos);
}

struct BadText {
  const char* text;
  const char* error;
};

TEST(TextFormatTest, ErrorsNameTheLineAndReason) {
  const BadText cases[] = {
      {"graph(%x: f32[2]) {\n  %y = Relu(%z)\n  return y = %y\n}", "line 2: '%z' names no node"},
      {"graph(%x: f32[2]) {\n  %y = Relu(%x) : f32[3]\n  return y = %y\n}",
       "line 2: node 'y' is declared f32[3] but inferred f32[2]"},
      {"graph(%x: f32[2]) {\n  %y = Relu(%x\n  return y = %y\n}", "line 3: expected ','"},
      {"graph(%x: q7[2]) {\n  return y = %x\n}", "line 1:"},
      {"graph(%x: f32[2]) {\n  %c = Constant() {value = f32[3]{1, 2}}\n  return y = %c\n}",
       "needs 3 values, got 2"},
      {"graph(%x: f32[2]) {\n  %y = Relu(%x) {a = 1, a = 2}\n  return y = %y\n}",
       "attribute 'a' is given twice"},
      {"graph(%x: f32[2]) {\n  return y = %x\n} trailing", "text after the graph"},
      {"graph(%x: f32[2]) {\n  %y = Frob(%x)\n  return y = %y\n}", "unknown op 'Frob'"},
      {"graph(%x: f32[2]) {\n  %c = Constant() {value = f32[1099511627776]{splat 0}}\n"
       "  return y = %c\n}",
       "too large for the text form"},
  };
  for (const BadText& c : cases) {
    absl::StatusOr<Graph> graph = ParseGraph(c.text);
    ASSERT_FALSE(graph.ok()) << c.text;
    EXPECT_EQ(graph.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(graph.status().message().find(c.error), std::string::npos)
        << graph.status() << "\nexpected: " << c.error;
  }
}

TEST(TextFormatTest, UnverifiedParseKeepsInvalidGraphs) {
  TextParseOptions options;
  options.verify = false;
  absl::StatusOr<Graph> graph =
      ParseGraph("graph(%x: f32[2]) {\n  %y = Frob(%x)\n  return y = %y\n}", options);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->node(1).op, "Frob");
}

TEST(TextFormatTest, DotHasANodePerNodeAndAnEdgePerInput) {
  absl::StatusOr<Graph> graph = ParseGraph(kSmall);
  ASSERT_TRUE(graph.ok());
  std::string dot = GraphToDot(*graph);
  EXPECT_NE(dot.find("n1 -> n2;"), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"y\\nAdd\\nf32[-1,3]\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("shape=plaintext"), std::string::npos);
}

}  // namespace
}  // namespace kiln
