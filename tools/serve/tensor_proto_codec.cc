#include "tools/serve/tensor_proto_codec.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/shape.h"
#include "base/status_macros.h"

// tensor_content is host-order bytes, and every TensorFlow Serving client in practice
// runs on a little-endian machine; so does Kiln.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "TensorProto.tensor_content is read as little-endian");

namespace kiln::serve {
namespace {

struct DataTypePair {
  DataType kiln;
  tensorflow::DataType tf;
};

constexpr DataTypePair kDataTypes[] = {
    {DataType::kF32, tensorflow::DT_FLOAT},   {DataType::kF16, tensorflow::DT_HALF},
    {DataType::kBF16, tensorflow::DT_BFLOAT16}, {DataType::kF64, tensorflow::DT_DOUBLE},
    {DataType::kI8, tensorflow::DT_INT8},     {DataType::kI32, tensorflow::DT_INT32},
    {DataType::kI64, tensorflow::DT_INT64},   {DataType::kBool, tensorflow::DT_BOOL},
    {DataType::kU8, tensorflow::DT_UINT8},
};

// One of TensorProto's typed ("xxx_val") fields: its name and how many values it holds.
struct TypedField {
  absl::string_view name;
  int64_t size;
};

// Every typed field of `proto`, so values in a field the dtype does not use are caught
// rather than ignored (TensorFlow ignores them and zero-fills the tensor).
std::vector<TypedField> TypedFields(const tensorflow::TensorProto& proto) {
  return {
      {"half_val", proto.half_val_size()},
      {"float_val", proto.float_val_size()},
      {"double_val", proto.double_val_size()},
      {"int_val", proto.int_val_size()},
      {"string_val", proto.string_val_size()},
      {"scomplex_val", proto.scomplex_val_size()},
      {"int64_val", proto.int64_val_size()},
      {"bool_val", proto.bool_val_size()},
      {"dcomplex_val", proto.dcomplex_val_size()},
      {"variant_val", proto.variant_val_size()},
      {"uint32_val", proto.uint32_val_size()},
      {"uint64_val", proto.uint64_val_size()},
      {"float8_val", static_cast<int64_t>(proto.float8_val().size())},
  };
}

// The typed field TensorFlow reads for a Kiln dtype.
absl::string_view TypedFieldFor(DataType dtype) {
  switch (dtype) {
    case DataType::kF32: return "float_val";
    case DataType::kF64: return "double_val";
    case DataType::kF16:
    case DataType::kBF16: return "half_val";
    case DataType::kI8:
    case DataType::kU8:
    case DataType::kI32: return "int_val";
    case DataType::kI64: return "int64_val";
    case DataType::kBool: return "bool_val";
    case DataType::kInvalid: break;
  }
  return "";
}

// Element i of the typed field, or its only element when the field fills the tensor.
template <typename Field>
auto Value(const Field& field, int64_t i) {
  return field.size() == 1 ? field.Get(0) : field.Get(static_cast<int>(i));
}

template <typename T, typename Field>
void CopyValues(const Field& field, Tensor* tensor) {
  T* out = tensor->data<T>();
  for (int64_t i = 0; i < tensor->NumElements(); ++i) out[i] = static_cast<T>(Value(field, i));
}

// int_val into an 8-bit tensor; each value must fit, rather than wrap as in TensorFlow.
template <typename T>
absl::Status CopyNarrowInts(const google::protobuf::RepeatedField<int32_t>& field,
                            absl::string_view prefix, Tensor* tensor) {
  for (int i = 0; i < field.size(); ++i) {
    if (field.Get(i) < std::numeric_limits<T>::min() ||
        field.Get(i) > std::numeric_limits<T>::max()) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "int_val[", i, "] = ", field.Get(i), " is out of range for ",
                       TfDataTypeName(ToTfDataType(tensor->dtype()))));
    }
  }
  CopyValues<T>(field, tensor);
  return absl::OkStatus();
}

