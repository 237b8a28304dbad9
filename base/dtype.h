// Element types of tensors, their sizes and names, and conversions to and from the proto.
#ifndef KILN_BASE_DTYPE_H_
#define KILN_BASE_DTYPE_H_

#include <cstdint>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace kiln {

// Values equal proto/graph.proto's DataType so conversion is a checked cast.
enum class DataType : int {
  kInvalid = 0,
  kF32 = 1,
  kF16 = 2,
  kBF16 = 3,
  kF64 = 4,
  kI8 = 5,
  kI32 = 6,
  kI64 = 7,
  kBool = 8,
  kU8 = 9,
};

// Bytes per element; 0 for kInvalid.
int64_t DataTypeSize(DataType dtype);
// Short name used in text and errors: "f32", "bf16", "i64", "bool", ...
absl::string_view DataTypeName(DataType dtype);
// Inverse of DataTypeName; an error naming `name` when it is not a type.
absl::StatusOr<DataType> ParseDataType(absl::string_view name);
// Checked conversion from the proto enum's integer value.
absl::StatusOr<DataType> DataTypeFromProto(int value);

bool IsFloating(DataType dtype);  // f16, bf16, f32, f64
bool IsInteger(DataType dtype);   // i8, u8, i32, i64
inline bool IsNumeric(DataType dtype) { return IsFloating(dtype) || IsInteger(dtype); }

}  // namespace kiln

#endif  // KILN_BASE_DTYPE_H_
