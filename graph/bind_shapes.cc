#include "graph/bind_shapes.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "graph/verifier.h"

namespace kiln {

absl::Status CheckInputShape(const Node& input, const Shape& shape) {
  Shape declared(input.ints_attr("shape"));
  bool match = declared.rank() == shape.rank();
  for (int i = 0; match && i < shape.rank(); ++i) {
    match = shape.dim(i) >= 0 && (declared.dim(i) == kUnknownDim || declared.dim(i) == shape.dim(i));
  }
  if (!match) {
    return absl::InvalidArgumentError(absl::StrCat("input '", input.name, "': shape ",
                                                   shape.ToString(), " does not match declared ",
                                                   declared.ToString()));
  }
  return ValidateShape(shape);
}

absl::StatusOr<Graph> BindInputShapes(const Graph& graph,
                                      const absl::flat_hash_map<std::string, Shape>& shapes) {
  Graph bound = graph;
  for (int id : bound.inputs()) {
    Node& node = bound.node(id);
    auto it = shapes.find(node.name);
    if (it == shapes.end()) {
      return absl::InvalidArgumentError(absl::StrCat("input '", node.name, "' has no shape bound"));
    }
    RETURN_IF_ERROR(CheckInputShape(node, it->second));
    node.attrs["shape"] = it->second.dims();
  }
  RETURN_IF_ERROR(VerifyGraph(bound));
  return bound;
}

}  // namespace kiln
