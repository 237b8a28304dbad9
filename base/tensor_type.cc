#include "base/tensor_type.h"

#include "absl/strings/str_cat.h"

namespace kiln {

std::string TensorType::ToString() const {
  return absl::StrCat(DataTypeName(dtype), shape.ToString());
}

}  // namespace kiln
