#include "base/shape.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln {

bool Shape::IsFullyKnown() const {
  for (int64_t d : dims_) {
    if (d < 0) return false;
  }
  return true;
}

int64_t Shape::NumElements() const {
  int64_t n = 1;
  for (int64_t d : dims_) n *= d;
  return n;
}

std::string Shape::ToString() const { return absl::StrCat("[", absl::StrJoin(dims_, ","), "]"); }

absl::Status ValidateShape(const Shape& shape) {
  // The product of the non-zero dimensions is bounded too, whatever zeros the shape has,
  // so strides and byte offsets never overflow (shape_test pins [0, 2^30, 2^30]).
  int64_t product = 1;
  for (int i = 0; i < shape.rank(); ++i) {
    int64_t d = shape.dim(i);
    if (d < kUnknownDim) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", shape.ToString(), ": dimension ", i, " is negative"));
    }
    if (d <= 0) continue;
    if (d > kMaxElements / product) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", shape.ToString(), ": element count exceeds 2^40"));
    }
    product *= d;
  }
  return absl::OkStatus();
}

absl::StatusOr<Shape> BroadcastShapes(const Shape& a, const Shape& b) {
  int rank = std::max(a.rank(), b.rank());
  std::vector<int64_t> dims(rank);
  for (int i = 0; i < rank; ++i) {
    int ia = a.rank() - rank + i;
    int ib = b.rank() - rank + i;
    int64_t da = ia >= 0 ? a.dim(ia) : 1;
    int64_t db = ib >= 0 ? b.dim(ib) : 1;
    if (da == db) {
      dims[i] = da;
    } else if (da == 1) {
      dims[i] = db;
    } else if (db == 1) {
      dims[i] = da;
    } else if (da == kUnknownDim) {
      dims[i] = db;
    } else if (db == kUnknownDim) {
      dims[i] = da;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("shapes ", a.ToString(), " and ",
                                                     b.ToString(), " do not broadcast"));
    }
  }
  return Shape(std::move(dims));
}

std::vector<int64_t> RowMajorStrides(const Shape& shape) {
  std::vector<int64_t> strides(shape.rank());
  int64_t s = 1;
  for (int i = shape.rank() - 1; i >= 0; --i) {
    strides[i] = s;
    s *= shape.dim(i);
  }
  return strides;
}

absl::StatusOr<int> NormalizeAxis(int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) {
    return absl::InvalidArgumentError(
        absl::StrCat("axis ", axis, " is out of range for rank ", rank));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

}  // namespace kiln
