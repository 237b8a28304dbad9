// Builds one input tensor from the SAX events of its JSON values (TF Serving's nested
// lists of numbers or booleans), checking nesting and list lengths as the events arrive.
#ifndef KILN_TOOLS_SERVE_JSON_TENSOR_READER_H_
#define KILN_TOOLS_SERVE_JSON_TENSOR_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/shape.h"
#include "base/tensor.h"
#include "tools/serve/tensor_spec.h"

namespace kiln::serve {

// Reads a sequence of JSON values for one input (one per instance in row format, a single
// one in columnar format) and appends their elements in row-major order. Each value must
// nest like `value_dims`: a bare number for no dims, else lists of value_dims[d] items at
// depth d. value_dims[0] may be -1 (the columnar batch dimension): the outermost list may
// then have any length, which leading_size() reports.
//
// A list where a number belongs fails at once, so the nesting a hostile body can make
// the parser track stays within the rank. Memory grows only with the elements read.
// Not thread-safe: one reader per input and request.
class JsonTensorReader {
 public:
  // `spec` must outlive the reader. `first_dim` is the spec dimension value_dims[0]
  // stands for (1 for row-format instances, which omit the batch dimension); messages
  // number dimensions as the spec does.
  JsonTensorReader(const TensorSpec& spec, std::vector<int64_t> value_dims, int first_dim);

  // SAX events of the values. Each returns false on a mismatch, with the reason in
  // status() ("input 'x': expected 3 values in dimension 1, got 2").
  bool StartList();
  bool EndList();
  bool Number(absl::string_view text);
  // Reads the number starting at `text` (NUL-terminated) as Number(its text) would, and
  // sets `*length` to its length; to 0, reading nothing, where `text` does not start a
  // JSON number (JsonNumberLength). Faster than finding the text first. Call only where
  // expects_numbers().
  bool ReadNumber(const char* text, size_t* length);
  bool Bool(bool value);
  // Objects are refused at their first key (or end), which tells a {"b64": ...} bytes
  // value from any other object.
  bool StartObject();
  bool Key(absl::string_view key);
  bool EndObject();
  // A string or null; `what` names it ("a string", "null").
  bool Unexpected(absl::string_view what);

  // True inside a list whose items must be numbers (the innermost dimension of a
  // numeric input), where the caller may send Number events without the parser's own.
  bool expects_numbers() const {
    return depth_ > 0 && depth_ == rank_ && spec_.dtype != DataType::kBool;
  }
  // True when the last event completed a value (or before the first event).
  bool between_values() const { return depth_ == 0 && !in_object_; }
  // Length of the last value's outermost list when value_dims[0] is -1, else -1.
  int64_t leading_size() const { return leading_size_; }
  int64_t num_elements() const { return static_cast<int64_t>(size_) / element_size_; }
  const absl::Status& status() const { return status_; }

  // A new tensor of `shape` holding the elements read, which must number exactly
  // shape's element count (else Internal). Releases the reader's copy.
  absl::StatusOr<Tensor> TakeTensor(const Shape& shape);

 private:
  bool Fail(absl::string_view message);
  // A value of the wrong kind (`got`) at the current depth.
  bool Mismatch(absl::string_view got);
  // Room for one more element at the end of elements_.
  char* AppendElement();

  const TensorSpec& spec_;
  const std::vector<int64_t> dims_;
  const int rank_;
  const int first_dim_;
  const int64_t element_size_;
  // Items seen so far in each open list; depth_ lists are open.
  std::vector<int64_t> counts_;
  int depth_ = 0;
  bool in_object_ = false;
  int64_t leading_size_ = -1;
  // The elements read: the first size_ bytes (the vector grows ahead, so an element
  // costs no resize).
  std::vector<char> elements_;
  size_t size_ = 0;
  absl::Status status_;
};

}  // namespace kiln::serve

#endif  // KILN_TOOLS_SERVE_JSON_TENSOR_READER_H_
