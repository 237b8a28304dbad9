// The ONNX importer on models built here: graph inputs and initializers, symbolic
// dimensions, Constant forms, attribute defaults, constant folding of shape subgraphs,
// external data and its path checks, the decompositions (Gemm, Conv auto_pad, Flatten,
// BatchNormalization, LayerNormalization, Erf GELU) checked against hand-computed values,
// and the errors and report for unsupported ops and attributes.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "graph/onnx/onnx_importer.h"
#include "graph/onnx/onnx_tensor.h"
#include "gtest/gtest.h"
#include "onnx/onnx-ml.pb.h"
#include "runtime/session.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// Builds small ModelProtos.
class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset = 13) {
    model_.set_ir_version(8);
    onnx::OperatorSetIdProto* op_set = model_.add_opset_import();
    op_set->set_domain("");
    op_set->set_version(opset);
  }

  // A graph input; dims < 0 become symbolic ("N").
  ModelBuilder& Input(const std::string& name, int elem_type, const std::vector<int64_t>& dims) {
    FillValueInfo(model_.mutable_graph()->add_input(), name, elem_type, dims);
    return *this;
  }
  ModelBuilder& Output(const std::string& name, int elem_type = onnx::TensorProto::FLOAT) {
    onnx::ValueInfoProto* v = model_.mutable_graph()->add_output();
    v->set_name(name);
    v->mutable_type()->mutable_tensor_type()->set_elem_type(elem_type);
    v->mutable_type()->mutable_tensor_type()->mutable_shape();
    return *this;
  }
  ModelBuilder& Initializer(const std::string& name, const Tensor& value) {
    *model_.mutable_graph()->add_initializer() = TensorToOnnx(value, name);
    return *this;
  }
  onnx::NodeProto& Node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    onnx::NodeProto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? outputs[0] : name);
    for (const std::string& in : inputs) n->add_input(in);
    for (const std::string& out : outputs) n->add_output(out);
    return *n;
  }
  onnx::ModelProto& model() { return model_; }

 private:
  static void FillValueInfo(onnx::ValueInfoProto* v, const std::string& name, int elem_type,
                            const std::vector<int64_t>& dims) {
    v->set_name(name);
    onnx::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(elem_type);
    onnx::TensorShapeProto* shape = t->mutable_shape();
    for (int64_t d : dims) {
      if (d < 0) {
        shape->add_dim()->set_dim_param("N");
      } else {
        shape->add_dim()->set_dim_value(d);
      }
    }
  }
  onnx::ModelProto model_;
};

