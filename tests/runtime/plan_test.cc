// Plans: steps, operands and parameter blocks as BuildPlan lays them out, and the plan
// verifier rejecting every kind of broken plan.
#include "runtime/build_plan.h"
#include "runtime/plan.h"

#include "absl/strings/str_cat.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "gtest/gtest.h"
#include "runtime/alignment.h"
#include "tests/runtime/test_kernel_provider.h"

namespace kiln {
namespace {

using testing::TestKernelProvider;
using testing::TestProviderOptions;

// y = relu(x @ w + b), x: f32[2, 4], w: f32[4, 3], b: f32[3]
Graph Dense() {
  GraphBuilder builder;
  Value x = builder.Input("x", DataType::kF32, Shape{2, 4});
  Value w = builder.Constant(Tensor::Allocate(DataType::kF32, Shape{4, 3}).value(), "w");
  Value b = builder.Constant(Tensor::Allocate(DataType::kF32, Shape{3}).value(), "b");
  builder.Output("y", ops::Relu(builder, ops::Add(builder, ops::MatMul(builder, x, w), b)));
  return builder.BuildGraph().value();
}

void ExpectError(const absl::Status& status, const std::string& text) {
  ASSERT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find(text), std::string::npos) << status;
}

TEST(PlanTest, BuildsStepsOperandsAndAlignedParams) {
  Graph graph = Dense();
  TestProviderOptions options;
  options.workgroups = 2;
  options.scratch_bytes = 8;
  TestKernelProvider provider(options);
  auto plan = BuildPlan(graph, {graph.outputs()[0].tensor}, provider);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(VerifyPlan(*plan).ok()) << VerifyPlan(*plan);
  ASSERT_EQ(plan->steps.size(), 3u);
  EXPECT_EQ(plan->provider, "test");
  // Every parameter block starts on a 64-byte boundary of one aligned block.
  EXPECT_TRUE(IsAligned(plan->params.data()));
  for (const PlanStep& step : plan->steps) {
    EXPECT_EQ(step.params_offset % 64, 0);
    EXPECT_GT(step.params_size, 0);
    EXPECT_EQ(step.dispatch.workgroup_count, 2);
  }
  EXPECT_EQ(plan->steps[1].params_offset, AlignUp(plan->steps[0].params_size));
  // Steps list inputs, outputs, then the scratch.
  std::string text = plan->ToString();
  EXPECT_NE(text.find("step 0: mat_mul test.MatMul wg=2 params=0+"), std::string::npos) << text;
  EXPECT_NE(text.find("(x, w -> mat_mul; mat_mul#scratch)"), std::string::npos) << text;
  EXPECT_NE(text.find("(mat_mul, b -> add; add#scratch)"), std::string::npos) << text;
  EXPECT_NE(text.find("(add -> relu; relu#scratch)"), std::string::npos) << text;
  // The plan's parameter block holds the bytes the provider packed.
  PreparedKernel kernel = provider.Prepare(graph, graph.node(plan->steps[0].node)).value();
  ASSERT_EQ(plan->steps[0].params_size, static_cast<int64_t>(kernel.params.size()));
  EXPECT_EQ(0, std::memcmp(plan->params.data(), kernel.params.data(), kernel.params.size()));
  // Inputs and fetches point at their values.
  ASSERT_EQ(plan->inputs.size(), 1u);
  EXPECT_EQ(plan->value(plan->inputs[0]).name, "x");
  EXPECT_EQ(plan->input_types[0].ToString(), "f32[2,4]");
  ASSERT_EQ(plan->fetches.size(), 1u);
  EXPECT_EQ(plan->value(plan->fetches[0]).name, "relu");
}

TEST(PlanTest, CopiesAreDeep) {
  Graph graph = Dense();
  auto plan = BuildPlan(graph, {graph.outputs()[0].tensor}, TestKernelProvider());
  ASSERT_TRUE(plan.ok());
  Plan copy = *plan;
  EXPECT_NE(copy.params.data(), plan->params.data());
  EXPECT_TRUE(IsAligned(copy.params.data()));
  EXPECT_EQ(copy.ToString(), plan->ToString());
  EXPECT_TRUE(VerifyPlan(copy).ok());
}

TEST(PlanTest, ProviderErrorsNameTheNode) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{4});
  b.Output("y", ops::Exp(b, x));
  Graph graph = b.BuildGraph().value();
  auto plan = BuildPlan(graph, {graph.outputs()[0].tensor}, TestKernelProvider());
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kUnimplemented);
  ExpectError(plan.status(), "node 'exp' (Exp)");
}

// A provider handing out broken kernels.
class BrokenProvider : public KernelProvider {
 public:
  explicit BrokenProvider(PreparedKernel kernel) : kernel_(std::move(kernel)) {}
  absl::string_view name() const override { return "broken"; }
  absl::StatusOr<PreparedKernel> Prepare(const Graph&, const Node&) const override {
    return kernel_;
  }

 private:
  PreparedKernel kernel_;
};

int32_t Nop(const kiln_kernel_call*, int64_t, int64_t) { return 0; }

