// The memory-aware schedule: exact orders on small graphs, and the peak live bytes it
// reaches against node index order on the example models.
#include "runtime/schedule.h"

#include <cstdio>

#include "examples/models.h"
#include "graph/bind_shapes.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

Tensor Zeros(const Shape& shape) { return Tensor::Allocate(DataType::kF32, shape).value(); }

std::vector<std::string> Names(const Graph& graph, const std::vector<int>& schedule) {
  std::vector<std::string> names;
  for (int n : schedule) names.push_back(graph.node(n).name);
  return names;
}

TensorRef Output(const Graph& graph, const std::string& name) {
  for (const GraphOutput& out : graph.outputs()) {
    if (out.name == name) return out.tensor;
  }
  return {};
}

// Two chains, each widening to 4 KiB then narrowing to 64 bytes, declared interleaved:
//   a1 = x @ wa (1x1024), b1 = x @ wb (1x1024), a2 = a1 @ va (1x1), b2 = b1 @ vb, y = a2 + b2
Graph TwoChains() {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{1, 16});
  Value a1 = ops::MatMul(b, x, b.Constant(Zeros(Shape{16, 1024}), "wa"));
  Value b1 = ops::MatMul(b, x, b.Constant(Zeros(Shape{16, 1024}), "wb"));
  Value a2 = ops::MatMul(b, a1, b.Constant(Zeros(Shape{1024, 1}), "va"));
  Value b2 = ops::MatMul(b, b1, b.Constant(Zeros(Shape{1024, 1}), "vb"));
  b.Output("y", ops::Add(b, a2, b2));
  return b.BuildGraph().value();
}

TEST(ScheduleTest, MemoryAwareFinishesTheChainThatFreesMemory) {
  Graph graph = TwoChains();
  std::vector<TensorRef> fetches = {Output(graph, "y")};
  auto aware = ScheduleNodes(graph, fetches, ScheduleOrder::kMemoryAware);
  auto by_index = ScheduleNodes(graph, fetches, ScheduleOrder::kNodeIndex);
  ASSERT_TRUE(aware.ok()) << aware.status();
  ASSERT_TRUE(by_index.ok()) << by_index.status();
  // Step 0: a1 and b1 both add 4096 bytes; the tie goes to the lower index (a1).
  // Step 1: a2 frees a1 (+4096 - 64) and wins over b1 (-4096).
  EXPECT_EQ(Names(graph, *aware),
            (std::vector<std::string>{"mat_mul", "mat_mul_2", "mat_mul_1", "mat_mul_3", "add"}));
  EXPECT_EQ(Names(graph, *by_index),
            (std::vector<std::string>{"mat_mul", "mat_mul_1", "mat_mul_2", "mat_mul_3", "add"}));
  // Memory-aware peak at b2's step: a2 (64) + b1 (4096) + b2 (64).
  EXPECT_EQ(PeakLiveBytes(graph, *aware, fetches), 4224);
  // Index order peak at a2's step: a1 + b1 + a2.
  EXPECT_EQ(PeakLiveBytes(graph, *by_index, fetches), 8256);
}