void SetInt(onnx::NodeProto& n, const std::string& name, int64_t v) {
  onnx::AttributeProto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
void SetFloat(onnx::NodeProto& n, const std::string& name, float v) {
  onnx::AttributeProto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
void SetInts(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  onnx::AttributeProto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}
void SetString(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  onnx::AttributeProto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

constexpr int kFloat = onnx::TensorProto::FLOAT;
constexpr int kInt64 = onnx::TensorProto::INT64;

std::vector<float> Floats(const Tensor& t) {
  std::vector<float> v(t.NumElements());
  for (int64_t i = 0; i < t.NumElements(); ++i) v[i] = static_cast<float>(t.GetAsDouble(i));
  return v;
}

// Imports `model` and runs it on `feeds` (by graph input name); one output tensor each.
std::vector<Tensor> ImportAndRun(const onnx::ModelProto& model, const Feeds& feeds,
                                 const OnnxImportOptions& options = {}) {
  absl::StatusOr<Graph> graph = ImportOnnxModel(model, options);
  EXPECT_TRUE(graph.ok()) << graph.status();
  if (!graph.ok()) return {};
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(*std::move(graph));
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok()) return {};
  absl::StatusOr<std::vector<Tensor>> out = (*session)->Run(feeds);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : std::vector<Tensor>{};
}

int CountOps(const Graph& graph, absl::string_view op) {
  int n = 0;
  for (const kiln::Node& node : graph.nodes()) n += node.op == op ? 1 : 0;
  return n;
}

// ------------------------------------------------------------------ graph signature

TEST(OnnxImporterTest, InputsInitializersAndSymbolicDims) {
  ModelBuilder b;
  b.Input("x", kFloat, {-1, 3}).Input("w", kFloat, {3}).Output("y");
  // "w" is both a graph input and an initializer: a constant, not a graph input.
  b.Initializer("w", Tensor::F32(Shape{3}, {1, 2, 3}));
  b.Node("Mul", {"x", "w"}, {"y"});
  absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->inputs().size(), 1u);
  const kiln::Node& x = graph->node(graph->inputs()[0]);
  EXPECT_EQ(x.name, "x");
  EXPECT_EQ(x.ints_attr("shape"), (std::vector<int64_t>{-1, 3}));
  ASSERT_EQ(graph->outputs().size(), 1u);
  EXPECT_EQ(graph->outputs()[0].name, "y");
  std::vector<Tensor> out = ImportAndRun(b.model(), {{"x", Tensor::F32(Shape{2, 3}, {1, 1, 1, 2, 2, 2})}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Floats(out[0]), (std::vector<float>{1, 2, 3, 2, 4, 6}));
}

TEST(OnnxImporterTest, ConstantNodeForms) {
  struct Case {
    const char* attr;
    DataType dtype;
    Shape shape;
    std::vector<double> values;
  };
  for (const Case& c : {Case{"value_float", DataType::kF32, Shape{}, {2.5}},
                        Case{"value_floats", DataType::kF32, Shape{2}, {1.5, -2}},
                        Case{"value_int", DataType::kI64, Shape{}, {7}},
                        Case{"value_ints", DataType::kI64, Shape{3}, {1, 2, 3}},
                        Case{"value", DataType::kI32, Shape{2}, {4, 5}}}) {
    SCOPED_TRACE(c.attr);
    ModelBuilder b;
    b.Output("c", c.dtype == DataType::kF32 ? kFloat : (c.dtype == DataType::kI64 ? kInt64 : onnx::TensorProto::INT32));
    onnx::NodeProto& n = b.Node("Constant", {}, {"c"});
    onnx::AttributeProto* a = n.add_attribute();
    a->set_name(c.attr);
    const std::string attr = c.attr;
    if (attr == "value_float") {
      a->set_type(onnx::AttributeProto::FLOAT);
      a->set_f(2.5f);
    } else if (attr == "value_floats") {
      a->set_type(onnx::AttributeProto::FLOATS);
      a->add_floats(1.5f);
      a->add_floats(-2.f);
    } else if (attr == "value_int") {
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(7);
    } else if (attr == "value_ints") {
      a->set_type(onnx::AttributeProto::INTS);
      for (int v : {1, 2, 3}) a->add_ints(v);
    } else {
      a->set_type(onnx::AttributeProto::TENSOR);
      *a->mutable_t() = TensorToOnnx(Tensor::I32(Shape{2}, {4, 5}));
    }
    std::vector<Tensor> out = ImportAndRun(b.model(), {});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].dtype(), c.dtype);
    EXPECT_EQ(out[0].shape(), c.shape);
    for (size_t i = 0; i < c.values.size(); ++i) EXPECT_EQ(out[0].GetAsDouble(i), c.values[i]);
  }
}

// Shape -> Gather -> Unsqueeze -> Concat -> Reshape on static shapes folds into one
// constant shape: the graph keeps only the Reshape.
TEST(OnnxImporterTest, ShapeSubgraphFoldsToConstants) {
  ModelBuilder b;
  b.Input("x", kFloat, {2, 3, 4}).Output("y");
  b.Initializer("zero", Tensor::I64(Shape{}, {0}));
  b.Initializer("minus_one", Tensor::I64(Shape{1}, {-1}));
  b.Initializer("axes0", Tensor::I64(Shape{1}, {0}));
  b.Node("Shape", {"x"}, {"s"});
  b.Node("Gather", {"s", "zero"}, {"batch"});
  b.Node("Unsqueeze", {"batch", "axes0"}, {"batch1"});
  SetInt(b.Node("Concat", {"batch1", "minus_one"}, {"target"}), "axis", 0);
  b.Node("Reshape", {"x", "target"}, {"y"});
  absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(CountOps(*graph, "Reshape"), 1);
  EXPECT_EQ(graph->num_nodes(), 2);  // Input and Reshape; the folded constants are swept
  const kiln::Node& reshape = graph->node(graph->outputs()[0].tensor.node);
  EXPECT_EQ(reshape.ints_attr("shape"), (std::vector<int64_t>{2, -1}));
  EXPECT_EQ(graph->type(graph->outputs()[0].tensor).shape, (Shape{2, 12}));
}

