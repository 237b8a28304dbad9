// Reading and writing NumPy .npy files, the exchange format of `kiln run` for feeds and
// fetched outputs.
#ifndef KILN_TOOLS_NPY_H_
#define KILN_TOOLS_NPY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/tensor.h"

namespace kiln {

// Supported element types, as NumPy `descr` strings:
//   '<f4' f32   '<f8' f64   '<f2' f16   '<i4' i32   '<i8' i64
//   '|i1' i8    '|u1' u8    '|b1' bool
// One-byte types are also accepted with '<', '>' or '=' as byte order (NumPy writes '|').
// There is no NumPy bfloat16, so bf16 tensors are written as '<f4': the widening is
// exact, and reading such a file gives an f32 tensor.
//
// Reading accepts format versions 1.0, 2.0 and 3.0 and C-order arrays only. It rejects,
// with an InvalidArgument error saying why: a missing magic string, other versions,
// truncated headers or headers over 1 MiB, header dicts that are not exactly {'descr',
// 'fortran_order', 'shape'} with a string, a bool and a tuple of non-negative integers,
// Fortran order, big-endian, structured or unsupported dtypes, shapes of more than 64
// dimensions or 2^40 elements, and data shorter or longer than the shape needs. Bool
// bytes other than 0 and 1 read as true (stored as 1). Never crashes on arbitrary bytes.
// All functions are thread-safe.

// Parses the bytes of an .npy file into an owned tensor.
absl::StatusOr<Tensor> ParseNpy(absl::string_view bytes);

// The .npy bytes of `tensor`: a version 1.0 header (2.0 if the header would not fit),
// padded so the data starts at a multiple of 64 bytes, then the row-major data.
// Error for an invalid tensor.
absl::StatusOr<std::string> SerializeNpy(const Tensor& tensor);

// ParseNpy on the contents of `path`; every error message starts with the path. Reads
// the header first and then only the data it announces, so a wrong large file fails fast.
absl::StatusOr<Tensor> ReadNpy(const std::string& path);

// Writes SerializeNpy(tensor) to `path` (created or truncated); errors name the path.
absl::Status WriteNpy(const Tensor& tensor, const std::string& path);

}  // namespace kiln

#endif  // KILN_TOOLS_NPY_H_
