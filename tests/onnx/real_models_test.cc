// Real models exported from PyTorch (tools/onnx/export_models.py) import and match
// PyTorch's outputs within fp32 tolerance. By default the tiny ResNet and BERT kept in
// tests/onnx/testdata; with --large, ResNet-50 and BERT-base from $KILN_ONNX_MODELS.
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/onnx/onnx_importer.h"
#include "gtest/gtest.h"
#include "runtime/session.h"
#include "tools/npy.h"

namespace kiln {
namespace {

bool g_large = false;

std::string ModelDir() {
  if (!g_large) return "tests/onnx/testdata";
  const char* dir = std::getenv("KILN_ONNX_MODELS");
  return dir != nullptr ? dir : "";
}

// Imports NAME.onnx, runs it on NAME.in.npy and compares with NAME.out.npy: each element
// within 1e-4 relative plus 1e-5 of the output's largest magnitude (fp32 accumulation
// order differs from PyTorch's; Kiln's reference accumulates in double).
void CheckModel(const std::string& name, const std::vector<std::string>& expected_ops) {
  const std::string dir = ModelDir();
  ASSERT_FALSE(dir.empty()) << "set KILN_ONNX_MODELS to the folder of export_models.py's output";
  absl::StatusOr<Graph> graph = ImportOnnx(absl::StrCat(dir, "/", name, ".onnx"));
  ASSERT_TRUE(graph.ok()) << graph.status();
  for (const std::string& op : expected_ops) {
    bool found = false;
    for (const Node& n : graph->nodes()) found = found || n.op == op;
    EXPECT_TRUE(found) << "no " << op << " node in the imported " << name;
  }
  absl::StatusOr<Tensor> x = ReadNpy(absl::StrCat(dir, "/", name, ".in.npy"));
  ASSERT_TRUE(x.ok()) << x.status();
  absl::StatusOr<Tensor> want = ReadNpy(absl::StrCat(dir, "/", name, ".out.npy"));
  ASSERT_TRUE(want.ok()) << want.status();
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(*std::move(graph));
  ASSERT_TRUE(session.ok()) << session.status();
  absl::StatusOr<std::vector<Tensor>> out = (*session)->Run({{"x", *x}});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  const Tensor& got = (*out)[0];
  ASSERT_EQ(got.dtype(), DataType::kF32);
  ASSERT_EQ(got.shape(), want->shape());
  double scale = 0;
  for (int64_t i = 0; i < want->NumElements(); ++i) scale = std::max(scale, std::fabs(want->GetAsDouble(i)));
  double worst = 0;
  int64_t bad = 0;
  for (int64_t i = 0; i < want->NumElements(); ++i) {
    const double g = got.GetAsDouble(i);
    const double w = want->GetAsDouble(i);
    const double err = std::fabs(g - w);
    worst = std::max(worst, err);
    if (!(err <= 1e-4 * std::fabs(w) + 1e-5 * scale)) ++bad;
  }
  EXPECT_EQ(bad, 0) << name << ": " << bad << " elements off; largest error " << worst
                    << ", output scale " << scale;
  std::cout << name << ": largest error " << worst << " at output scale " << scale << "\n";
}

TEST(RealModelsTest, ResNet) {
  // Conv (with folded batch norm), MaxPool, the residual Add and the classifier.
  CheckModel(g_large ? "resnet50" : "resnet_tiny", {"Conv2D", "MaxPool", "ReduceMean", "MatMul"});
}

TEST(RealModelsTest, Bert) {
  // The erf form of GELU is imported op by op (its pattern is recognized by a pass).
  CheckModel(g_large ? "bert" : "bert_tiny", {"MatMul", "Softmax", "Erf", "Transpose"});
}

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--large") kiln::g_large = true;
  }
  return RUN_ALL_TESTS();
}
