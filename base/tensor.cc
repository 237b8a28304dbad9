#include "base/tensor.h"

#include <cstdlib>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "base/half.h"

namespace kiln {
namespace {

std::shared_ptr<void> AllocateAligned(int64_t bytes) {
  // aligned_alloc needs a size that is a multiple of the alignment, and non-zero.
  size_t size = static_cast<size_t>((bytes + 63) / 64 * 64);
  if (size == 0) size = 64;
  void* p = std::aligned_alloc(64, size);
  if (p == nullptr) return nullptr;
  std::memset(p, 0, size);
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

template <typename T>
Tensor FromValues(DataType dtype, const Shape& shape, absl::Span<const T> values) {
  Tensor t = Tensor::Allocate(dtype, shape).value();
  for (int64_t i = 0; i < t.NumElements() && i < static_cast<int64_t>(values.size()); ++i) {
    t.data<T>()[i] = values[i];
  }
  return t;
}

}  // namespace

absl::StatusOr<Tensor> Tensor::Allocate(DataType dtype, const Shape& shape) {
  if (DataTypeSize(dtype) == 0) return absl::InvalidArgumentError("cannot allocate dtype invalid");
  if (!shape.IsFullyKnown()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot allocate a tensor of unknown shape ", shape.ToString()));
  }
  absl::Status valid = ValidateShape(shape);
  if (!valid.ok()) return valid;
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.storage_ = AllocateAligned(t.ByteSize());
  if (t.storage_ == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("out of memory allocating ", t.ByteSize(), " bytes"));
  }
  t.data_ = t.storage_.get();
  return t;
}

Tensor Tensor::Borrow(DataType dtype, const Shape& shape, void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.data_ = data;
  return t;
}

absl::StatusOr<Tensor> Tensor::FromBytes(DataType dtype, const Shape& shape,
                                         absl::Span<const uint8_t> bytes) {
  absl::StatusOr<Tensor> t = Allocate(dtype, shape);
  if (!t.ok()) return t.status();
  if (static_cast<int64_t>(bytes.size()) != t->ByteSize()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", t->TypeString(), " needs ",
                                                   t->ByteSize(), " bytes, got ",
                                                   bytes.size()));
  }
  if (!bytes.empty()) std::memcpy(t->raw_data(), bytes.data(), bytes.size());
  return t;
}

Tensor Tensor::F32(const Shape& shape, absl::Span<const float> values) {
  return FromValues<float>(DataType::kF32, shape, values);
}
Tensor Tensor::I64(const Shape& shape, absl::Span<const int64_t> values) {
  return FromValues<int64_t>(DataType::kI64, shape, values);
}
Tensor Tensor::I32(const Shape& shape, absl::Span<const int32_t> values) {
  return FromValues<int32_t>(DataType::kI32, shape, values);
}
Tensor Tensor::Bool(const Shape& shape, absl::Span<const bool> values) {
  return FromValues<bool>(DataType::kBool, shape, values);
}

double Tensor::GetAsDouble(int64_t i) const {
  switch (dtype_) {
    case DataType::kF32: return data<float>()[i];
    case DataType::kF64: return data<double>()[i];
    case DataType::kF16: return HalfToFloat(data<Half>()[i]);
    case DataType::kBF16: return BFloat16ToFloat(data<BFloat16>()[i]);
    case DataType::kI8: return data<int8_t>()[i];
    case DataType::kU8: return data<uint8_t>()[i];
    case DataType::kI32: return data<int32_t>()[i];
    case DataType::kI64: return static_cast<double>(data<int64_t>()[i]);
    case DataType::kBool: return data<uint8_t>()[i] != 0 ? 1.0 : 0.0;
    case DataType::kInvalid: break;
  }
  return 0.0;
}

namespace {
// Float-to-integer conversion that saturates instead of invoking undefined behaviour.
template <typename T>
T SaturatingCast(double v) {
  if (v != v) return 0;
  if (v <= static_cast<double>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
  if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return static_cast<T>(v);
}
}  // namespace

void Tensor::SetFromDouble(int64_t i, double value) {
  switch (dtype_) {
    case DataType::kF32: data<float>()[i] = static_cast<float>(value); return;
    case DataType::kF64: data<double>()[i] = value; return;
    case DataType::kF16: data<Half>()[i] = FloatToHalf(static_cast<float>(value)); return;
    case DataType::kBF16: data<BFloat16>()[i] = FloatToBFloat16(static_cast<float>(value)); return;
    case DataType::kI8: data<int8_t>()[i] = SaturatingCast<int8_t>(value); return;
    case DataType::kU8: data<uint8_t>()[i] = SaturatingCast<uint8_t>(value); return;
    case DataType::kI32: data<int32_t>()[i] = SaturatingCast<int32_t>(value); return;
    case DataType::kI64: data<int64_t>()[i] = SaturatingCast<int64_t>(value); return;
    case DataType::kBool: data<uint8_t>()[i] = value != 0.0 ? 1 : 0; return;
    case DataType::kInvalid: return;
  }
}

int64_t Tensor::GetAsInt64(int64_t i) const {
  switch (dtype_) {
    case DataType::kI8: return data<int8_t>()[i];
    case DataType::kU8: return data<uint8_t>()[i];
    case DataType::kI32: return data<int32_t>()[i];
    case DataType::kI64: return data<int64_t>()[i];
    case DataType::kBool: return data<uint8_t>()[i] != 0 ? 1 : 0;
    default: return SaturatingCast<int64_t>(GetAsDouble(i));
  }
}

void Tensor::SetFromInt64(int64_t i, int64_t value) {
  switch (dtype_) {
    case DataType::kI8: data<int8_t>()[i] = static_cast<int8_t>(value); return;
    case DataType::kU8: data<uint8_t>()[i] = static_cast<uint8_t>(value); return;
    case DataType::kI32: data<int32_t>()[i] = static_cast<int32_t>(value); return;
    case DataType::kI64: data<int64_t>()[i] = value; return;
    case DataType::kBool: data<uint8_t>()[i] = value != 0 ? 1 : 0; return;
    default: SetFromDouble(i, static_cast<double>(value)); return;
  }
}

Tensor Tensor::Clone() const {
  if (!valid()) return Tensor();
  Tensor t = Allocate(dtype_, shape_).value();
  if (ByteSize() > 0) std::memcpy(t.raw_data(), data_, ByteSize());
  return t;
}

std::string Tensor::TypeString() const {
  return absl::StrCat(DataTypeName(dtype_), shape_.ToString());
}

}  // namespace kiln
