// The memory planner: greedy best-fit offsets asserted exactly (with the placement order
// in comments, as TFLite's planner tests do), and whole plans of small graphs as text.
#include "runtime/memory_planner.h"

#include <random>

#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "gtest/gtest.h"
#include "runtime/schedule.h"

namespace kiln {
namespace {

Placement Place(GreedyOrder order, const std::vector<BufferRequest>& buffers, int steps) {
  return CreateGreedyBestFitPlanner(order)->Place(buffers, steps);
}

TEST(GreedyBestFitTest, PicksTheSmallestGapThatFits) {
  // Steps 0..3. Placement order: b0 (whole lifetime), b1 (largest), then the 64-byte
  // buffers by first step: b2, b3, b4 (step 0), b5 (step 2).
  //   b0  64 [0,3] -> 0                     (nothing overlaps yet)
  //   b1 128 [0,1] -> 64                    (above b0)
  //   b2  64 [0,2] -> 192                   (above b1)
  //   b3  64 [0,1] -> 256
  //   b4  64 [0,2] -> 320
  //   b5  64 [2,3] -> 256: at steps 2..3 b1 and b3 are free, leaving gaps [64, 192)
  //                        (128 bytes) and [256, 320) (64 bytes); best fit takes the
  //                        smaller, where first fit would take 64.
  std::vector<BufferRequest> buffers = {{64, 0, 3}, {128, 0, 1}, {64, 0, 2},
                                        {64, 0, 1}, {64, 0, 2}, {64, 2, 3}};
  Placement p = Place(GreedyOrder::kWholeLifetimeThenSize, buffers, 4);
  EXPECT_EQ(p.offsets, (std::vector<int64_t>{0, 64, 192, 256, 320, 256}));
  EXPECT_EQ(p.arena_bytes, 384);
  EXPECT_EQ(p.strategy, "greedy-by-size");
}

TEST(GreedyBestFitTest, WholeLifetimeBuffersGoFirst) {
  // b0 is small but live at every step, so it is placed first, at the bottom:
  //   b0  64 [0,2] -> 0;  b1 256 [0,0] -> 64;  b2 256 [1,2] -> 64 (b1 is dead by then)
  std::vector<BufferRequest> buffers = {{64, 0, 2}, {256, 0, 0}, {256, 1, 2}};
  Placement p = Place(GreedyOrder::kWholeLifetimeThenSize, buffers, 3);
  EXPECT_EQ(p.offsets, (std::vector<int64_t>{0, 64, 64}));
  EXPECT_EQ(p.arena_bytes, 320);
  // By lifetime instead: b0 (3 steps), b2 (2 steps), b1 -> the same offsets here.
  EXPECT_EQ(Place(GreedyOrder::kLongestLifetime, buffers, 3).offsets,
            (std::vector<int64_t>{0, 64, 64}));
}

TEST(GreedyBestFitTest, RoundsSizesToSixtyFourBytes) {
  // 1 byte and 65 bytes live together take 64 + 128; the empty buffer takes nothing.
  std::vector<BufferRequest> buffers = {{1, 0, 0}, {65, 0, 0}, {0, 0, 0}};
  Placement p = Place(GreedyOrder::kWholeLifetimeThenSize, buffers, 1);
  // Order: b0 and b1 are whole-lifetime; b1 is larger: b1 -> 0, b0 -> 128.
  EXPECT_EQ(p.offsets, (std::vector<int64_t>{128, 0, 0}));
  EXPECT_EQ(p.arena_bytes, 192);
}

TEST(GreedyBestFitTest, AreaOrderPlacesLongLargeBuffersFirst) {
  // Areas (aligned size x steps): b0 64x4 = 256, b1 128x1 = 128, b2 64x3 = 192.
  // Order b0, b2, b1:  b0 -> 0;  b2 [1,3] -> 64;  b1 [0,0] overlaps b0 only -> 64.
  std::vector<BufferRequest> buffers = {{64, 0, 3}, {128, 0, 0}, {64, 1, 3}};
  Placement p = Place(GreedyOrder::kArea, buffers, 4);
  EXPECT_EQ(p.offsets, (std::vector<int64_t>{0, 64, 64}));
  EXPECT_EQ(p.arena_bytes, 192);
  EXPECT_EQ(p.strategy, "greedy-by-area");
}

// Every strategy on random buffers: aligned offsets, no overlap of buffers live at one
// step, arena at least the lower bound; best-of is the smallest of them.
TEST(GreedyBestFitTest, RandomBuffersNeverOverlap) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const int steps = 1 + rng() % 20;
    std::vector<BufferRequest> buffers(1 + rng() % 40);
    for (BufferRequest& b : buffers) {
      b.size = rng() % 5000;
      b.first = rng() % steps;
      b.last = b.first + rng() % (steps - b.first);
    }
    int64_t lower_bound = 0;
    for (int s = 0; s < steps; ++s) {
      int64_t live = 0;
      for (const BufferRequest& b : buffers) {
        if (b.first <= s && s <= b.last) live += (b.size + 63) / 64 * 64;
      }
      lower_bound = std::max(lower_bound, live);
    }
    int64_t smallest = INT64_MAX;
    for (GreedyOrder order : {GreedyOrder::kWholeLifetimeThenSize, GreedyOrder::kArea,
                              GreedyOrder::kLongestLifetime}) {
      Placement p = Place(order, buffers, steps);
      smallest = std::min(smallest, p.arena_bytes);
      EXPECT_GE(p.arena_bytes, lower_bound);
      for (size_t i = 0; i < buffers.size(); ++i) {
        EXPECT_EQ(p.offsets[i] % 64, 0);
        EXPECT_LE(p.offsets[i] + buffers[i].size, p.arena_bytes);
        for (size_t j = i + 1; j < buffers.size(); ++j) {
          const BufferRequest& a = buffers[i];
          const BufferRequest& b = buffers[j];
          if (a.size == 0 || b.size == 0 || a.last < b.first || b.last < a.first) continue;
          bool apart = p.offsets[i] + a.size <= p.offsets[j] || p.offsets[j] + b.size <= p.offsets[i];
          EXPECT_TRUE(apart) << "trial " << trial << ": buffers " << i << " and " << j;
        }
      }
    }
    EXPECT_EQ(CreateBestOfGreedyPlanner()->Place(buffers, steps).arena_bytes, smallest);
  }
}

