// Converts between TensorFlow's TensorProto (the tensors of TF Serving's gRPC Predict) and
// Kiln tensors, checking a request's tensors against what the served model expects.
#ifndef KILN_TOOLS_SERVE_TENSOR_PROTO_CODEC_H_
#define KILN_TOOLS_SERVE_TENSOR_PROTO_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "base/dtype.h"
#include "base/tensor.h"
#include "proto/tensorflow/core/framework/tensor.pb.h"
#include "proto/tensorflow/core/framework/types.pb.h"
#include "tools/serve/tensor_spec.h"

namespace kiln::serve {

// Decodes the request tensor `proto` for the model input `spec` into an owned tensor.
//
// The dtype must equal spec.dtype (no conversions), and the shape spec.dims, except that
// a batched spec's dims[0] (-1) takes any size >= 0. The elements come from
// tensor_content (raw little-endian bytes, exactly the element count times the element
// size) when it is set, else from the typed field TensorFlow assigns the dtype:
// float_val (f32), double_val (f64), half_val (f16, bf16: the 16-bit patterns), int_val
// (i32, i8, u8; values must fit), int64_val (i64), bool_val (bool). The typed field holds
// one value per element, or a single value that fills the whole shape (TensorFlow's
// version-0 rule, what tf.make_tensor_proto writes for a constant). Stricter than
// TensorFlow, which silently zero-fills, truncates or repeats the last value: any other
// count, values in a field the dtype does not use, and bool bytes other than 0 and 1 in
// tensor_content are errors. version_number and dimension names are ignored.
//
// Errors are InvalidArgument and name the input: "input 'x': dtype DT_INT32, the model
// expects DT_FLOAT"; also for a dtype value TensorFlow does not define, a dtype Kiln has
// no counterpart of (DT_STRING, DT_INT16, ...), an unknown rank, a negative dimension, a
// shape over 2^40 elements, and a wrong byte or value count. ResourceExhausted when the
// tensor cannot be allocated. A single fill value makes a tensor of any size the spec
// allows from a few bytes, so a server bounds the batch dimension before calling this.
// Thread-safe.
absl::StatusOr<Tensor> TensorFromProto(const tensorflow::TensorProto& proto,
                                       const TensorSpec& spec);

// Replaces `*proto` with `tensor`: its dtype, shape and elements as tensor_content (the
// representation TensorFlow reads fastest, and the one tf.make_tensor_proto writes for
// arrays). A default-constructed (invalid) tensor gives an empty DT_INVALID proto.
void TensorToProto(const Tensor& tensor, tensorflow::TensorProto* proto);

// TensorFlow's enum value for a Kiln dtype; DT_INVALID for kInvalid.
tensorflow::DataType ToTfDataType(DataType dtype);

// The Kiln dtype of a TensorFlow dtype value. InvalidArgument for a value TensorFlow does
// not define ("unknown dtype enum 77") and for a dtype Kiln has no counterpart of
// ("DT_STRING is not supported"), including DT_INVALID.
absl::StatusOr<DataType> FromTfDataType(int tf_dtype);

// "DT_FLOAT", or "dtype enum 77" for a value TensorFlow does not define.
std::string TfDataTypeName(int tf_dtype);

}  // namespace kiln::serve

#endif  // KILN_TOOLS_SERVE_TENSOR_PROTO_CODEC_H_
