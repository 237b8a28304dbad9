// libFuzzer target: arbitrary bytes as a GraphDef (text or binary, chosen by the first
// byte), imported and verified; small verified graphs are also run on the reference
// interpreter. Any crash, leak or undefined behaviour is a bug: bad graphs must only
// produce a Status.
#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "graph/bind_shapes.h"
#include "graph/graph_io.h"
#include "graph/proto_convert.h"
#include "runtime/reference_interpreter.h"

namespace {

// Keeps fuzzing fast and memory-bounded: graphs whose tensors exceed this are only verified.
constexpr int64_t kMaxElementsToRun = 1 << 16;

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
    if (total > kMaxElementsToRun) return;
  }
  absl::flat_hash_map<int, kiln::Tensor> feeds;
  for (int id : bound->inputs()) {
    const kiln::TensorType& t = bound->node(id).outputs[0];
    absl::StatusOr<kiln::Tensor> tensor = kiln::Tensor::Allocate(t.dtype, t.shape);
    if (!tensor.ok()) return;
    for (int64_t i = 0; i < tensor->NumElements(); ++i) tensor->SetFromDouble(i, (i % 7) - 3);
    feeds[id] = *tensor;
  }
  std::vector<kiln::TensorRef> fetches;
  for (int i = 0; i < bound->num_nodes(); ++i) {
    for (int k = 0; k < static_cast<int>(bound->node(i).outputs.size()); ++k) {
      if (bound->node(i).op != "Input") fetches.push_back({i, k});
    }
  }
  (void)kiln::EvaluateReference(*bound, feeds, fetches);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  bool text = data[0] & 1;
  absl::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<kiln::proto::GraphDef> def = kiln::ParseGraphDef(bytes, text);
  if (!def.ok()) return 0;
  absl::StatusOr<kiln::Graph> graph = kiln::GraphFromProto(*def);
  if (!graph.ok()) return 0;
  // A verified graph must export and re-import.
  absl::StatusOr<kiln::proto::GraphDef> again = kiln::GraphToProto(*graph);
  if (!again.ok() || !kiln::GraphFromProto(*again).ok()) __builtin_trap();
  MaybeRun(*graph);
  return 0;
}
