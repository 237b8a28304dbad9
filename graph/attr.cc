#include "graph/attr.h"

#include <cstring>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/graph.h"

namespace kiln {

absl::string_view AttrTypeName(AttrType type) {
  switch (type) {
    case AttrType::kInt: return "int";
    case AttrType::kFloat: return "float";
    case AttrType::kString: return "string";
    case AttrType::kBool: return "bool";
    case AttrType::kInts: return "ints";
    case AttrType::kFloats: return "floats";
    case AttrType::kStrings: return "strings";
    case AttrType::kDType: return "dtype";
    case AttrType::kTensor: return "tensor";
    case AttrType::kGraph: return "graph";
  }
  return "?";
}

std::string AttrValueToString(const AttrValue& value) {
  switch (TypeOf(value)) {
    case AttrType::kInt: return absl::StrCat(std::get<int64_t>(value));
    case AttrType::kFloat: return absl::StrCat(std::get<double>(value));
    case AttrType::kString: return absl::StrCat("\"", std::get<std::string>(value), "\"");
    case AttrType::kBool: return std::get<bool>(value) ? "true" : "false";
    case AttrType::kInts:
      return absl::StrCat("[", absl::StrJoin(std::get<std::vector<int64_t>>(value), ","), "]");
    case AttrType::kFloats:
      return absl::StrCat("[", absl::StrJoin(std::get<std::vector<double>>(value), ","), "]");
    case AttrType::kStrings:
      return absl::StrCat("[", absl::StrJoin(std::get<std::vector<std::string>>(value), ","),
                          "]");
    case AttrType::kDType: return std::string(DataTypeName(std::get<DataType>(value)));
    case AttrType::kTensor: return absl::StrCat(std::get<Tensor>(value).TypeString(), " tensor");
    case AttrType::kGraph: {
      const GraphValue& graph = std::get<GraphValue>(value);
      return absl::StrCat("graph(", graph ? graph->num_nodes() : 0, " nodes)");
    }
  }
  return "?";
}

bool AttrValuesEqual(const AttrValue& a, const AttrValue& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&b](const auto& x) -> bool {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b);
        if constexpr (std::is_same_v<T, Tensor>) {
          if (x.dtype() != y.dtype() || x.shape() != y.shape()) return false;
          return x.ByteSize() == 0 || std::memcmp(x.raw_data(), y.raw_data(), x.ByteSize()) == 0;
        } else if constexpr (std::is_same_v<T, GraphValue>) {
          if (x == y) return true;
          return x != nullptr && y != nullptr && GraphsEqual(*x, *y);
        } else {
          return x == y;
        }
      },
      a);
}

}  // namespace kiln
