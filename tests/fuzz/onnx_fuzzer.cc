// libFuzzer target: arbitrary bytes as an ONNX ModelProto through the importer (with a
// small folding limit), the report mode, and, for small imported graphs, the reference
// interpreter. Bad models must only produce a Status: any crash, leak or undefined
// behaviour is a bug.
#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "graph/bind_shapes.h"
#include "graph/onnx/onnx_importer.h"
#include "onnx/onnx-ml.pb.h"
#include "runtime/reference_interpreter.h"

namespace {

// Keeps each input fast and memory-bounded.
constexpr int64_t kMaxElements = 1 << 16;

void MaybeRun(const kiln::Graph& graph) {
  absl::flat_hash_map<std::string, kiln::Shape> shapes;
  for (int id : graph.inputs()) {
    kiln::Shape shape(graph.node(id).ints_attr("shape"));
    for (int64_t& d : shape.dims()) {
      if (d < 0) d = 2;
    }
    shapes[graph.node(id).name] = shape;
  }
  absl::StatusOr<kiln::Graph> bound = kiln::BindInputShapes(graph, shapes);
  if (!bound.ok()) return;
  int64_t total = 0;
  for (const kiln::Node& node : bound->nodes()) {
    for (const kiln::TensorType& t : node.outputs) total += t.shape.NumElements();
    if (total > kMaxElements) return;
  }
  absl::flat_hash_map<int, kiln::Tensor> feeds;
  for (int id : bound->inputs()) {
    const kiln::TensorType& t = bound->node(id).outputs[0];
    absl::StatusOr<kiln::Tensor> tensor = kiln::Tensor::Allocate(t.dtype, t.shape);
    if (!tensor.ok()) return;
    for (int64_t i = 0; i < tensor->NumElements(); ++i) tensor->SetFromDouble(i, (i % 5) - 2);
    feeds[id] = *tensor;
  }
  std::vector<kiln::TensorRef> fetches;
  for (const kiln::GraphOutput& out : bound->outputs()) fetches.push_back(out.tensor);
  (void)kiln::EvaluateReference(*bound, feeds, fetches);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  onnx::ModelProto model;
  if (!model.ParseFromArray(data, static_cast<int>(size))) return 0;
  kiln::OnnxImportOptions options;
  options.max_folded_elements = kMaxElements;
  (void)kiln::ListUnsupportedOnnxNodes(model, options);
  absl::StatusOr<kiln::Graph> graph = kiln::ImportOnnxModel(model, options);
  if (graph.ok()) MaybeRun(*graph);
  return 0;
}
