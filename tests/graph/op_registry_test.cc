// Registry-wide invariants: every op is complete, its defaults have the declared types,
// and the op set covers what Kiln promises to run.
#include "graph/op_registry.h"

#include "gtest/gtest.h"

namespace kiln {
namespace {

TEST(OpRegistryTest, EveryOpIsComplete) {
  for (const OpDef* def : OpRegistry::Global().ops()) {
    SCOPED_TRACE(def->name);
    EXPECT_FALSE(def->summary.empty());
    // Structural ops (Fusion) are inferred and run by the verifier and the evaluator.
    EXPECT_EQ(def->structural, def->name == "Fusion") << def->name;
    if (!def->structural) {
      EXPECT_TRUE(def->infer) << def->name;
      EXPECT_TRUE(def->reference) << def->name;
    }
    EXPECT_GE(def->min_inputs, 0);
    EXPECT_TRUE(def->max_inputs < 0 || def->max_inputs >= def->min_inputs);
    EXPECT_GE(static_cast<int>(def->input_names.size()), def->min_inputs);
    EXPECT_EQ(def->Has(kSource), def->max_inputs == 0);
    for (const AttrSpec& attr : def->attrs) {
      if (attr.default_value) {
        EXPECT_EQ(TypeOf(*attr.default_value), attr.type) << "attribute " << attr.name;
      }
    }
  }
}

TEST(OpRegistryTest, CoversThePromisedOpSet) {
  const char* kOps[] = {
      "Constant", "Input", "Identity", "Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum",
      "Neg", "Abs", "Exp", "Log", "Sqrt", "Rsqrt", "Tanh", "Sigmoid", "Relu", "Gelu", "Erf",
      "Cast", "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "Where",
      "MatMul", "Conv2D", "MaxPool", "AvgPool", "GlobalAvgPool", "BatchNorm", "Softmax",
      "LayerNorm", "ReduceSum", "ReduceMean", "ReduceMax", "Reshape", "Transpose", "Concat",
      "Slice", "Gather", "Pad", "Flatten", "BiasAdd"};
  for (const char* op : kOps) EXPECT_NE(OpRegistry::Global().Find(op), nullptr) << op;
}

TEST(OpRegistryTest, RejectsDuplicatesAndIncompleteDefinitions) {
  OpRegistry registry;
  OpDef def;
  def.name = "Thing";
  EXPECT_FALSE(registry.Register(def).ok());  // no shape function or kernel
  def.infer = [](InferContext&) { return absl::OkStatus(); };
  def.reference = [](KernelContext&) { return absl::OkStatus(); };
  EXPECT_TRUE(registry.Register(def).ok());
  absl::Status again = registry.Register(def);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(registry.Find("Thing"), nullptr);
  EXPECT_EQ(registry.Find("thing"), nullptr);
}

}  // namespace
}  // namespace kiln
