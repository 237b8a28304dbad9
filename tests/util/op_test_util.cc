#include "tests/util/op_test_util.h"

#include <cmath>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "graph/shape_inference.h"
#include "base/status_macros.h"
#include "runtime/reference_interpreter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

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

void ExpectValues(const Tensor& tensor, const Shape& shape, const std::vector<double>& want,
                  double tol) {
  EXPECT_EQ(tensor.shape(), shape);
  std::vector<double> got = Values(tensor);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "element " << i << " is " << got[i];
    } else if (std::isinf(want[i])) {
      EXPECT_EQ(got[i], want[i]) << "element " << i;
    } else {
      EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
    }
  }
}

void ExpectValues(const absl::StatusOr<Tensor>& tensor, const Shape& shape,
                  const std::vector<double>& want, double tol) {
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  ExpectValues(*tensor, shape, want, tol);
}

void ExpectInvalid(const absl::Status& status, absl::string_view substring) {
  ASSERT_FALSE(status.ok()) << "expected an error containing: " << substring;
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr(std::string(substring)));
}

Tensor Permute(const Tensor& tensor, const std::vector<int>& perm) {
  const Shape& in = tensor.shape();
  std::vector<int64_t> dims(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) dims[i] = in.dim(perm[i]);
  Shape out(dims);
  Tensor result = Tensor::Allocate(tensor.dtype(), out).value();
  std::vector<int64_t> in_strides = RowMajorStrides(in);
  std::vector<int64_t> index(perm.size(), 0);
  for (int64_t flat = 0; flat < result.NumElements(); ++flat) {
    int64_t from = 0;
    for (size_t i = 0; i < perm.size(); ++i) from += index[i] * in_strides[perm[i]];
    result.SetFromDouble(flat, tensor.GetAsDouble(from));
    for (int i = static_cast<int>(perm.size()) - 1; i >= 0; --i) {
      if (++index[i] < out.dim(i)) break;
      index[i] = 0;
    }
  }
  return result;
}

}  // namespace kiln::testing