TEST(OnnxImporterTest, ShapeOfUnknownDimensionIsUnsupported) {
  ModelBuilder b;
  b.Input("x", kFloat, {-1, 3}).Output("s", kInt64);
  b.Node("Shape", {"x"}, {"s"}, "shape_node");
  absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(graph.status().message()), HasSubstr("node 'shape_node' (Shape, opset 13)"));
}

// A shape fed at run time: Unimplemented, with the graph input named in the payload, and
// accepted once frozen.
TEST(OnnxImporterTest, ShapeInputMustBeConstantOrFrozen) {
  ModelBuilder b;
  b.Input("x", kFloat, {2, 3}).Input("shape", kInt64, {2}).Output("y");
  b.Node("Reshape", {"x", "shape"}, {"y"});
  absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(graph.status().message()), HasSubstr("must be a constant"));
  absl::optional<absl::Cord> payload = graph.status().GetPayload(kOnnxNeedsConstantPayload);
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(std::string(*payload), "shape");

  OnnxImportOptions options;
  options.frozen_inputs["shape"] = Tensor::I64(Shape{2}, {3, -1});
  std::vector<Tensor> out = ImportAndRun(b.model(), {{"x", Tensor::F32(Shape{2, 3}, {1, 2, 3, 4, 5, 6})}}, options);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (Shape{3, 2}));
}

// A shape computed from a graph input (through Cast and Concat) names that input.
TEST(OnnxImporterTest, NeedsConstantPayloadNamesTheInputsBehindAValue) {
  ModelBuilder b;
  b.Input("x", kFloat, {2, 3}).Input("rows", kFloat, {1}).Output("y");
  b.Initializer("minus_one", Tensor::I64(Shape{1}, {-1}));
  SetInt(b.Node("Cast", {"rows"}, {"rows_i"}), "to", kInt64);
  SetInt(b.Node("Concat", {"rows_i", "minus_one"}, {"target"}), "axis", 0);
  b.Node("Reshape", {"x", "target"}, {"y"});
  absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
  ASSERT_FALSE(graph.ok());
  absl::optional<absl::Cord> payload = graph.status().GetPayload(kOnnxNeedsConstantPayload);
  ASSERT_TRUE(payload.has_value()) << graph.status();
  EXPECT_EQ(std::string(*payload), "rows");
  OnnxImportOptions options;
  options.frozen_inputs["rows"] = Tensor::F32(Shape{1}, {3});
  std::vector<Tensor> out = ImportAndRun(b.model(), {{"x", Tensor::F32(Shape{2, 3}, {1, 2, 3, 4, 5, 6})}}, options);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (Shape{3, 2}));
}

// Folding stops at heavy arithmetic: a weights-only 512x512 MatMul (2^28 FLOPs) stays a
// node, a small one folds.
TEST(OnnxImporterTest, HeavyConstantArithmeticIsNotFolded) {
  for (int64_t n : {int64_t{8}, int64_t{512}}) {
    SCOPED_TRACE(n);
    ModelBuilder b;
    b.Input("x", kFloat, {1, n}).Output("y");
    std::vector<float> ones(n * n, 1.0f);
    b.Initializer("a", Tensor::F32(Shape{n, n}, ones));
    b.Initializer("c", Tensor::F32(Shape{n, n}, ones));
    b.Node("MatMul", {"a", "c"}, {"w"});
    b.Node("MatMul", {"x", "w"}, {"y"});
    absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
    ASSERT_TRUE(graph.ok()) << graph.status();
    EXPECT_EQ(CountOps(*graph, "MatMul"), n == 8 ? 1 : 2);
  }
}

TEST(OnnxImporterTest, DeclaredOutputTypeMustMatch) {
  ModelBuilder b;
  b.Input("x", kFloat, {2}).Output("y", kInt64);
  b.Node("Relu", {"x"}, {"y"});
  absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(graph.status().message()),
              HasSubstr("graph output 'y' is declared i64 but computes f32[2]"));
}

// ------------------------------------------------------------------ decompositions