TEST(PlanTest, RejectsBrokenPreparedKernels) {
  Graph graph = Dense();
  std::vector<TensorRef> fetches = {graph.outputs()[0].tensor};
  PreparedKernel no_fn;
  no_fn.name = "k";
  ExpectError(BuildPlan(graph, fetches, BrokenProvider(no_fn)).status(),
              "node 'mat_mul' (MatMul): kernel 'k' of broken has no function");
  PreparedKernel zero_groups;
  zero_groups.fn = Nop;
  zero_groups.workgroup_count = 0;
  ExpectError(BuildPlan(graph, fetches, BrokenProvider(zero_groups)).status(),
              "has workgroup_count 0");
  zero_groups.workgroup_count = kMaxWorkgroups + 1;
  ExpectError(BuildPlan(graph, fetches, BrokenProvider(zero_groups)).status(),
              absl::StrCat("has workgroup_count ", kMaxWorkgroups + 1));
  PreparedKernel bad_inplace;
  bad_inplace.fn = Nop;
  bad_inplace.inplace_input = 2;
  ExpectError(BuildPlan(graph, fetches, BrokenProvider(bad_inplace)).status(),
              "has inplace_input 2 of 2 inputs");
  PreparedKernel negative_scratch;
  negative_scratch.fn = Nop;
  negative_scratch.scratch_bytes = -1;
  ExpectError(BuildPlan(graph, fetches, BrokenProvider(negative_scratch)).status(),
              "asks for -1 scratch bytes");
}

class VerifyPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    graph_ = Dense();
    PlanOptions options;
    options.memory.inplace = false;
    plan_ = BuildPlan(graph_, {graph_.outputs()[0].tensor}, TestKernelProvider(), options).value();
    ASSERT_TRUE(VerifyPlan(plan_).ok()) << VerifyPlan(plan_);
  }
  PlannedValue& Value(const std::string& name) {
    for (PlannedValue& v : plan_.memory.values) {
      if (v.name == name) return v;
    }
    ADD_FAILURE() << "no value " << name;
    return plan_.memory.values[0];
  }
  Graph graph_;
  Plan plan_;
};

TEST_F(VerifyPlanTest, OverlappingLiveSlices) {
  // mat_mul [0,1] and add [1,2] are both live at step 1.
  Value("add").slice.offset = Value("mat_mul").slice.offset;
  ExpectError(VerifyPlan(plan_), "value 4 ('add'): overlaps 'mat_mul' in the arena");
}

TEST_F(VerifyPlanTest, InPlaceHandoverOnlyAtTheStepThatReadsAndWrites) {
  // add taking over mat_mul's slice at step 1 is a valid in-place handover: step 1 reads
  // mat_mul and writes add, and mat_mul dies there.
  PlannedValue& add = Value("add");
  Value("relu").slice.offset = add.slice.offset;  // relu had taken mat_mul's old slice
  add.slice.offset = Value("mat_mul").slice.offset;
  add.reuses = plan_.memory.FindValue(Value("mat_mul").tensor);
  EXPECT_TRUE(VerifyPlan(plan_).ok()) << VerifyPlan(plan_);
  // Not if mat_mul were still live after the handover.
  Value("mat_mul").last_step = 2;
  ExpectError(VerifyPlan(plan_), "value 4 ('add'): overlaps 'mat_mul'");
}

TEST_F(VerifyPlanTest, UnalignedOrOutOfBoundsSlices) {
  Value("add").slice.offset += 4;
  ExpectError(VerifyPlan(plan_), "'add'): arena slice");
  SetUp();
  Value("add").slice.offset = plan_.memory.arena_bytes;
  ExpectError(VerifyPlan(plan_), "outside the region");
  SetUp();
  Value("w").slice.offset = 64 * 1000;
  ExpectError(VerifyPlan(plan_), "'w'): weights slice");
}

TEST_F(VerifyPlanTest, KernelsMayNotWriteInputsOrWeights) {
  plan_.steps[0].operands[2] = plan_.memory.FindValue(Value("w").tensor);
  ExpectError(VerifyPlan(plan_), "step 0 (node 'mat_mul'): writes weights value 'w'");
}

TEST_F(VerifyPlanTest, OperandsMustBeLive) {
  // relu (step 2) reading mat_mul, which died at step 1.
  plan_.steps[2].operands[0] = plan_.memory.FindValue(Value("mat_mul").tensor);
  ExpectError(VerifyPlan(plan_), "step 2 (node 'relu'): operand 'mat_mul' is not live");
}

TEST_F(VerifyPlanTest, MisalignedParamsAndBadSteps) {
  plan_.steps[1].params_offset = 8;
  ExpectError(VerifyPlan(plan_), "step 1 (node 'add'): parameter block");
  SetUp();
  // Functions are resolved after verification (a loaded plan has none yet); the
  // executor is what requires them.
  plan_.steps[1].dispatch.fn = nullptr;
  EXPECT_TRUE(VerifyPlan(plan_).ok());
  SetUp();
  plan_.steps[1].dispatch.workgroup_count = kMaxWorkgroups + 1;
  ExpectError(VerifyPlan(plan_),
              "step 1 (node 'add'): workgroup count 1048577 outside [1, 1048576]");
  SetUp();
  plan_.steps[1].operands.push_back(1000);
  ExpectError(VerifyPlan(plan_), "step 1 (node 'add'): operand 3 has value 1000");
  plan_.steps[1].operands.push_back(1000);
  ExpectError(VerifyPlan(plan_), "operand counts");
  SetUp();
  plan_.steps.pop_back();
  ExpectError(VerifyPlan(plan_), "3 scheduled nodes, 2 steps");
}

TEST_F(VerifyPlanTest, ArenaFetchesLiveToTheEnd) {
  Value("relu").last_step = 1;
  Value("relu").first_step = 1;
  ExpectError(VerifyPlan(plan_), "fetched from the arena but dead after step 1");
}

}  // namespace
}  // namespace kiln