TEST(ScheduleTest, OnlyKernelNodesTheFetchesNeed) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{4});
  Value used = ops::Relu(b, x);
  Value unused = ops::Neg(b, x);
  b.Output("y", used);
  b.Output("z", unused);
  Graph graph = b.BuildGraph().value();
  auto schedule = ScheduleNodes(graph, {Output(graph, "y")});
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  EXPECT_EQ(Names(graph, *schedule), (std::vector<std::string>{"relu"}));
  // Fetching an input or a constant needs no kernel at all.
  auto none = ScheduleNodes(graph, {TensorRef{graph.FindNode("x").value(), 0}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(ScheduleNodes(graph, {TensorRef{99, 0}}).ok());
  EXPECT_FALSE(ScheduleNodes(graph, {TensorRef{0, 3}}).ok());
}

TEST(ScheduleTest, FetchedTensorsAreNeverFreed) {
  // t = relu(x) is fetched and also read by u; u = neg(t). Both stay live to the end, so
  // the peak is t + u (two 64-byte buffers).
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{16});
  Value t = ops::Relu(b, x);
  b.Output("t", t);
  b.Output("u", ops::Neg(b, t));
  Graph graph = b.BuildGraph().value();
  std::vector<TensorRef> fetches = {Output(graph, "t"), Output(graph, "u")};
  auto schedule = ScheduleNodes(graph, fetches);
  ASSERT_TRUE(schedule.ok());
  EXPECT_EQ(PeakLiveBytes(graph, *schedule, fetches), 128);
  // Fetching only u lets t die at u's step, but both are live during it.
  EXPECT_EQ(PeakLiveBytes(graph, *schedule, {fetches[1]}), 128);
}

// Checks that `schedule` is a topological order of every kernel node of `graph`.
void ExpectTopological(const Graph& graph, const std::vector<int>& schedule) {
  std::vector<int> step(graph.num_nodes(), -1);
  for (size_t s = 0; s < schedule.size(); ++s) step[schedule[s]] = static_cast<int>(s);
  for (int n = 0; n < graph.num_nodes(); ++n) {
    if (!IsKernelNode(graph.node(n))) continue;
    ASSERT_GE(step[n], 0) << graph.node(n).name << " is not scheduled";
    for (const TensorRef& in : graph.node(n).inputs) {
      if (IsKernelNode(graph.node(in.node))) {
        EXPECT_LT(step[in.node], step[n]);
      }
    }
  }
}

// On the example models (shrunk so the test stays fast), the memory-aware order never
// needs more live bytes than node index order. Full-size figures: docs/benchmarks.md.
TEST(ScheduleTest, MemoryAwareIsNoWorseThanIndexOrderOnTheExampleModels) {
  examples::ResNetConfig resnet;
  resnet.image = 32;
  resnet.base_width = 8;
  resnet.blocks[0] = resnet.blocks[1] = resnet.blocks[2] = resnet.blocks[3] = 2;
  examples::BertConfig bert;
  bert.layers = 2;
  bert.hidden = 32;
  bert.heads = 4;
  bert.ffn = 128;
  bert.seq = 16;
  examples::MlpConfig mlp;
  mlp.in = 64;
  mlp.hidden = 128;
  struct Case {
    const char* name;
    absl::StatusOr<Graph> graph;
  } cases[] = {{"mlp", examples::BuildMlp(mlp)},
               {"resnet", examples::BuildResNet50(resnet)},
               {"bert", examples::BuildBert(bert)}};
  for (Case& c : cases) {
    ASSERT_TRUE(c.graph.ok()) << c.graph.status();
    Shape shape = c.graph->node(c.graph->inputs()[0]).outputs[0].shape;
    shape.dim(0) = 2;
    auto bound = BindInputShapes(*c.graph, {{"x", shape}});
    ASSERT_TRUE(bound.ok()) << bound.status();
    std::vector<TensorRef> fetches = {Output(*bound, "y")};
    auto aware = ScheduleNodes(*bound, fetches, ScheduleOrder::kMemoryAware);
    auto by_index = ScheduleNodes(*bound, fetches, ScheduleOrder::kNodeIndex);
    ASSERT_TRUE(aware.ok() && by_index.ok());
    ExpectTopological(*bound, *aware);
    EXPECT_EQ(aware->size(), by_index->size());
    int64_t aware_peak = PeakLiveBytes(*bound, *aware, fetches);
    int64_t index_peak = PeakLiveBytes(*bound, *by_index, fetches);
    std::printf("%s: peak live bytes %lld memory-aware, %lld node index order\n", c.name,
                static_cast<long long>(aware_peak), static_cast<long long>(index_peak));
    EXPECT_LE(aware_peak, index_peak) << c.name;
  }
}

}  // namespace
}  // namespace kiln