// Y = alpha * A^T B + beta * C, with C broadcast over rows.
TEST(OnnxImporterTest, GemmWithTransposeAlphaBeta) {
  ModelBuilder b;
  b.Input("a", kFloat, {2, 2}).Output("y");
  b.Initializer("b", Tensor::F32(Shape{2, 3}, {1, 0, 2, 0, 1, 3}));
  b.Initializer("c", Tensor::F32(Shape{3}, {1, 2, 3}));
  onnx::NodeProto& n = b.Node("Gemm", {"a", "b", "c"}, {"y"});
  SetInt(n, "transA", 1);
  SetFloat(n, "alpha", 2.0f);
  SetFloat(n, "beta", 0.5f);
  // A = [[1, 2], [3, 4]], A^T = [[1, 3], [2, 4]]; A^T B = [[1, 3, 11], [2, 4, 16]].
  std::vector<Tensor> out = ImportAndRun(b.model(), {{"a", Tensor::F32(Shape{2, 2}, {1, 2, 3, 4})}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Floats(out[0]), (std::vector<float>{2.5, 7, 23.5, 4.5, 9, 33.5}));
}

// SAME_UPPER puts the odd padding at the end, SAME_LOWER at the beginning: on a 1x1x4x4
// ramp with a 2x2 all-ones kernel and stride 1, total padding is 1 per dimension.
TEST(OnnxImporterTest, ConvAutoPadSameUpperAndLower) {
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    SCOPED_TRACE(mode);
    ModelBuilder b;
    b.Input("x", kFloat, {1, 1, 3, 3}).Output("y");
    b.Initializer("w", Tensor::F32(Shape{1, 1, 2, 2}, {1, 1, 1, 1}));
    SetString(b.Node("Conv", {"x", "w"}, {"y"}), "auto_pad", mode);
    std::vector<Tensor> out =
        ImportAndRun(b.model(), {{"x", Tensor::F32(Shape{1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9})}});
    ASSERT_EQ(out.size(), 1u);
    // Window sums of 2x2 blocks; SAME pads with zeros after (UPPER) or before (LOWER).
    if (std::string(mode) == "SAME_UPPER") {
      EXPECT_EQ(out[0].shape(), (Shape{1, 1, 3, 3}));
      EXPECT_EQ(Floats(out[0]), (std::vector<float>{12, 16, 9, 24, 28, 15, 15, 17, 9}));
    } else if (std::string(mode) == "SAME_LOWER") {
      EXPECT_EQ(out[0].shape(), (Shape{1, 1, 3, 3}));
      EXPECT_EQ(Floats(out[0]), (std::vector<float>{1, 3, 5, 5, 12, 16, 11, 24, 28}));
    } else {
      EXPECT_EQ(out[0].shape(), (Shape{1, 1, 2, 2}));
      EXPECT_EQ(Floats(out[0]), (std::vector<float>{12, 16, 24, 28}));
    }
  }
}

// 1-D convolution runs as 2-D with a unit height.
TEST(OnnxImporterTest, Conv1D) {
  ModelBuilder b;
  b.Input("x", kFloat, {1, 1, 5}).Output("y");
  b.Initializer("w", Tensor::F32(Shape{1, 1, 3}, {1, 0, -1}));
  SetInts(b.Node("Conv", {"x", "w"}, {"y"}), "pads", {1, 1});
  std::vector<Tensor> out = ImportAndRun(b.model(), {{"x", Tensor::F32(Shape{1, 1, 5}, {1, 2, 4, 8, 16})}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (Shape{1, 1, 5}));
  EXPECT_EQ(Floats(out[0]), (std::vector<float>{-2, -3, -6, -12, 8}));
}

TEST(OnnxImporterTest, FlattenAndBatchNormalization) {
  ModelBuilder b;
  b.Input("x", kFloat, {1, 2, 1, 2}).Output("y");
  b.Initializer("scale", Tensor::F32(Shape{2}, {1, 2}));
  b.Initializer("bias", Tensor::F32(Shape{2}, {0, 1}));
  b.Initializer("mean", Tensor::F32(Shape{2}, {1, 0}));
  b.Initializer("var", Tensor::F32(Shape{2}, {4, 1}));
  SetFloat(b.Node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"bn"}), "epsilon", 0.0f);
  b.Node("Flatten", {"bn"}, {"y"});  // axis defaults to 1
  std::vector<Tensor> out = ImportAndRun(b.model(), {{"x", Tensor::F32(Shape{1, 2, 1, 2}, {3, 5, 1, -1})}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (Shape{1, 4}));
  // (3-1)/2 = 1, (5-1)/2 = 2; channel 1: 2*x + 1.
  EXPECT_EQ(Floats(out[0]), (std::vector<float>{1, 2, 3, -1}));
}