// half_val into an f16 or bf16 tensor; each value must be a 16-bit pattern.
absl::Status CopyHalfBits(const google::protobuf::RepeatedField<int32_t>& field,
                          absl::string_view prefix, Tensor* tensor) {
  for (int i = 0; i < field.size(); ++i) {
    if (field.Get(i) < 0 || field.Get(i) > 0xffff) {
      return absl::InvalidArgumentError(absl::StrCat(
          prefix, "half_val[", i, "] = ", field.Get(i), " is not a 16-bit pattern"));
    }
  }
  CopyValues<uint16_t>(field, tensor);
  return absl::OkStatus();
}

absl::Status CopyTypedValues(const tensorflow::TensorProto& proto, absl::string_view prefix,
                             Tensor* tensor) {
  switch (tensor->dtype()) {
    case DataType::kF32: CopyValues<float>(proto.float_val(), tensor); break;
    case DataType::kF64: CopyValues<double>(proto.double_val(), tensor); break;
    case DataType::kF16:
    case DataType::kBF16: return CopyHalfBits(proto.half_val(), prefix, tensor);
    case DataType::kI8: return CopyNarrowInts<int8_t>(proto.int_val(), prefix, tensor);
    case DataType::kU8: return CopyNarrowInts<uint8_t>(proto.int_val(), prefix, tensor);
    case DataType::kI32: CopyValues<int32_t>(proto.int_val(), tensor); break;
    case DataType::kI64: CopyValues<int64_t>(proto.int64_val(), tensor); break;
    case DataType::kBool: CopyValues<bool>(proto.bool_val(), tensor); break;
    case DataType::kInvalid:
      return absl::InternalError(absl::StrCat(prefix, "no dtype"));
  }
  return absl::OkStatus();
}

absl::Status CheckDataType(const tensorflow::TensorProto& proto, const TensorSpec& spec,
                           absl::string_view prefix) {
  const int got = proto.dtype();
  const tensorflow::DataType want = ToTfDataType(spec.dtype);
  if (want == tensorflow::DT_INVALID) {
    return absl::InternalError(absl::StrCat(prefix, "the model's spec has no dtype"));
  }
  if (got == want) return absl::OkStatus();
  if (!tensorflow::DataType_IsValid(got)) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "unknown dtype enum ", got));
  }
  std::string why;
  if (got == tensorflow::DT_INVALID) why = " (unset)";
  return absl::InvalidArgumentError(absl::StrCat(
      prefix, "dtype ", TfDataTypeName(got), why, ", the model expects ", TfDataTypeName(want),
      got == tensorflow::DT_STRING ? "; string tensors are not supported" : ""));
}

absl::StatusOr<Shape> CheckShape(const tensorflow::TensorProto& proto, const TensorSpec& spec,
                                 absl::string_view prefix) {
  const tensorflow::TensorShapeProto& shape_proto = proto.tensor_shape();
  if (shape_proto.unknown_rank()) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "the shape has unknown rank"));
  }
  Shape shape;
  for (int i = 0; i < shape_proto.dim_size(); ++i) {
    const int64_t d = shape_proto.dim(i).size();
    // Checked before the comparison with the spec, where -1 would match the batch dim.
    if (d < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          prefix, "dimension ", i, " is ", d, "; every dimension must be known and >= 0"));
    }
    shape.dims().push_back(d);
  }
  absl::Status valid = ValidateShape(shape);
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat(prefix, valid.message()));
  bool matches = shape.rank() == static_cast<int>(spec.dims.size());
  for (int i = 0; matches && i < shape.rank(); ++i) {
    matches = shape.dim(i) == spec.dims[i] || (i == 0 && spec.batched());
  }
  if (!matches) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "shape ", shape.ToString(),
                                                   ", the model expects ",
                                                   Shape(spec.dims).ToString()));
  }
  return shape;
}

}  // namespace