// x (f32[16], 64 bytes) -> add(x, w) -> relu -> mul(., x) -> neg -> y
Graph Chain() {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{16});
  Value w = b.Constant(Tensor::Allocate(DataType::kF32, Shape{16}).value(), "w");
  Value y = ops::Neg(b, ops::Mul(b, ops::Relu(b, ops::Add(b, x, w)), x));
  b.Output("y", y);
  return b.BuildGraph().value();
}

absl::StatusOr<MemoryPlan> PlanChain(const Graph& graph, const MemoryPlanOptions& options,
                                     std::vector<StepMemoryInfo> infos = {}) {
  std::vector<TensorRef> fetches = {graph.outputs()[0].tensor};
  std::vector<int> schedule = ScheduleNodes(graph, fetches).value();
  if (infos.empty()) infos.assign(schedule.size(), StepMemoryInfo{0, 0});  // all in place
  return PlanMemory(graph, schedule, infos, fetches, options);
}

TEST(PlanMemoryTest, InPlaceChainSharesOneBuffer) {
  Graph graph = Chain();
  auto plan = PlanChain(graph, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  // Each op's input 0 dies at it, so add, relu, mul and neg all use one slice; the
  // fetched output stays in the arena (outputs: arena). x is read at steps 0 and 2.
  EXPECT_EQ(plan->ToString(),
            "steps: 4, outputs: arena, planner: greedy-by-size\n"
            "arena: 64, naive: 256, lower bound: 64, weights: 64\n"
            "peak step: 0 (add)\n"
            "  x: f32[16] input 0 live 0..2\n"
            "  w: f32[16] weights[0, 64)\n"
            "  add: f32[16] arena[0, 64) live 0..1\n"
            "  relu: f32[16] arena[0, 64) live 1..2 in place of add\n"
            "  mul: f32[16] arena[0, 64) live 2..3 in place of relu\n"
            "  neg: f32[16] arena[0, 64) live 3..3 in place of mul\n");
}

TEST(PlanMemoryTest, WithoutInPlaceNeighboursAlternate) {
  Graph graph = Chain();
  MemoryPlanOptions options;
  options.inplace = false;
  auto plan = PlanChain(graph, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // Order by first step (equal sizes): add [0,1] -> 0; relu [1,2] -> 64;
  // mul [2,3] -> 0 (add is dead); neg [3,3] -> 64 (relu is dead).
  EXPECT_EQ(plan->arena_bytes, 128);
  EXPECT_EQ(plan->lower_bound_bytes, 128);
  EXPECT_EQ(plan->naive_bytes, 256);
  EXPECT_EQ(plan->peak_step, 1);
  std::vector<int64_t> offsets;
  for (const PlannedValue& v : plan->values) {
    if (v.slice.region == Region::kArena) offsets.push_back(v.slice.offset);
  }
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 64, 0, 64}));
}

