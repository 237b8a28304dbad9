#include "tests/util/op_test_util.h"

#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "graph/shape_inference.h"
#include "graph/status_macros.h"
#include "runtime/reference_interpreter.h"

namespace kiln::testing {
namespace {

// A graph with one Input per input type and one `op` node reading them all.
absl::StatusOr<Graph> SingleOpGraph(absl::string_view op, const std::vector<TensorType>& inputs,
                                    AttrMap attrs) {
  Graph graph;
  Node node;
  node.name = "op";
  node.op = std::string(op);
  node.attrs = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    Node in;
    in.name = absl::StrCat("in", i);
    in.op = "Input";
    in.attrs["dtype"] = inputs[i].dtype;
    in.attrs["shape"] = inputs[i].shape.dims();
    ASSIGN_OR_RETURN(int id, graph.AddNode(std::move(in)));
    RETURN_IF_ERROR(InferNode(graph, id));
    graph.inputs().push_back(id);
    node.inputs.push_back(TensorRef{id, 0});
  }
  ASSIGN_OR_RETURN(int id, graph.AddNode(std::move(node)));
  RETURN_IF_ERROR(InferNode(graph, id));
  return graph;
}

}  // namespace

absl::StatusOr<std::vector<TensorType>> InferSingleOp(absl::string_view op,
                                                      const std::vector<TensorType>& inputs,
                                                      AttrMap attrs) {
  ASSIGN_OR_RETURN(Graph graph, SingleOpGraph(op, inputs, std::move(attrs)));
  return graph.node(graph.num_nodes() - 1).outputs;
}

absl::StatusOr<std::vector<Tensor>> RunSingleOp(absl::string_view op,
                                                const std::vector<Tensor>& inputs,
                                                AttrMap attrs) {
  std::vector<TensorType> types;
  for (const Tensor& t : inputs) types.push_back({t.dtype(), t.shape()});
  ASSIGN_OR_RETURN(Graph graph, SingleOpGraph(op, types, std::move(attrs)));
  absl::flat_hash_map<int, Tensor> feeds;
  for (size_t i = 0; i < inputs.size(); ++i) feeds[static_cast<int>(i)] = inputs[i];
  int id = graph.num_nodes() - 1;
  std::vector<TensorRef> fetches;
  for (int k = 0; k < static_cast<int>(graph.node(id).outputs.size()); ++k) {
    fetches.push_back(TensorRef{id, k});
  }
  return EvaluateReference(graph, feeds, fetches);
}

Tensor MakeTensor(DataType dtype, const Shape& shape, const std::vector<double>& values) {
  Tensor t = Tensor::Allocate(dtype, shape).value();
  for (int64_t i = 0; i < t.NumElements() && i < static_cast<int64_t>(values.size()); ++i) {
    t.SetFromDouble(i, values[i]);
  }
  return t;
}

std::vector<double> Values(const Tensor& tensor) {
  std::vector<double> out(tensor.NumElements());
  for (int64_t i = 0; i < tensor.NumElements(); ++i) out[i] = tensor.GetAsDouble(i);
  return out;
}

Tensor RandomTensor(DataType dtype, const Shape& shape, uint64_t seed, double lo, double hi) {
  Tensor t = Tensor::Allocate(dtype, shape).value();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (int64_t i = 0; i < t.NumElements(); ++i) t.SetFromDouble(i, dist(rng));
  return t;
}

}  // namespace kiln::testing
