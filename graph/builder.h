// GraphBuilder: the define half of define-then-run. Ops are added through the typed
// functions of graph/builder_ops.h; each addition is shape-checked at once.
#ifndef KILN_GRAPH_BUILDER_H_
#define KILN_GRAPH_BUILDER_H_

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "base/tensor.h"
#include "proto/graph.pb.h"

namespace kiln {

class GraphBuilder;

// A tensor produced inside a GraphBuilder. Cheap to copy. A Value made after an error
// is invalid; using it adds nothing and keeps the first error.
class Value {
 public:
  Value() = default;
  bool valid() const { return builder_ != nullptr && ref_.node >= 0; }
  GraphBuilder* builder() const { return builder_; }
  TensorRef ref() const { return ref_; }
  // Type of the tensor; an invalid Value has dtype kInvalid and an empty shape.
  DataType dtype() const;
  const Shape& shape() const;

 private:
  friend class GraphBuilder;
  Value(GraphBuilder* builder, TensorRef ref) : builder_(builder), ref_(ref) {}
  GraphBuilder* builder_ = nullptr;
  TensorRef ref_;
};

// Not thread-safe. The first error (bad shapes, dtypes, attributes, duplicate names) is
// kept and returned by Build(); later additions are ignored so callers check once.
class GraphBuilder {
 public:
  GraphBuilder() = default;
  GraphBuilder(const GraphBuilder&) = delete;
  GraphBuilder& operator=(const GraphBuilder&) = delete;

  // A graph input; -1 in `shape` marks a dimension bound at run time.
  Value Input(absl::string_view name, DataType dtype, const Shape& shape);
  // A constant; the name defaults to "const", made unique.
  Value Constant(Tensor value, absl::string_view name = "");
  // Adds a node of `op` with `inputs` and `attrs`, infers its outputs, and returns them.
  // `name` defaults to the op's name in snake case, made unique.
  std::vector<Value> AddOp(absl::string_view op, const std::vector<Value>& inputs,
                           AttrMap attrs = {}, absl::string_view name = "");
  // AddOp for ops with one output.
  Value AddOp1(absl::string_view op, const std::vector<Value>& inputs, AttrMap attrs = {},
               absl::string_view name = "");
  // Names `value` as a graph output.
  void Output(absl::string_view name, Value value);

  // Prefix applied to default node names, for readable graphs ("layer1/conv").
  void set_name_scope(std::string scope) { scope_ = std::move(scope); }
  const std::string& name_scope() const { return scope_; }

  const absl::Status& status() const { return status_; }
  const Graph& graph() const { return graph_; }
  // The verified graph, or the first error.
  absl::StatusOr<Graph> BuildGraph() const;
  absl::StatusOr<proto::GraphDef> Build() const;

 private:
  friend class Value;
  std::string NodeName(absl::string_view requested, absl::string_view op);
  void RecordError(absl::Status status);

  Graph graph_;
  absl::Status status_;
  std::string scope_;
};

}  // namespace kiln

#endif  // KILN_GRAPH_BUILDER_H_
