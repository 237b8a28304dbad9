// What a served model's inputs and outputs look like to the request codecs (REST JSON,
// gRPC TensorProto): a name, an element type and dimensions, where -1 marks the batch
// dimension (the first) of a model whose artifact was compiled for several batch sizes.
#ifndef KILN_TOOLS_SERVE_TENSOR_SPEC_H_
#define KILN_TOOLS_SERVE_TENSOR_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/dtype.h"

namespace kiln::serve {

struct TensorSpec {
  std::string name;
  DataType dtype = DataType::kInvalid;
  // Every dimension known, except dims[0] == -1 for a batched model.
  std::vector<int64_t> dims;

  bool batched() const { return !dims.empty() && dims[0] == -1; }
};

}  // namespace kiln::serve

#endif  // KILN_TOOLS_SERVE_TENSOR_SPEC_H_
