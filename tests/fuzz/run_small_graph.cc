#include "tests/fuzz/run_small_graph.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "graph/bind_shapes.h"
#include "runtime/reference_interpreter.h"

namespace kiln::fuzzing {

void RunIfSmall(const Graph& graph, int64_t max_elements, bool fetch_all) {
  absl::flat_hash_map<std::string, Shape> shapes;
  for (int id : graph.inputs()) {
    Shape shape(graph.node(id).ints_attr("shape"));
    for (int64_t& d : shape.dims()) {
      if (d < 0) d = 2;
    }
    shapes[graph.node(id).name] = shape;
  }
  absl::StatusOr<Graph> bound = BindInputShapes(graph, shapes);
  if (!bound.ok()) return;
  int64_t total = 0;
  for (const Node& node : bound->nodes()) {
    for (const TensorType& t : node.outputs) total += t.shape.NumElements();
    if (total > max_elements) return;
  }
  absl::flat_hash_map<int, Tensor> feeds;
  for (int id : bound->inputs()) {
    const TensorType& t = bound->node(id).outputs[0];
    absl::StatusOr<Tensor> tensor = Tensor::Allocate(t.dtype, t.shape);
    if (!tensor.ok()) return;
    for (int64_t i = 0; i < tensor->NumElements(); ++i) tensor->SetFromDouble(i, (i % 7) - 3);
    feeds[id] = *tensor;
  }
  std::vector<TensorRef> fetches;
  if (fetch_all) {
    for (int i = 0; i < bound->num_nodes(); ++i) {
      if (bound->node(i).op == "Input") continue;
      for (int k = 0; k < static_cast<int>(bound->node(i).outputs.size()); ++k) {
        fetches.push_back({i, k});
      }
    }
  } else {
    for (const GraphOutput& out : bound->outputs()) fetches.push_back(out.tensor);
  }
  (void)EvaluateReference(*bound, feeds, fetches);
}

}  // namespace kiln::fuzzing
