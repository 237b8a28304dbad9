// Writes the models tests/kiln/c_api_test.c opens, each computing testdata/mlp.pbtxt's
// function: OUT_DIR/mlp.kiln (that graph compiled for batch sizes 1, 2 and 4) and
// OUT_DIR/mlp.onnx (the same layer as ONNX MatMul, Add, Relu). A separate program, so the
// runtime-only test binary links no compiler.
//   write_test_models MLP_PBTXT OUT_DIR
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/tensor.h"
#include "graph/onnx/model_file.h"
#include "graph/onnx/onnx_tensor.h"
#include "onnx/onnx-ml.pb.h"
#include "runtime/artifact.h"
#include "runtime/compile.h"
#include "runtime/compile_artifact.h"

namespace kiln {
namespace {

absl::Status WriteArtifactFile(const std::string& graph_path, const std::string& path) {
  ASSIGN_OR_RETURN(Graph graph, LoadModel(graph_path));
  ASSIGN_OR_RETURN(ArtifactContents contents,
                   CompileArtifact(graph, CompileOptions(), {1, 2, 4}, "mlp.pbtxt"));
  return WriteArtifact(contents, path);
}

void AddValueInfo(onnx::ValueInfoProto* info, const std::string& name,
                  const std::vector<int64_t>& dims) {
  info->set_name(name);
  onnx::TypeProto_Tensor* type = info->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto* shape = type->mutable_shape();
  for (int64_t d : dims) {
    if (d < 0) {
      shape->add_dim()->set_dim_param("batch");
    } else {
      shape->add_dim()->set_dim_value(d);
    }
  }
}

void AddNode(onnx::GraphProto* graph, const std::string& op, std::vector<std::string> inputs,
             const std::string& output) {
  onnx::NodeProto* node = graph->add_node();
  node->set_op_type(op);
  node->set_name(output);
  for (const std::string& input : inputs) node->add_input(input);
  node->add_output(output);
}

absl::Status WriteOnnxFile(const std::string& path) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("mlp");
  AddValueInfo(graph->add_input(), "x", {-1, 3});
  AddValueInfo(graph->add_input(), "bias", {2});
  // testdata/mlp.pbtxt's w.
  *graph->add_initializer() = TensorToOnnx(Tensor::F32({3, 2}, {1, -1, 2, 0.5, -1, 1}), "w");
  AddNode(graph, "MatMul", {"x", "w"}, "xw");
  AddNode(graph, "Add", {"xw", "bias"}, "logits");
  AddNode(graph, "Relu", {"logits"}, "y");
  AddValueInfo(graph->add_output(), "y", {-1, 2});
  AddValueInfo(graph->add_output(), "logits", {-1, 2});
  std::ofstream file(path, std::ios::binary);
  if (!file || !model.SerializeToOstream(&file)) {
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot write"));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: write_test_models MLP_PBTXT OUT_DIR\n");
    return 2;
  }
  const std::string out_dir = argv[2];
  absl::Status status = kiln::WriteArtifactFile(argv[1], out_dir + "/mlp.kiln");
  if (status.ok()) status = kiln::WriteOnnxFile(out_dir + "/mlp.onnx");
  if (!status.ok()) {
    std::fprintf(stderr, "write_test_models: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