tensorflow::DataType ToTfDataType(DataType dtype) {
  for (const DataTypePair& pair : kDataTypes) {
    if (pair.kiln == dtype) return pair.tf;
  }
  return tensorflow::DT_INVALID;
}

absl::StatusOr<DataType> FromTfDataType(int tf_dtype) {
  if (!tensorflow::DataType_IsValid(tf_dtype)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown dtype enum ", tf_dtype));
  }
  for (const DataTypePair& pair : kDataTypes) {
    if (pair.tf == tf_dtype) return pair.kiln;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(TfDataTypeName(tf_dtype), " is not supported"));
}

std::string TfDataTypeName(int tf_dtype) {
  if (!tensorflow::DataType_IsValid(tf_dtype)) return absl::StrCat("dtype enum ", tf_dtype);
  return tensorflow::DataType_Name(static_cast<tensorflow::DataType>(tf_dtype));
}

absl::StatusOr<Tensor> TensorFromProto(const tensorflow::TensorProto& proto,
                                       const TensorSpec& spec) {
  const std::string prefix = absl::StrCat("input '", spec.name, "': ");
  RETURN_IF_ERROR(CheckDataType(proto, spec, prefix));
  ASSIGN_OR_RETURN(Shape shape, CheckShape(proto, spec, prefix));
  const DataType dtype = spec.dtype;
  const int64_t num_elements = shape.NumElements();
  const std::string type = absl::StrCat(DataTypeName(dtype), shape.ToString());

  // Counts are checked before allocating, so a wrong request costs no memory.
  const absl::string_view expected_field = TypedFieldFor(dtype);
  int64_t num_values = 0;
  for (const TypedField& field : TypedFields(proto)) {
    if (field.size == 0) continue;
    if (field.name != expected_field) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, TfDataTypeName(proto.dtype()), " values belong in ",
                       expected_field, " or tensor_content, got ", field.name));
    }
    num_values = field.size;
  }
  const std::string& content = proto.tensor_content();
  if (!content.empty()) {
    if (num_values > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          prefix, "both tensor_content and ", expected_field, " are set; send one"));
    }
    const int64_t want_bytes = num_elements * DataTypeSize(dtype);
    if (static_cast<int64_t>(content.size()) != want_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(prefix, "tensor_content has ",
                                                     content.size(), " bytes, ", type,
                                                     " needs ", want_bytes));
    }
  } else if (num_values != num_elements && num_values != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, expected_field, " has ", num_values, " values, ", type, " needs ",
        num_elements, num_elements > 1 ? " (or 1 to fill the shape)" : ""));
  }

  ASSIGN_OR_RETURN(Tensor tensor, Tensor::Allocate(dtype, shape));
  if (content.empty()) {
    RETURN_IF_ERROR(CopyTypedValues(proto, prefix, &tensor));
    return tensor;
  }
  if (dtype == DataType::kBool) {
    // Any other byte would be an invalid bool in C++ (undefined behaviour to read).
    for (size_t i = 0; i < content.size(); ++i) {
      const uint8_t byte = static_cast<uint8_t>(content[i]);
      if (byte > 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            prefix, "tensor_content byte ", i, " is ", byte, ", not a bool (0 or 1)"));
      }
    }
  }
  std::memcpy(tensor.raw_data(), content.data(), content.size());
  return tensor;
}

void TensorToProto(const Tensor& tensor, tensorflow::TensorProto* proto) {
  proto->Clear();
  proto->set_dtype(ToTfDataType(tensor.dtype()));
  if (!tensor.valid()) return;
  tensorflow::TensorShapeProto* shape = proto->mutable_tensor_shape();
  for (int64_t d : tensor.shape().dims()) shape->add_dim()->set_size(d);
  if (tensor.ByteSize() > 0) {
    proto->set_tensor_content(tensor.raw_data(), static_cast<size_t>(tensor.ByteSize()));
  }
}

}  // namespace kiln::serve
