#include "python/src/dtypes.h"

namespace kiln::python {
namespace py = pybind11;
namespace {

// NumPy's type numbers (numpy/ndarraytypes.h), stable across NumPy 1.x and 2.x. Only the
// type number, kind and byte order of a descriptor are read: their offsets are the same
// in both, unlike the element size's.
constexpr int kNpyBool = 0;
constexpr int kNpyInt8 = 1;
constexpr int kNpyUint8 = 2;
constexpr int kNpyUint16 = 4;
constexpr int kNpyInt32 = 5;
constexpr int kNpyLong = 7;
constexpr int kNpyLongLong = 9;
constexpr int kNpyFloat32 = 11;
constexpr int kNpyFloat64 = 12;
constexpr int kNpyFloat16 = 23;
// int64 is `long` on the LP64 platforms Kiln builds for; `long long` is the same size.
static_assert(sizeof(long) == 8 && sizeof(long long) == 8, "int64 must be long and long long");

int NumpyTypeNumber(DataType dtype) {
  switch (dtype) {
    case DataType::kF32:
      return kNpyFloat32;
    case DataType::kF16:
      return kNpyFloat16;
    case DataType::kBF16:
      return kNpyUint16;
    case DataType::kF64:
      return kNpyFloat64;
    case DataType::kI8:
      return kNpyInt8;
    case DataType::kI32:
      return kNpyInt32;
    case DataType::kI64:
      return kNpyLong;
    case DataType::kBool:
      return kNpyBool;
    case DataType::kU8:
      return kNpyUint8;
    case DataType::kInvalid:
      break;
  }
  return -1;
}

}  // namespace

py::dtype NumpyDtype(DataType dtype) {
  int number = NumpyTypeNumber(dtype);
  if (number < 0) throw std::invalid_argument("a tensor of an invalid dtype");
  return py::dtype(number);
}

bool IsExchangeDtype(const py::dtype& dtype, DataType declared) {
  if (dtype.byteorder() == '>') return false;  // x86-64 and AArch64 are little-endian
  int number = dtype.num();
  if (declared == DataType::kI64) return number == kNpyLong || number == kNpyLongLong;
  return number == NumpyTypeNumber(declared);
}

}  // namespace kiln::python