TEST(PlanMemoryTest, CallerBufferOutputsLeaveTheArena) {
  Graph graph = Chain();
  MemoryPlanOptions options;
  options.outputs = OutputPlacement::kCallerBuffer;
  auto plan = PlanChain(graph, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // neg is written into the caller's buffer of fetch 0, so it cannot take mul's slice.
  const PlannedValue& neg = plan->values[plan->FindValue(graph.outputs()[0].tensor)];
  EXPECT_EQ(neg.slice.region, Region::kOutput);
  EXPECT_EQ(neg.index, 0);
  EXPECT_EQ(neg.reuses, -1);
  EXPECT_EQ(plan->arena_bytes, 64);
  EXPECT_EQ(plan->naive_bytes, 192);
}

TEST(PlanMemoryTest, ScratchLivesAtItsStepOnly) {
  Graph graph = Chain();
  MemoryPlanOptions options;
  options.inplace = false;
  // Step 1 (relu) asks for 100 bytes of scratch: live at step 1 with add and relu.
  auto plan = PlanChain(graph, options, {{0, -1}, {100, -1}, {0, -1}, {0, -1}});
  ASSERT_TRUE(plan.ok()) << plan.status();
  int scratch = -1;
  for (size_t v = 0; v < plan->values.size(); ++v) {
    if (plan->values[v].tensor.output == -1) scratch = static_cast<int>(v);
  }
  ASSERT_GE(scratch, 0);
  const PlannedValue& s = plan->values[scratch];
  EXPECT_EQ(s.name, "relu#scratch");
  EXPECT_EQ(s.bytes, 100);
  EXPECT_EQ(s.first_step, 1);
  EXPECT_EQ(s.last_step, 1);
  // Placement (largest first): scratch (128) -> 0; add [0,1] -> 128; relu [1,2] -> 192;
  // mul [2,3] -> 0; neg [3,3] -> 64.
  EXPECT_EQ(s.slice.offset, 0);
  EXPECT_EQ(plan->lower_bound_bytes, 256);
  EXPECT_EQ(plan->arena_bytes, 256);
  EXPECT_EQ(plan->peak_step, 1);
  ASSERT_EQ(plan->peak_values.size(), 3u);
  EXPECT_EQ(plan->values[plan->peak_values[0]].name, "relu#scratch");
}

TEST(PlanMemoryTest, InputsAreNeverReusedInPlace) {
  // relu(x): x is fed by the caller, so relu cannot write over it even though x dies.
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{16});
  b.Output("y", ops::Relu(b, x));
  Graph graph = b.BuildGraph().value();
  auto plan = PlanChain(graph, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->values[plan->FindValue(graph.outputs()[0].tensor)].reuses, -1);
  EXPECT_EQ(plan->arena_bytes, 64);
}

