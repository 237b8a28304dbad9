// TensorProto -> Tensor: ONNX stores values in raw_data (little-endian bytes), in one of
// several typed repeated fields depending on the type, or in a file beside the model.
#include "graph/onnx/onnx_tensor.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"

namespace kiln {
namespace {

using onnx::TensorProto;

absl::Status Invalid(absl::string_view what, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", message));
}

// Checks that `location` names a file inside `dir` and returns its path. Lexical checks
// first (absolute, "..", NUL), then the resolved path, which catches symbolic links.
absl::StatusOr<std::filesystem::path> ResolveExternal(absl::string_view location,
                                                      const std::string& dir,
                                                      absl::string_view what) {
  if (location.empty() || absl::StrContains(location, absl::string_view("\0", 1))) {
    return Invalid(what, "external data location is empty or malformed");
  }
  std::filesystem::path rel{std::string(location)};
  if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory()) {
    return Invalid(what, absl::StrCat("external data location '", location,
                                      "' is absolute; it must be relative to the model's "
                                      "directory"));
  }
  for (const auto& part : rel) {
    if (part == "..") {
      return Invalid(what, absl::StrCat("external data location '", location,
                                        "' leaves the model's directory"));
    }
  }
  std::error_code ec;
  std::filesystem::path base = std::filesystem::weakly_canonical(dir, ec);
  if (ec) return absl::NotFoundError(absl::StrCat(what, ": model directory '", dir, "': ", ec.message()));
  std::filesystem::path full = std::filesystem::weakly_canonical(base / rel, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat(what, ": external data '", location, "': ", ec.message()));
  }
  std::string base_str = base.string();
  if (!base_str.empty() && base_str.back() != '/') base_str += '/';
  if (!absl::StartsWith(full.string(), base_str)) {
    return Invalid(what, absl::StrCat("external data location '", location,
                                      "' resolves outside the model's directory"));
  }
  return full;
}

absl::StatusOr<Tensor> ReadExternal(const TensorProto& proto, const std::string& dir,
                                    DataType dtype, const Shape& shape, absl::string_view what) {
  const int64_t bytes = shape.NumElements() * DataTypeSize(dtype);
  const std::string type = absl::StrCat(DataTypeName(dtype), shape.ToString());
  if (dir.empty()) {
    return Invalid(what, "external data needs the model's directory (import the model from a file)");
  }
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
  for (const onnx::StringStringEntryProto& entry : proto.external_data()) {
    if (entry.key() == "location") {
      location = entry.value();
    } else if (entry.key() == "offset" || entry.key() == "length") {
      int64_t value = 0;
      if (!absl::SimpleAtoi(entry.value(), &value) || value < 0) {
        return Invalid(what, absl::StrCat("external data ", entry.key(), " '", entry.value(),
                                          "' is not a non-negative integer"));
      }
      (entry.key() == "offset" ? offset : length) = value;
    }
    // "checksum" (optional SHA-1) and unknown keys are ignored, as ONNX's loader does.
  }
  ASSIGN_OR_RETURN(std::filesystem::path path, ResolveExternal(location, dir, what));
  if (length >= 0 && length != bytes) {
    return Invalid(what, absl::StrCat("external data length ", length, ", expected ", bytes,
                                      " bytes for ", type));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(what, ": cannot open external data '", location, "'"));
  in.seekg(0, std::ios::end);
  const int64_t file_size = static_cast<int64_t>(in.tellg());
  if (file_size < 0 || offset > file_size || file_size - offset < bytes) {
    return absl::OutOfRangeError(absl::StrCat(what, ": external data '", location, "' is ",
                                              file_size, " bytes, too short for ", bytes,
                                              " bytes at offset ", offset));
  }
  ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(dtype, shape));
  in.seekg(offset);
  in.read(static_cast<char*>(t.raw_data()), bytes);
  if (!in) return absl::DataLossError(absl::StrCat(what, ": reading '", location, "' failed"));
  return t;
}

