// The Fusion op: its shape function binds and verifies the body (unknown dims pass
// through), its kernel evaluates the body, and bad bodies are rejected with the reason.
#include <string>

#include "gtest/gtest.h"
#include "graph/bind_shapes.h"
#include "graph/evaluate.h"
#include "graph/text_format.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

constexpr char kFused[] = R"(graph(%a: f32[-1,3], %b: f32[3]) {
  %f = Fusion(%a, %b) {kind = "loop", body = graph(%p0: f32[-1,3], %p1: f32[3]) {
    %half = Constant() {value = f32[]{0.5}}
    %s = Add(%p0, %p1)
    %m = Mul(%s, %half)
    return m = %m, s = %s
  }}
  return y = %f, z = %f:1
})";

TEST(FusionOpTest, InfersOutputsThroughTheBodyWithUnknownDims) {
  absl::StatusOr<Graph> graph = ParseGraph(kFused);
  ASSERT_TRUE(graph.ok()) << graph.status();
  const Node& f = graph->node(*graph->FindNode("f"));
  ASSERT_EQ(f.outputs.size(), 2u);
  EXPECT_EQ(f.outputs[0].ToString(), "f32[-1,3]");
  EXPECT_EQ(f.outputs[1].ToString(), "f32[-1,3]");
}

TEST(FusionOpTest, KernelEvaluatesTheBody) {
  Graph graph = *ParseGraph(kFused);
  absl::StatusOr<Graph> bound = BindInputShapes(graph, {{"a", Shape{2, 3}}, {"b", Shape{3}}});
  ASSERT_TRUE(bound.ok()) << bound.status();
  Tensor a = Tensor::F32(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::F32(Shape{3}, {10, 20, 30});
  absl::StatusOr<std::vector<Tensor>> out = EvaluateGraph(
      *bound, {{bound->inputs()[0], a}, {bound->inputs()[1], b}}, {bound->outputs()[0].tensor,
                                                                   bound->outputs()[1].tensor});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TENSOR_NEAR((*out)[0], (Shape{2, 3}), (std::vector<double>{5.5, 11, 16.5, 7, 12.5, 18}),
                     0);
  EXPECT_TENSOR_NEAR((*out)[1], (Shape{2, 3}), (std::vector<double>{11, 22, 33, 14, 25, 36}), 0);
}

struct BadFusion {
  const char* name;
  const char* text;
  const char* error;
};

TEST(FusionOpTest, RejectsBadBodies) {
  const BadFusion cases[] = {
      {"input_count", R"(graph(%a: f32[2]) {
  %f = Fusion(%a, %a) {body = graph(%p: f32[2]) { return o = %p }}
  return y = %f
})", "attribute 'body' has 1 inputs, but the node has 2"},
      {"dtype", R"(graph(%a: f32[2]) {
  %f = Fusion(%a) {body = graph(%p: i32[2]) { return o = %p }}
  return y = %f
})", "input 0 ('p') has dtype i32, but the node's input 0 is f32[2]"},
      {"shape", R"(graph(%a: f32[2]) {
  %f = Fusion(%a) {body = graph(%p: f32[3]) { return o = %p }}
  return y = %f
})", "input 0 ('p') is declared [3], but the node's input 0 is f32[2]"},
      {"no_outputs", R"(graph(%a: f32[2]) {
  %f = Fusion(%a) {body = graph(%p: f32[2]) { return }}
  return y = %f
})", "attribute 'body' has no outputs"},
      {"bad_body_node", R"(graph(%a: f32[2]) {
  %f = Fusion(%a) {body = graph(%p: f32[2]) {
    %m = MatMul(%p, %p)
    return o = %m
  }}
  return y = %f
})", "node 'm' (MatMul): input 'a' [2] has rank 1"},
      {"nested", R"(graph(%a: f32[2]) {
  %f = Fusion(%a) {body = graph(%p: f32[2]) {
    %g = Fusion(%p) {body = graph(%q: f32[2]) { return o = %q }}
    return o = %g
  }}
  return y = %f
})", "nested Fusion"},
      {"empty_kind", R"(graph(%a: f32[2]) {
  %f = Fusion(%a) {kind = "", body = graph(%p: f32[2]) { return o = %p }}
  return y = %f
})", "attribute 'kind': '' is not a fusion kind (loop, reduction, matmul_epilogue, conv2d_epilogue, attention)"},
      {"unknown_kind", R"(graph(%a: f32[2]) {
  %f = Fusion(%a) {kind = "relu_epilogue", body = graph(%p: f32[2]) { return o = %p }}
  return y = %f
})", "'relu_epilogue' is not a fusion kind"},
  };
  for (const BadFusion& c : cases) {
    absl::StatusOr<Graph> graph = ParseGraph(c.text);
    ASSERT_FALSE(graph.ok()) << c.name;
    EXPECT_EQ(graph.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(graph.status().message().find(c.error), std::string::npos)
        << c.name << ": " << graph.status();
  }
}

}  // namespace
}  // namespace kiln
