// Typed node attributes: the in-memory form of proto AttrValue.
#ifndef KILN_GRAPH_ATTR_H_
#define KILN_GRAPH_ATTR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <variant>
#include <vector>

#include "base/dtype.h"
#include "base/tensor.h"

namespace kiln {

class Graph;

// A subgraph attribute (a Fusion node's body). Shared and immutable, so copying a node is
// cheap and a body can never change under a node that holds it: a pass that rewrites a
// body builds a new Graph. Never null in a valid attribute.
using GraphValue = std::shared_ptr<const Graph>;

// The order of alternatives matches AttrType's values.
using AttrValue =
    std::variant<int64_t, double, std::string, bool, std::vector<int64_t>, std::vector<double>,
                 std::vector<std::string>, DataType, Tensor, GraphValue>;

enum class AttrType {
  kInt,
  kFloat,
  kString,
  kBool,
  kInts,
  kFloats,
  kStrings,
  kDType,
  kTensor,
  kGraph,
};

// Sorted by name so text and proto output is deterministic.
using AttrMap = std::map<std::string, AttrValue, std::less<>>;

inline AttrType TypeOf(const AttrValue& value) { return static_cast<AttrType>(value.index()); }
// "int", "float", "string", "bool", "ints", "floats", "strings", "dtype", "tensor", "graph".
absl::string_view AttrTypeName(AttrType type);
// Short readable form: 3, 0.5, "NCHW", [1,2], f32, f32[3,3] tensor, graph(4 nodes).
std::string AttrValueToString(const AttrValue& value);
// Structural equality (tensors by dtype, shape and bytes; graphs by GraphsEqual).
bool AttrValuesEqual(const AttrValue& a, const AttrValue& b);

}  // namespace kiln

#endif  // KILN_GRAPH_ATTR_H_
