// The proto form of the memory plan: exact round trips on the example models' plans, and
// clear errors for hostile or damaged protos.
#include "runtime/memory_plan_proto.h"

#include <string>
#include <vector>

#include "examples/models.h"
#include "graph/bind_shapes.h"
#include "gtest/gtest.h"
#include "runtime/default_provider.h"
#include "runtime/build_plan.h"
#include "runtime/plan.h"

namespace kiln {
namespace {

void ExpectSamePlan(const MemoryPlan& a, const MemoryPlan& b) {
  EXPECT_EQ(a.ToString(), b.ToString());
  ASSERT_EQ(a.values.size(), b.values.size());
  for (size_t v = 0; v < a.values.size(); ++v) {
    const PlannedValue& x = a.values[v];
    const PlannedValue& y = b.values[v];
    EXPECT_EQ(x.name, y.name) << v;
    EXPECT_EQ(x.tensor, y.tensor) << v;
    EXPECT_EQ(x.type, y.type) << v;
    EXPECT_EQ(x.bytes, y.bytes) << v;
    EXPECT_EQ(x.first_step, y.first_step) << v;
    EXPECT_EQ(x.last_step, y.last_step) << v;
    EXPECT_EQ(x.slice.region, y.slice.region) << v;
    EXPECT_EQ(x.slice.offset, y.slice.offset) << v;
    EXPECT_EQ(x.slice.size, y.slice.size) << v;
    EXPECT_EQ(x.slice.space, y.slice.space) << v;
    EXPECT_EQ(x.index, y.index) << v;
    EXPECT_EQ(x.reuses, y.reuses) << v;
  }
  EXPECT_EQ(a.num_steps, b.num_steps);
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_EQ(a.planner, b.planner);
  EXPECT_EQ(a.arena_bytes, b.arena_bytes);
  EXPECT_EQ(a.weights_bytes, b.weights_bytes);
  EXPECT_EQ(a.naive_bytes, b.naive_bytes);
  EXPECT_EQ(a.lower_bound_bytes, b.lower_bound_bytes);
  EXPECT_EQ(a.peak_step, b.peak_step);
  EXPECT_EQ(a.peak_values, b.peak_values);
}

// The plan Session would make for a small example model at batch 2.
MemoryPlan ExamplePlan(absl::StatusOr<Graph> graph, OutputPlacement placement) {
  EXPECT_TRUE(graph.ok()) << graph.status();
  Shape shape = graph->node(graph->inputs()[0]).outputs[0].shape;
  shape.dim(0) = 2;
  absl::StatusOr<Graph> bound = BindInputShapes(*graph, {{"x", shape}});
  EXPECT_TRUE(bound.ok()) << bound.status();
  std::vector<TensorRef> fetches = {bound->outputs()[0].tensor};
  PlanOptions options;
  options.memory.outputs = placement;
  absl::StatusOr<Plan> plan = BuildPlan(*bound, fetches, *DefaultKernelProvider(), options);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan->memory;
}

TEST(MemoryPlanProtoTest, ExampleModelsRoundTripExactly) {
  examples::MlpConfig mlp;
  mlp.in = 64;
  mlp.hidden = 128;
  examples::ResNetConfig resnet;
  resnet.image = 32;
  resnet.base_width = 8;
  resnet.blocks[0] = resnet.blocks[1] = resnet.blocks[2] = resnet.blocks[3] = 1;
  std::vector<MemoryPlan> plans = {
      ExamplePlan(examples::BuildMlp(mlp), OutputPlacement::kArena),
      ExamplePlan(examples::BuildMlp(mlp), OutputPlacement::kCallerBuffer),
      ExamplePlan(examples::BuildResNet50(resnet), OutputPlacement::kCallerBuffer),
      ExamplePlan(examples::BuildEltwise(), OutputPlacement::kArena),
  };
  for (const MemoryPlan& plan : plans) {
    ASSERT_FALSE(plan.values.empty());
    // Through the wire format, as an artifact would store it.
    std::string bytes = MemoryPlanToProto(plan).SerializeAsString();
    proto::MemoryPlan parsed;
    ASSERT_TRUE(parsed.ParseFromString(bytes));
    absl::StatusOr<MemoryPlan> back = MemoryPlanFromProto(parsed);
    ASSERT_TRUE(back.ok()) << back.status();
    ExpectSamePlan(plan, *back);
    // And the proto of the plan read back is the same proto.
    EXPECT_EQ(MemoryPlanToProto(*back).SerializeAsString(), bytes);
  }
}

TEST(MemoryPlanProtoTest, DamagedProtosAreErrorsNamingTheValue) {
  examples::MlpConfig mlp;
  mlp.in = 8;
  mlp.hidden = 16;
  const proto::MemoryPlan good = MemoryPlanToProto(ExamplePlan(examples::BuildMlp(mlp),
                                                               OutputPlacement::kArena));
  ASSERT_GE(good.values_size(), 3);
  struct Case {
    const char* name;
    void (*damage)(proto::MemoryPlan&);
    const char* error;
  } cases[] = {
      {"region", [](proto::MemoryPlan& p) { p.mutable_values(1)->mutable_slice()->set_region(static_cast<proto::Region>(9)); },
       "memory plan: value 1: region 9 is unknown"},
      {"space", [](proto::MemoryPlan& p) { p.mutable_values(2)->mutable_slice()->set_space(static_cast<proto::MemorySpace>(3)); },
       "memory plan: value 2: memory space 3 is unknown"},
      {"dtype", [](proto::MemoryPlan& p) { p.mutable_values(0)->set_dtype(proto::DT_INVALID); },
       "memory plan: value 0: dtype 0 is not a Kiln dtype"},
      {"reuses", [](proto::MemoryPlan& p) { p.mutable_values(1)->set_reuses(1000); },
       "memory plan: value 1: reuses value 1000"},
      {"negative_size", [](proto::MemoryPlan& p) { p.mutable_values(1)->set_bytes(-5); },
       "memory plan: value 1: negative size"},
      {"negative_offset", [](proto::MemoryPlan& p) { p.mutable_values(1)->mutable_slice()->set_offset(-64); },
       "memory plan: value 1: negative slice"},
      {"rank", [](proto::MemoryPlan& p) { for (int i = 0; i < 100; ++i) p.mutable_values(0)->add_dims(1); },
       "memory plan: value 0: rank"},
      {"huge_shape", [](proto::MemoryPlan& p) { p.mutable_values(0)->clear_dims(); p.mutable_values(0)->add_dims(int64_t{1} << 40); p.mutable_values(0)->add_dims(int64_t{1} << 40); },
       "memory plan: value 0: shape [1099511627776,1099511627776]: element count exceeds 2^40"},
      {"placement", [](proto::MemoryPlan& p) { p.set_outputs(static_cast<proto::OutputPlacement>(7)); },
       "memory plan: output placement 7 is unknown"},
      {"peak", [](proto::MemoryPlan& p) { p.add_peak_values(-1); },
       "memory plan: peak value -1 is not a value"},
  };
  for (const Case& c : cases) {
    proto::MemoryPlan damaged = good;
    c.damage(damaged);
    absl::StatusOr<MemoryPlan> plan = MemoryPlanFromProto(damaged);
    ASSERT_FALSE(plan.ok()) << c.name;
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(std::string(plan.status().message()).find(c.error), std::string::npos)
        << c.name << ": " << plan.status();
  }
}

}  // namespace
}  // namespace kiln
