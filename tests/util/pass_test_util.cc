// Before/after numerical comparison through the reference interpreter.
#include "tests/util/pass_test_util.h"

#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "graph/bind_shapes.h"
#include "graph/evaluate.h"
#include "base/status_macros.h"
#include "passes/pipeline.h"
#include "passes/registry.h"
#include "tests/util/op_test_util.h"

namespace kiln::testing {
namespace {

absl::StatusOr<std::vector<Tensor>> Evaluate(const Graph& graph, uint64_t seed,
                                             int64_t unknown_dim,
                                             std::vector<std::string>& names) {
  absl::flat_hash_map<std::string, Shape> shapes;
  for (int id : graph.inputs()) {
    Shape s(graph.node(id).ints_attr("shape"));
    for (int64_t& d : s.dims()) {
      if (d == kUnknownDim) d = unknown_dim;
    }
    shapes[graph.node(id).name] = s;
  }
  ASSIGN_OR_RETURN(Graph bound, BindInputShapes(graph, shapes));
  absl::flat_hash_map<int, Tensor> feeds;
  for (size_t i = 0; i < bound.inputs().size(); ++i) {
    const Node& input = bound.node(bound.inputs()[i]);
    const TensorType& type = input.outputs[0];
    // The seed mixes in the input's name so feeds match across graphs by name.
    uint64_t s = seed;
    for (char c : input.name) s = s * 131 + static_cast<unsigned char>(c);
    feeds[bound.inputs()[i]] = IsFloating(type.dtype) ? RandomTensor(type.dtype, type.shape, s)
                                                      : RandomTensor(type.dtype, type.shape, s, 1, 4);
  }
  std::vector<TensorRef> fetches;
  for (const GraphOutput& out : bound.outputs()) {
    fetches.push_back(out.tensor);
    names.push_back(out.name);
  }
  return EvaluateGraph(bound, feeds, fetches);
}

}  // namespace

Tolerance DefaultTolerance(DataType dtype) {
  switch (dtype) {
    case DataType::kF64: return {1e-12, 1e-12};
    case DataType::kF32: return {1e-5, 1e-5};
    case DataType::kF16: return {1e-2, 1e-2};
    case DataType::kBF16: return {6e-2, 6e-2};
    default: return {0, 0};
  }
}

absl::Status CompareGraphsNumerically(const Graph& before, const Graph& after, uint64_t seed,
                                      int64_t unknown_dim, std::optional<Tolerance> tolerance) {
  std::vector<std::string> want_names, got_names;
  absl::StatusOr<std::vector<Tensor>> want_or = Evaluate(before, seed, unknown_dim, want_names);
  absl::StatusOr<std::vector<Tensor>> got_or = Evaluate(after, seed, unknown_dim, got_names);
  // A run-time error (an integer division by zero left unfolded) must be preserved too.
  if (!want_or.ok() || !got_or.ok()) {
    if (!want_or.ok() && !got_or.ok() &&
        want_or.status().message() == got_or.status().message()) {
      return absl::OkStatus();
    }
    return absl::InternalError(absl::StrCat("before: ", want_or.status().ToString(),
                                            "; after: ", got_or.status().ToString()));
  }
  std::vector<Tensor>& want = *want_or;
  std::vector<Tensor>& got = *got_or;
  if (want_names != got_names) return absl::InternalError("the graphs' outputs differ in name");
  for (size_t k = 0; k < want.size(); ++k) {
    const Tensor& a = got[k];
    const Tensor& b = want[k];
    if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
      return absl::InternalError(absl::StrCat("output '", want_names[k], "': ", a.TypeString(),
                                              " after, ", b.TypeString(), " before"));
    }
    Tolerance tol = tolerance.value_or(DefaultTolerance(b.dtype()));
    for (int64_t i = 0; i < b.NumElements(); ++i) {
      double x = a.GetAsDouble(i);
      double y = b.GetAsDouble(i);
      bool ok = std::isnan(y) ? std::isnan(x)
                              : (x == y || std::fabs(x - y) <= tol.atol + tol.rtol * std::fabs(y));
      if (!ok) {
        return absl::InternalError(absl::StrCat("output '", want_names[k], "' element ", i,
                                                ": ", x, " after, ", y, " before (rtol ",
                                                tol.rtol, ", atol ", tol.atol, ")"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Graph> RunPasses(const Graph& graph, const std::string& pass_names) {
  passes::PipelineOptions options;
  options.verify_each = true;
  passes::Pipeline pipeline(options);
  ASSIGN_OR_RETURN(auto list, passes::CreatePasses(pass_names, passes::PassOptions()));
  for (auto& pass : list) pipeline.AddPass(std::move(pass));
  Graph result = graph;
  RETURN_IF_ERROR(pipeline.Run(result).status());
  return result;
}

}  // namespace kiln::testing