TEST(OnnxImporterTest, LayerNormalizationMapsToLayerNorm) {
  ModelBuilder b(17);
  b.Input("x", kFloat, {2, 2}).Output("y");
  b.Initializer("g", Tensor::F32(Shape{2}, {1, 2}));
  b.Initializer("b", Tensor::F32(Shape{2}, {0, 1}));
  SetFloat(b.Node("LayerNormalization", {"x", "g", "b"}, {"y"}), "epsilon", 0.0f);
  absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(CountOps(*graph, "LayerNorm"), 1);
  // Rows [1, 3] and [5, 5]: normalized [-1, 1] and [0, 0] (the zero variance of the
  // second row gives 0/0 = NaN with epsilon 0, so only the first row is checked).
  std::vector<Tensor> out = ImportAndRun(b.model(), {{"x", Tensor::F32(Shape{2, 2}, {1, 3, 5, 5})}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].GetAsDouble(0), -1.0, 1e-6);
  EXPECT_NEAR(out[0].GetAsDouble(1), 3.0, 1e-6);
}

// Erf-based GELU arrives op by op (Div, Erf, Add, Mul, Mul); it stays so here.
TEST(OnnxImporterTest, ErfGeluImportedAsIs) {
  ModelBuilder b;
  b.Input("x", kFloat, {3}).Output("y");
  b.Initializer("sqrt2", Tensor::F32(Shape{}, {1.41421356f}));
  b.Initializer("one", Tensor::F32(Shape{}, {1}));
  b.Initializer("half", Tensor::F32(Shape{}, {0.5f}));
  b.Node("Div", {"x", "sqrt2"}, {"d"});
  b.Node("Erf", {"d"}, {"e"});
  b.Node("Add", {"e", "one"}, {"a"});
  b.Node("Mul", {"x", "a"}, {"m"});
  b.Node("Mul", {"m", "half"}, {"y"});
  absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(CountOps(*graph, "Erf"), 1);
  EXPECT_EQ(CountOps(*graph, "Gelu"), 0);
  std::vector<Tensor> out = ImportAndRun(b.model(), {{"x", Tensor::F32(Shape{3}, {-1, 0, 2})}});
  ASSERT_EQ(out.size(), 1u);
  for (int i = 0; i < 3; ++i) {
    const double x = std::vector<double>{-1, 0, 2}[i];
    EXPECT_NEAR(out[0].GetAsDouble(i), 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))), 1e-6);
  }
}

// Attributes take ONNX's defaults: LeakyRelu alpha 0.01, Transpose reverses dims.
TEST(OnnxImporterTest, AttributeDefaults) {
  ModelBuilder b;
  b.Input("x", kFloat, {1, 2}).Output("y");
  b.Node("LeakyRelu", {"x"}, {"l"});
  b.Node("Transpose", {"l"}, {"y"});
  std::vector<Tensor> out = ImportAndRun(b.model(), {{"x", Tensor::F32(Shape{1, 2}, {-100, 3})}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(Floats(out[0]), (std::vector<float>{-1, 3}));
}

// ------------------------------------------------------------------ external data

class ExternalDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(TempDir(), "/external_", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_ + "/model");
    const float values[3] = {10, 20, 30};
    std::ofstream(dir_ + "/model/weights.bin", std::ios::binary)
        .write("PAD!", 4)
        .write(reinterpret_cast<const char*>(values), sizeof(values));
    std::ofstream(dir_ + "/outside.bin", std::ios::binary)
        .write(reinterpret_cast<const char*>(values), sizeof(values));
  }

  onnx::ModelProto Model(const std::string& location, int64_t offset) {
    ModelBuilder b;
    b.Input("x", kFloat, {3}).Output("y");
    onnx::TensorProto* w = b.model().mutable_graph()->add_initializer();
    w->set_name("w");
    w->set_data_type(kFloat);
    w->add_dims(3);
    w->set_data_location(onnx::TensorProto::EXTERNAL);
    onnx::StringStringEntryProto* e = w->add_external_data();
    e->set_key("location");
    e->set_value(location);
    e = w->add_external_data();
    e->set_key("offset");
    e->set_value(absl::StrCat(offset));
    b.Node("Add", {"x", "w"}, {"y"});
    return b.model();
  }

  absl::StatusOr<Graph> ImportFile(const onnx::ModelProto& model) {
    const std::string path = dir_ + "/model/model.onnx";
    std::ofstream(path, std::ios::binary) << model.SerializeAsString();
    return ImportOnnx(path);
  }

  std::string dir_;
};