TEST(PlanMemoryTest, FetchedValuesAreNotOverwrittenInPlace) {
  // t = relu(x) is fetched and read by u = neg(t): u may not take t's slice.
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{16});
  Value t = ops::Relu(b, x);
  b.Output("u", ops::Neg(b, t));
  b.Output("t", t);
  Graph graph = b.BuildGraph().value();
  std::vector<TensorRef> fetches = {graph.outputs()[0].tensor, graph.outputs()[1].tensor};
  std::vector<int> schedule = ScheduleNodes(graph, fetches).value();
  auto plan = PlanMemory(graph, schedule, {{0, 0}, {0, 0}}, fetches);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->values[plan->FindValue(fetches[0])].reuses, -1);
  EXPECT_EQ(plan->arena_bytes, 128);
  // Both fetched values are live at the last step, for the copy-out.
  EXPECT_EQ(plan->values[plan->FindValue(fetches[1])].last_step, 1);
}

TEST(PlanMemoryTest, WeightsAndFetchedSourcesHaveValues) {
  Graph graph = Chain();
  TensorRef w{graph.FindNode("w").value(), 0};
  TensorRef x{graph.FindNode("x").value(), 0};
  auto plan = PlanMemory(graph, {}, {}, {w, x});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->values.size(), 2u);
  EXPECT_EQ(plan->values[plan->FindValue(w)].slice.region, Region::kWeights);
  EXPECT_EQ(plan->values[plan->FindValue(x)].slice.region, Region::kInput);
  EXPECT_EQ(plan->arena_bytes, 0);
  EXPECT_EQ(plan->peak_step, -1);
}

TEST(PlanMemoryTest, LayoutWeightsAlignsEveryConstant) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{3});
  Value c1 = b.Constant(Tensor::F32(Shape{3}, {1, 2, 3}), "c1");     // 12 bytes
  Value c2 = b.Constant(Tensor::F32(Shape{20}, {}), "c2");           // 80 bytes
  b.Output("y", ops::Add(b, ops::Add(b, x, c1), ops::Slice(b, c2, {0}, {3})));
  Graph graph = b.BuildGraph().value();
  WeightsLayout layout = LayoutWeights(graph);
  EXPECT_EQ(layout.offset[graph.FindNode("c1").value()], 0);
  EXPECT_EQ(layout.offset[graph.FindNode("c2").value()], 64);
  EXPECT_EQ(layout.offset[graph.FindNode("x").value()], -1);
  EXPECT_EQ(layout.bytes, 192);
}

TEST(PlanMemoryTest, Errors) {
  Graph graph = Chain();
  std::vector<TensorRef> fetches = {graph.outputs()[0].tensor};
  std::vector<int> schedule = ScheduleNodes(graph, fetches).value();
  auto short_infos = PlanMemory(graph, schedule, {{0, -1}}, fetches);
  ASSERT_FALSE(short_infos.ok());
  EXPECT_NE(short_infos.status().message().find("1 kernels for 4 steps"), std::string::npos);
  auto bad_inplace = PlanMemory(graph, schedule, {{0, 5}, {0, -1}, {0, -1}, {0, -1}}, fetches);
  ASSERT_FALSE(bad_inplace.ok());
  EXPECT_NE(bad_inplace.status().message().find("node 'add' (Add): kernel's inplace_input 5"),
            std::string::npos)
      << bad_inplace.status();
  // A schedule missing a producer.
  auto missing = PlanMemory(graph, {schedule[1]}, {{0, -1}}, fetches);
  EXPECT_FALSE(missing.ok());
}

}  // namespace
}  // namespace kiln
