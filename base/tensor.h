// A dense tensor value: dtype, fully known shape and row-major bytes, owned or borrowed.
#ifndef KILN_BASE_TENSOR_H_
#define KILN_BASE_TENSOR_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/dtype.h"
#include "base/shape.h"

namespace kiln {

// Copies share storage (like a shared_ptr). Owned storage is 64-byte aligned.
// Not thread-safe for concurrent writes to the same storage.
class Tensor {
 public:
  Tensor() = default;

  // Zero-filled owned tensor. Error when the shape is not fully known or too large.
  static absl::StatusOr<Tensor> Allocate(DataType dtype, const Shape& shape);
  // Tensor over caller memory; the caller keeps `data` alive and sized for the shape.
  static Tensor Borrow(DataType dtype, const Shape& shape, void* data);
  // Owned copy of `bytes`; error when the length does not match dtype and shape.
  static absl::StatusOr<Tensor> FromBytes(DataType dtype, const Shape& shape,
                                          absl::Span<const uint8_t> bytes);
  // Convenience constructors for tests and examples.
  static Tensor F32(const Shape& shape, absl::Span<const float> values);
  static Tensor I64(const Shape& shape, absl::Span<const int64_t> values);
  static Tensor I32(const Shape& shape, absl::Span<const int32_t> values);
  static Tensor Bool(const Shape& shape, absl::Span<const bool> values);
  static Tensor ScalarF32(float value) { return F32(Shape{}, {value}); }

  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t NumElements() const { return shape_.NumElements(); }
  int64_t ByteSize() const { return NumElements() * DataTypeSize(dtype_); }
  bool valid() const { return dtype_ != DataType::kInvalid; }

  void* raw_data() { return data_; }
  const void* raw_data() const { return data_; }
  template <typename T>
  T* data() { return static_cast<T*>(data_); }
  template <typename T>
  const T* data() const { return static_cast<const T*>(data_); }
  absl::Span<const uint8_t> bytes() const {
    return {static_cast<const uint8_t*>(data_), static_cast<size_t>(ByteSize())};
  }

  // Element i converted to double (any dtype); for tests, summaries and the interpreter.
  double GetAsDouble(int64_t i) const;
  // Stores `value` into element i, converted (and rounded) to the tensor's dtype.
  void SetFromDouble(int64_t i, double value);
  // Element i of an integer or bool tensor as int64 (exact, unlike GetAsDouble).
  int64_t GetAsInt64(int64_t i) const;
  void SetFromInt64(int64_t i, int64_t value);

  // Deep copy into owned storage.
  Tensor Clone() const;

  // "f32[2,3]"
  std::string TypeString() const;

 private:
  DataType dtype_ = DataType::kInvalid;
  Shape shape_;
  std::shared_ptr<void> storage_;  // null when borrowed
  void* data_ = nullptr;
};

}  // namespace kiln

#endif  // KILN_BASE_TENSOR_H_