TEST_F(ExternalDataTest, ReadsRelativeToTheModel) {
  absl::StatusOr<Graph> graph = ImportFile(Model("weights.bin", 4));
  ASSERT_TRUE(graph.ok()) << graph.status();
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(*std::move(graph));
  ASSERT_TRUE(session.ok());
  absl::StatusOr<std::vector<Tensor>> out = (*session)->Run({{"x", Tensor::F32(Shape{3}, {1, 2, 3})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{11, 22, 33}));
}

TEST_F(ExternalDataTest, RejectsPathsEscapingTheModelDirectory) {
  for (const std::string& location : {std::string("../outside.bin"), dir_ + "/outside.bin",
                                      std::string("sub/../../outside.bin")}) {
    SCOPED_TRACE(location);
    absl::StatusOr<Graph> graph = ImportFile(Model(location, 0));
    ASSERT_FALSE(graph.ok());
    EXPECT_EQ(graph.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(graph.status().message()), HasSubstr("initializer 'w'"));
  }
  // A symbolic link inside the folder that points outside it.
  std::filesystem::create_symlink(dir_ + "/outside.bin", dir_ + "/model/link.bin");
  absl::StatusOr<Graph> graph = ImportFile(Model("link.bin", 0));
  ASSERT_FALSE(graph.ok());
  EXPECT_THAT(std::string(graph.status().message()), HasSubstr("outside the model's directory"));
}

TEST_F(ExternalDataTest, ShortFileAndModelFromMemory) {
  absl::StatusOr<Graph> graph = ImportFile(Model("weights.bin", 8));
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kOutOfRange);
  absl::StatusOr<Graph> from_bytes = ImportOnnxFromBytes(Model("weights.bin", 4).SerializeAsString());
  ASSERT_FALSE(from_bytes.ok());
  EXPECT_THAT(std::string(from_bytes.status().message()), HasSubstr("model's directory"));
}

// ------------------------------------------------------------------ errors and report

TEST(OnnxImporterTest, UnsupportedOpNamesNodeOpAndOpset) {
  ModelBuilder b(16);
  b.Input("x", kFloat, {2}).Output("y");
  b.Node("Relu", {"x"}, {"r"});
  b.Node("Bogus", {"r"}, {"y"}, "mystery");
  absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(graph.status().message(), "node 'mystery' (Bogus, opset 16): op Bogus is not supported");
}

TEST(OnnxImporterTest, UnsupportedAttributeAndOpVersion) {
  {
    ModelBuilder b;
    b.Input("x", kFloat, {2}).Output("y");
    SetInt(b.Node("Relu", {"x"}, {"y"}), "flavour", 3);
    absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
    ASSERT_FALSE(graph.ok());
    EXPECT_EQ(graph.status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_THAT(std::string(graph.status().message()),
                HasSubstr("(Relu, opset 13): attribute 'flavour' is not supported"));
  }
  {
    ModelBuilder b(16);  // LayerNormalization exists from opset 17
    b.Input("x", kFloat, {2}).Output("y");
    b.Initializer("g", Tensor::F32(Shape{2}, {1, 1}));
    b.Node("LayerNormalization", {"x", "g"}, {"y"});
    absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
    ASSERT_FALSE(graph.ok());
    EXPECT_THAT(std::string(graph.status().message()), HasSubstr("supported at opsets 17-17, not at opset 16"));
  }
  {
    ModelBuilder b(18);
    b.Input("x", kFloat, {2}).Output("y");
    b.Node("Relu", {"x"}, {"y"});
    absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
    ASSERT_FALSE(graph.ok());
    EXPECT_EQ(graph.status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_THAT(std::string(graph.status().message()), HasSubstr("opset 18"));
  }
}

TEST(OnnxImporterTest, SequenceInputsAndStringTypesAreUnsupported) {
  ModelBuilder b;
  onnx::ValueInfoProto* seq = b.model().mutable_graph()->add_input();
  seq->set_name("s");
  seq->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(kFloat);
  b.Output("y");
  b.Node("Identity", {"s"}, {"y"});
  absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(graph.status().message()), HasSubstr("graph input 's' is a sequence"));

  ModelBuilder s;
  s.Input("t", onnx::TensorProto::STRING, {2}).Output("y");
  s.Node("Identity", {"t"}, {"y"});
  graph = ImportOnnxModel(s.model());
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(graph.status().message()), HasSubstr("STRING"));
}

