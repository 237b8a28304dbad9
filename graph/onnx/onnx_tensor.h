// Conversion of ONNX TensorProto values (inline, typed-field or external data) to Kiln
// tensors, and of ONNX element types to Kiln dtypes.
#ifndef KILN_GRAPH_ONNX_ONNX_TENSOR_H_
#define KILN_GRAPH_ONNX_ONNX_TENSOR_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/dtype.h"
#include "base/tensor.h"
#include "onnx/onnx-ml.pb.h"

namespace kiln {

// The Kiln dtype of ONNX element type `elem_type` (TensorProto::DataType). Types Kiln has
// no equivalent for (strings, complex, int16, unsigned beyond u8, float8) are
// UnimplementedError naming the ONNX type; values outside the enum are InvalidArgument.
absl::StatusOr<DataType> DataTypeFromOnnx(int elem_type);
// The ONNX element type of a Kiln dtype.
int OnnxElemType(DataType dtype);
// ONNX's name of an element type ("FLOAT", "INT64", "STRING"), or "type N" when unknown.
std::string OnnxElemTypeName(int elem_type);

// Reads `proto` into an owned tensor. Data comes from raw_data, from the typed field that
// ONNX uses for the type (float_data, int32_data, int64_data, double_data, uint64_data), or
// from an external file named by external_data "location" (with optional "offset" and
// "length"), resolved against `external_data_dir`. Locations must stay inside that directory:
// absolute paths, ".." components and symbolic links leading out are rejected. An empty
// `external_data_dir` makes external data an error. The element count must match the
// dims exactly and stay within kMaxElements. `what` names the tensor in errors.
absl::StatusOr<Tensor> TensorFromOnnx(const onnx::TensorProto& proto,
                                      const std::string& external_data_dir,
                                      absl::string_view what);

// A TensorProto with dims, data type and raw little-endian data (for tests and tools).
onnx::TensorProto TensorToOnnx(const Tensor& tensor, absl::string_view name = "");

}  // namespace kiln

#endif  // KILN_GRAPH_ONNX_ONNX_TENSOR_H_
