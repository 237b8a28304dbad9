// `kiln import` and `kiln conformance` end to end: the built binary on the tiny ResNet,
// a model with an unsupported op (error and --report), and a two-test conformance folder.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "graph/graph_io.h"
#include "graph/onnx/onnx_tensor.h"
#include "gtest/gtest.h"
#include "onnx/onnx-ml.pb.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string TempPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Quote(absl::string_view s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Result Kiln(const std::vector<std::string>& args) {
  const std::string out = TempPath("stdout.txt"), err = TempPath("stderr.txt");
  std::string command = Quote("tools/kiln");
  for (const std::string& a : args) absl::StrAppend(&command, " ", Quote(a));
  absl::StrAppend(&command, " >", Quote(out), " 2>", Quote(err));
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out), ReadFile(err)};
}

// Relu -> Bogus -> Loop: two unsupported nodes.
std::string WriteUnsupportedModel() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  onnx::ValueInfoProto* x = g->add_input();
  x->set_name("x");
  x->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  x->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(2);
  g->add_output()->set_name("z");
  const char* ops[][3] = {{"Relu", "x", "a"}, {"Bogus", "a", "b"}, {"Loop", "b", "z"}};
  for (const auto& op : ops) {
    onnx::NodeProto* n = g->add_node();
    n->set_op_type(op[0]);
    n->set_name(absl::StrCat(op[0], "_node"));
    n->add_input(op[1]);
    n->add_output(op[2]);
  }
  const std::string path = TempPath("unsupported.onnx");
  std::ofstream(path, std::ios::binary) << m.SerializeAsString();
  return path;
}

TEST(ImportCliTest, ImportsTinyResNet) {
  const std::string out = TempPath("resnet_tiny.pbtxt");
  Result r = Kiln({"import", "tests/onnx/testdata/resnet_tiny.onnx", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("imported tests/onnx/testdata/resnet_tiny.onnx: 36 ONNX nodes (opset 13) -> "));
  EXPECT_THAT(r.out, HasSubstr("1 inputs, 1 outputs; read "));
  absl::StatusOr<Graph> graph = LoadGraph(out);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->outputs()[0].name, "y");
  // The same through `kiln run`.
  Result run = Kiln({"run", out, "--input", "x=tests/onnx/testdata/resnet_tiny.in.npy", "--output",
                     TempPath("resnet_out")});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, StartsWith("y f32[1,10] "));
}

TEST(ImportCliTest, UnsupportedOpErrorAndReport) {
  const std::string model = WriteUnsupportedModel();
  Result r = Kiln({"import", model, "-o", TempPath("never.pb")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "kiln: error: node 'Bogus_node' (Bogus, opset 13): op Bogus is not supported\n");
  Result report = Kiln({"import", model, "--report"});
  EXPECT_EQ(report.exit_code, 1);
  EXPECT_EQ(report.out,
            "Bogus_node  Bogus  opset 13  op Bogus is not supported\n"
            "Loop_node  Loop  opset 13  op Loop is not supported\n"
            "unsupported: 2 nodes: Bogus (1), Loop (1)\n");
  Result clean = Kiln({"import", "tests/onnx/testdata/bert_tiny.onnx", "--report"});
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_EQ(clean.out, "unsupported: 0 nodes\n");
}

TEST(ImportCliTest, UsageErrors) {
  Result r = Kiln({"import", "tests/onnx/testdata/bert_tiny.onnx"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("needs -o GRAPH"));
  r = Kiln({"import", "--list-ops"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("\nConv opsets 1-17\n"));
  EXPECT_THAT(r.out, HasSubstr("\nLayerNormalization opsets 17-17\n"));
  r = Kiln({"import", TempPath("missing.onnx"), "-o", TempPath("x.pb")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot open"));
}

// A conformance folder of two tests made here: one passes, one is unsupported.
TEST(ConformanceCliTest, PassAndUnsupported) {
  namespace fs = std::filesystem;
  const std::string dir = TempPath("conformance");
  fs::remove_all(dir);
  // test_relu: y = relu(x), with its data.
  fs::create_directories(dir + "/test_relu/test_data_set_0");
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(14);
  onnx::GraphProto* g = m.mutable_graph();
  for (const char* name : {"x"}) {
    onnx::ValueInfoProto* v = g->add_input();
    v->set_name(name);
    v->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    v->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(3);
  }
  *g->add_output() = g->input(0);
  g->mutable_output(0)->set_name("y");
  onnx::NodeProto* n = g->add_node();
  n->set_op_type("Relu");
  n->add_input("x");
  n->add_output("y");
  std::ofstream(dir + "/test_relu/model.onnx", std::ios::binary) << m.SerializeAsString();
  std::ofstream(dir + "/test_relu/test_data_set_0/input_0.pb", std::ios::binary)
      << TensorToOnnx(Tensor::F32(Shape{3}, {-1, 0, 2})).SerializeAsString();
  std::ofstream(dir + "/test_relu/test_data_set_0/output_0.pb", std::ios::binary)
      << TensorToOnnx(Tensor::F32(Shape{3}, {0, 0, 2})).SerializeAsString();
  // test_loop: an unsupported op.
  fs::create_directories(dir + "/test_loop/test_data_set_0");
  n->set_op_type("Loop");
  std::ofstream(dir + "/test_loop/model.onnx", std::ios::binary) << m.SerializeAsString();
  Result r = Kiln({"conformance", dir});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("UNSUPPORTED test_loop: import: node 'y' (Loop, opset 14): op Loop is not "
                                "supported\nPASS test_relu\nconformance: 1 passed (0 with frozen inputs), "
                                "0 failed, 1 unsupported, of 2 tests\n"));
  // A wrong expected value fails, naming the element.
  std::ofstream(dir + "/test_relu/test_data_set_0/output_0.pb", std::ios::binary)
      << TensorToOnnx(Tensor::F32(Shape{3}, {0, 0, 3})).SerializeAsString();
  r = Kiln({"conformance", dir, "--filter", "relu", "--min-pass", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("FAIL test_relu: test_data_set_0 output 0 ('y') element 2: got 2, want 3\n"));
  EXPECT_THAT(r.out, HasSubstr("failing ops: Relu (1)\n"));
}

}  // namespace
}  // namespace kiln
