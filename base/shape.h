// Tensor shapes: a list of dimensions, where -1 marks a dimension bound at run time.
#ifndef KILN_BASE_SHAPE_H_
#define KILN_BASE_SHAPE_H_

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace kiln {

// Largest element count Kiln accepts for one tensor (2^40): keeps every byte size and
// every index product far from int64 overflow.
inline constexpr int64_t kMaxElements = int64_t{1} << 40;
inline constexpr int64_t kUnknownDim = -1;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}
  explicit Shape(absl::Span<const int64_t> dims) : dims_(dims.begin(), dims.end()) {}

  int rank() const { return static_cast<int>(dims_.size()); }
  int64_t dim(int i) const { return dims_[i]; }
  int64_t& dim(int i) { return dims_[i]; }
  const std::vector<int64_t>& dims() const { return dims_; }
  std::vector<int64_t>& dims() { return dims_; }

  // True when no dimension is -1.
  bool IsFullyKnown() const;
  // Product of the dimensions (1 for a scalar). Requires IsFullyKnown() and a valid shape.
  int64_t NumElements() const;

  // "[2,3,-1]"; scalars print "[]".
  std::string ToString() const;

  bool operator==(const Shape& other) const { return dims_ == other.dims_; }
  bool operator!=(const Shape& other) const { return dims_ != other.dims_; }

 private:
  std::vector<int64_t> dims_;
};

// Printing for GoogleTest and logs ("[2,3]").
inline std::ostream& operator<<(std::ostream& os, const Shape& shape) {
  return os << shape.ToString();
}

// Checks that every dimension is >= 0 or -1 and that the known product stays within
// kMaxElements; the error text names the offending dimension.
absl::Status ValidateShape(const Shape& shape);

// NumPy broadcasting of two shapes; unknown (-1) dims broadcast against 1 and match
// any size. Error when sizes differ and neither is 1.
absl::StatusOr<Shape> BroadcastShapes(const Shape& a, const Shape& b);

// Row-major strides (in elements) of a fully known shape.
std::vector<int64_t> RowMajorStrides(const Shape& shape);

// Normalizes an axis in [-rank, rank) to [0, rank), or an error naming it.
absl::StatusOr<int> NormalizeAxis(int64_t axis, int rank);

}  // namespace kiln

#endif  // KILN_BASE_SHAPE_H_
