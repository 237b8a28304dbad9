// The type of a tensor (element type and shape) and a reference to a tensor by its
// producer: the vocabulary the graph, the memory plan and the runtime core share.
#ifndef KILN_BASE_TENSOR_TYPE_H_
#define KILN_BASE_TENSOR_TYPE_H_

#include <string>

#include "base/dtype.h"
#include "base/shape.h"

namespace kiln {

// Output `output` of node `node` (an index into Graph::nodes()).
struct TensorRef {
  int node = -1;
  int output = 0;
  bool operator==(const TensorRef& o) const { return node == o.node && output == o.output; }
  bool operator!=(const TensorRef& o) const { return !(*this == o); }
};

struct TensorType {
  DataType dtype = DataType::kInvalid;
  Shape shape;
  bool operator==(const TensorType& o) const { return dtype == o.dtype && shape == o.shape; }
  std::string ToString() const;  // "f32[2,3]"
};

}  // namespace kiln

#endif  // KILN_BASE_TENSOR_TYPE_H_
