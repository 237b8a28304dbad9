#include "base/dtype.h"

#include "absl/strings/str_cat.h"

namespace kiln {

int64_t DataTypeSize(DataType dtype) {
  switch (dtype) {
    case DataType::kF32: return 4;
    case DataType::kF16: return 2;
    case DataType::kBF16: return 2;
    case DataType::kF64: return 8;
    case DataType::kI8: return 1;
    case DataType::kU8: return 1;
    case DataType::kI32: return 4;
    case DataType::kI64: return 8;
    case DataType::kBool: return 1;
    case DataType::kInvalid: return 0;
  }
  return 0;
}

absl::string_view DataTypeName(DataType dtype) {
  switch (dtype) {
    case DataType::kF32: return "f32";
    case DataType::kF16: return "f16";
    case DataType::kBF16: return "bf16";
    case DataType::kF64: return "f64";
    case DataType::kI8: return "i8";
    case DataType::kU8: return "u8";
    case DataType::kI32: return "i32";
    case DataType::kI64: return "i64";
    case DataType::kBool: return "bool";
    case DataType::kInvalid: return "invalid";
  }
  return "invalid";
}

absl::StatusOr<DataType> ParseDataType(absl::string_view name) {
  for (int v = 1; v <= 9; ++v) {
    DataType dtype = static_cast<DataType>(v);
    if (DataTypeName(dtype) == name) return dtype;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown dtype '", name, "'"));
}

absl::StatusOr<DataType> DataTypeFromProto(int value) {
  if (value < 1 || value > 9) {
    return absl::InvalidArgumentError(absl::StrCat("invalid dtype value ", value));
  }
  return static_cast<DataType>(value);
}

bool IsFloating(DataType dtype) {
  return dtype == DataType::kF32 || dtype == DataType::kF16 || dtype == DataType::kBF16 ||
         dtype == DataType::kF64;
}

bool IsInteger(DataType dtype) {
  return dtype == DataType::kI8 || dtype == DataType::kU8 || dtype == DataType::kI32 ||
         dtype == DataType::kI64;
}

}  // namespace kiln