// Copies a typed repeated field into `t`, converting each element with `store`.
template <typename Field, typename Store>
absl::Status CopyTyped(const Field& field, Tensor& t, absl::string_view field_name,
                       absl::string_view what, Store store) {
  if (field.size() != t.NumElements()) {
    return Invalid(what, absl::StrCat(field_name, " has ", field.size(), " values, expected ",
                                      t.NumElements(), " for ", t.TypeString()));
  }
  for (int64_t i = 0; i < t.NumElements(); ++i) store(i, field.Get(static_cast<int>(i)));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DataType> DataTypeFromOnnx(int elem_type) {
  switch (elem_type) {
    case TensorProto::FLOAT: return DataType::kF32;
    case TensorProto::UINT8: return DataType::kU8;
    case TensorProto::INT8: return DataType::kI8;
    case TensorProto::INT32: return DataType::kI32;
    case TensorProto::INT64: return DataType::kI64;
    case TensorProto::BOOL: return DataType::kBool;
    case TensorProto::FLOAT16: return DataType::kF16;
    case TensorProto::DOUBLE: return DataType::kF64;
    case TensorProto::BFLOAT16: return DataType::kBF16;
    default: break;
  }
  if (TensorProto::DataType_IsValid(elem_type) && elem_type != TensorProto::UNDEFINED) {
    return absl::UnimplementedError(
        absl::StrCat("element type ", OnnxElemTypeName(elem_type), " has no Kiln dtype"));
  }
  return absl::InvalidArgumentError(absl::StrCat("element type ", elem_type, " is not an ONNX type"));
}

int OnnxElemType(DataType dtype) {
  switch (dtype) {
    case DataType::kF32: return TensorProto::FLOAT;
    case DataType::kU8: return TensorProto::UINT8;
    case DataType::kI8: return TensorProto::INT8;
    case DataType::kI32: return TensorProto::INT32;
    case DataType::kI64: return TensorProto::INT64;
    case DataType::kBool: return TensorProto::BOOL;
    case DataType::kF16: return TensorProto::FLOAT16;
    case DataType::kF64: return TensorProto::DOUBLE;
    case DataType::kBF16: return TensorProto::BFLOAT16;
    case DataType::kInvalid: break;
  }
  return TensorProto::UNDEFINED;
}

std::string OnnxElemTypeName(int elem_type) {
  if (TensorProto::DataType_IsValid(elem_type)) {
    return TensorProto::DataType_Name(static_cast<TensorProto::DataType>(elem_type));
  }
  return absl::StrCat("type ", elem_type);
}

absl::StatusOr<Tensor> TensorFromOnnx(const TensorProto& proto,
                                      const std::string& external_data_dir,
                                      absl::string_view what) {
  if (proto.has_segment()) return absl::UnimplementedError(absl::StrCat(what, ": segmented tensors are not supported"));
  absl::StatusOr<DataType> dtype = DataTypeFromOnnx(proto.data_type());
  if (!dtype.ok()) {
    return absl::Status(dtype.status().code(), absl::StrCat(what, ": ", dtype.status().message()));
  }
  std::vector<int64_t> dims(proto.dims().begin(), proto.dims().end());
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0) return Invalid(what, absl::StrCat("dimension ", i, " is ", dims[i]));
  }
  Shape shape(std::move(dims));
  absl::Status valid = ValidateShape(shape);
  if (!valid.ok()) return Invalid(what, valid.message());
  const int64_t count = shape.NumElements();
  const int64_t bytes = count * DataTypeSize(*dtype);
  const std::string type = absl::StrCat(DataTypeName(*dtype), shape.ToString());

  // Sizes are checked before allocating, so a small file cannot claim a huge tensor.
  if (proto.data_location() == TensorProto::EXTERNAL) {
    return ReadExternal(proto, external_data_dir, *dtype, shape, what);
  }
  if (proto.has_raw_data()) {
    // Kiln runs on little-endian hosts only, like ONNX's raw_data.
    if (static_cast<int64_t>(proto.raw_data().size()) != bytes) {
      return Invalid(what, absl::StrCat("raw_data has ", proto.raw_data().size(),
                                        " bytes, expected ", bytes, " for ", type));
    }
    ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(*dtype, shape));
    if (bytes > 0) std::memcpy(t.raw_data(), proto.raw_data().data(), bytes);
    return t;
  }
  int64_t field_size = 0;
  absl::string_view field_name;
  switch (proto.data_type()) {
    case TensorProto::FLOAT: field_size = proto.float_data_size(); field_name = "float_data"; break;
    case TensorProto::DOUBLE: field_size = proto.double_data_size(); field_name = "double_data"; break;
    case TensorProto::INT64: field_size = proto.int64_data_size(); field_name = "int64_data"; break;
    default: field_size = proto.int32_data_size(); field_name = "int32_data"; break;
  }
  if (field_size != count) {
    return Invalid(what, absl::StrCat(field_name, " has ", field_size, " values, expected ", count,
                                      " for ", type));
  }
  ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(*dtype, shape));
  switch (proto.data_type()) {
    case TensorProto::FLOAT:
      RETURN_IF_ERROR(CopyTyped(proto.float_data(), t, "float_data", what,
                                [&](int64_t i, float v) { t.data<float>()[i] = v; }));
      break;
    case TensorProto::DOUBLE:
      RETURN_IF_ERROR(CopyTyped(proto.double_data(), t, "double_data", what,
                                [&](int64_t i, double v) { t.data<double>()[i] = v; }));
      break;
    case TensorProto::INT64:
      RETURN_IF_ERROR(CopyTyped(proto.int64_data(), t, "int64_data", what,
                                [&](int64_t i, int64_t v) { t.data<int64_t>()[i] = v; }));
      break;
    case TensorProto::FLOAT16:
    case TensorProto::BFLOAT16:
      // int32_data holds the 16-bit patterns.
      RETURN_IF_ERROR(CopyTyped(proto.int32_data(), t, "int32_data", what,
                                [&](int64_t i, int32_t v) {
                                  t.data<uint16_t>()[i] = static_cast<uint16_t>(v);
                                }));
      break;
    default:
      // INT32, INT8, UINT8, BOOL: int32_data, narrowed as ONNX's numpy_helper does.
      RETURN_IF_ERROR(CopyTyped(proto.int32_data(), t, "int32_data", what,
                                [&](int64_t i, int32_t v) { t.SetFromInt64(i, v); }));
      break;
  }
  return t;
}

onnx::TensorProto TensorToOnnx(const Tensor& tensor, absl::string_view name) {
  onnx::TensorProto proto;
  proto.set_name(std::string(name));
  proto.set_data_type(OnnxElemType(tensor.dtype()));
  for (int64_t d : tensor.shape().dims()) proto.add_dims(d);
  proto.set_raw_data(std::string(reinterpret_cast<const char*>(tensor.raw_data()),
                                 static_cast<size_t>(tensor.ByteSize())));
  return proto;
}

}  // namespace kiln