// The report lists every unsupported node at once; nodes after one are not blamed.
TEST(OnnxImporterTest, ReportListsEveryUnsupportedNode) {
  ModelBuilder b;
  b.Input("x", kFloat, {2, 2}).Output("y");
  b.Node("Relu", {"x"}, {"a"});
  b.Node("Bogus", {"a"}, {"b"}, "first");
  b.Node("Relu", {"b"}, {"c"});
  b.Node("Loop", {"c"}, {"d"}, "second");
  SetInt(b.Node("Abs", {"d"}, {"y"}, "third"), "no_such_attr", 1);
  absl::StatusOr<std::vector<OnnxUnsupportedNode>> report = ListUnsupportedOnnxNodes(b.model());
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->size(), 2u);
  EXPECT_EQ((*report)[0].node, "first");
  EXPECT_EQ((*report)[0].op_type, "Bogus");
  EXPECT_EQ((*report)[0].opset, 13);
  EXPECT_EQ((*report)[1].node, "second");
  EXPECT_EQ((*report)[1].op_type, "Loop");

  // With its inputs available, an unsupported attribute is reported too.
  ModelBuilder c;
  c.Input("x", kFloat, {2}).Output("y");
  SetInt(c.Node("Abs", {"x"}, {"y"}, "abs"), "no_such_attr", 1);
  report = ListUnsupportedOnnxNodes(c.model());
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->size(), 1u);
  EXPECT_THAT((*report)[0].reason, HasSubstr("attribute 'no_such_attr'"));
}

TEST(OnnxImporterTest, MalformedModels) {
  EXPECT_EQ(ImportOnnxFromBytes("not a model").status().code(), absl::StatusCode::kInvalidArgument);
  ModelBuilder b;
  b.Input("x", kFloat, {2}).Output("y");
  b.Node("Relu", {"nowhere"}, {"y"}, "r");
  absl::StatusOr<Graph> graph = ImportOnnxModel(b.model());
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(graph.status().message()), HasSubstr("input 'nowhere'"));
  // An initializer whose data does not match its dims.
  ModelBuilder d;
  d.Input("x", kFloat, {2}).Output("y");
  onnx::TensorProto* w = d.model().mutable_graph()->add_initializer();
  w->set_name("w");
  w->set_data_type(kFloat);
  w->add_dims(2);
  w->add_float_data(1.0f);
  d.Node("Add", {"x", "w"}, {"y"});
  graph = ImportOnnxModel(d.model());
  ASSERT_FALSE(graph.ok());
  EXPECT_THAT(std::string(graph.status().message()), HasSubstr("float_data has 1 values, expected 2"));
}

TEST(OnnxTensorTest, TypedFieldsAndTypes) {
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto::INT8);
  p.add_dims(3);
  for (int v : {-1, 2, 127}) p.add_int32_data(v);
  absl::StatusOr<Tensor> t = TensorFromOnnx(p, "", "t");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->dtype(), DataType::kI8);
  EXPECT_EQ(t->GetAsInt64(0), -1);
  EXPECT_EQ(t->GetAsInt64(2), 127);
  EXPECT_EQ(DataTypeFromOnnx(onnx::TensorProto::UINT16).status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(DataTypeFromOnnx(999).status().code(), absl::StatusCode::kInvalidArgument);
  // Negative and oversized dims.
  onnx::TensorProto big;
  big.set_data_type(kFloat);
  big.add_dims(int64_t{1} << 30);
  big.add_dims(int64_t{1} << 30);
  EXPECT_EQ(TensorFromOnnx(big, "", "big").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln
