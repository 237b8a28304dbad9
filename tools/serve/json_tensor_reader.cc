#include "tools/serve/json_tensor_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tools/serve/json_number.h"

namespace kiln::serve {

JsonTensorReader::JsonTensorReader(const TensorSpec& spec, std::vector<int64_t> value_dims,
                                   int first_dim)
    : spec_(spec),
      dims_(std::move(value_dims)),
      rank_(static_cast<int>(dims_.size())),
      first_dim_(first_dim),
      element_size_(DataTypeSize(spec.dtype)),
      counts_(dims_.size(), 0) {}

bool JsonTensorReader::Fail(absl::string_view message) {
  status_ = absl::InvalidArgumentError(absl::StrCat("input '", spec_.name, "': ", message));
  return false;
}

bool JsonTensorReader::Mismatch(absl::string_view got) {
  std::string shape = Shape(spec_.dims).ToString();
  if (depth_ < rank_) {
    return Fail(absl::StrCat("expected a list for dimension ", first_dim_ + depth_, " of shape ",
                             shape, ", got ", got));
  }
  return Fail(absl::StrCat("expected ",
                           spec_.dtype == DataType::kBool ? "true or false" : "a number",
                           " for an element of shape ", shape, ", got ", got));
}

bool JsonTensorReader::StartList() {
  if (depth_ >= rank_) return Mismatch("a list");
  if (depth_ > 0) ++counts_[depth_ - 1];
  counts_[depth_] = 0;
  ++depth_;
  return true;
}

bool JsonTensorReader::EndList() {
  if (depth_ == 0) return Fail("unbalanced list");  // the parser never sends this
  const int level = --depth_;
  const int64_t want = dims_[level];
  const int64_t got = counts_[level];
  if (want == kUnknownDim) {
    leading_size_ = got;
  } else if (got != want) {
    return Fail(absl::StrCat("expected ", want, " values in dimension ", first_dim_ + level,
                             ", got ", got));
  }
  return true;
}

bool JsonTensorReader::Number(absl::string_view text) {
  if (depth_ != rank_ || spec_.dtype == DataType::kBool) {
    // A body may hold a number of a million digits; the message quotes its start.
    constexpr size_t kMaxQuoted = 40;
    if (text.size() <= kMaxQuoted) return Mismatch(text);
    return Mismatch(absl::StrCat(text.substr(0, kMaxQuoted), "..."));
  }
  if (depth_ > 0) ++counts_[depth_ - 1];
  absl::Status status = ParseNumber(text, spec_.dtype, AppendElement());
  if (!status.ok()) return Fail(status.message());
  return true;
}

bool JsonTensorReader::ReadNumber(const char* text, size_t* length) {
  char* element = AppendElement();
  absl::Status status;
  *length = ReadJsonNumber(text, spec_.dtype, element, &status);
  if (*length == 0) {
    size_ -= element_size_;
    return true;
  }
  ++counts_[depth_ - 1];
  if (!status.ok()) return Fail(status.message());
  return true;
}

char* JsonTensorReader::AppendElement() {
  if (size_ + element_size_ > elements_.size()) {
    elements_.resize(std::max<size_t>(2 * elements_.size(), 64 * element_size_));
  }
  char* element = elements_.data() + size_;
  size_ += element_size_;
  return element;
}

bool JsonTensorReader::Bool(bool value) {
  if (depth_ != rank_ || spec_.dtype != DataType::kBool) return Mismatch(value ? "true" : "false");
  if (depth_ > 0) ++counts_[depth_ - 1];
  *AppendElement() = value ? 1 : 0;
  return true;
}

bool JsonTensorReader::StartObject() {
  in_object_ = true;
  return true;
}

bool JsonTensorReader::Key(absl::string_view key) {
  if (key == "b64") {
    return Fail(
        "{\"b64\": ...} values are for bytes tensors, and Kiln has no string dtype "
        "(the input is " +
        std::string(DataTypeName(spec_.dtype)) + ")");
  }
  return Mismatch("an object");
}

bool JsonTensorReader::EndObject() { return Mismatch("an object"); }

bool JsonTensorReader::Unexpected(absl::string_view what) { return Mismatch(what); }

absl::StatusOr<Tensor> JsonTensorReader::TakeTensor(const Shape& shape) {
  absl::StatusOr<Tensor> tensor = Tensor::Allocate(spec_.dtype, shape);
  if (!tensor.ok()) {
    return absl::Status(tensor.status().code(),
                        absl::StrCat("input '", spec_.name, "': ", tensor.status().message()));
  }
  if (tensor->ByteSize() != static_cast<int64_t>(size_)) {
    return absl::InternalError(absl::StrCat("input '", spec_.name, "': read ", num_elements(),
                                            " elements for shape ", shape.ToString()));
  }
  if (size_ > 0) std::memcpy(tensor->raw_data(), elements_.data(), size_);
  std::vector<char>().swap(elements_);
  size_ = 0;
  return tensor;
}

}  // namespace kiln::serve
