// The scalar lowering of each elementwise op: the arith/math operations one element of the
// op's output is computed with, written as MLIR text into a linalg.generic payload. One
// explicit table (scalar_ops.cc) is the list of ops generated loop kernels support.
#ifndef KILN_KERNELS_CODEGEN_SCALAR_OPS_H_
#define KILN_KERNELS_CODEGEN_SCALAR_OPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/dtype.h"
#include "graph/graph.h"

namespace kiln::codegen {

// Appends scalar MLIR operations of one element type to a payload block and names their
// results %s0, %s1, ... Not thread-safe; one per generated kernel.
class ScalarBuilder {
 public:
  explicit ScalarBuilder(std::string element_type) : type_(std::move(element_type)) {}

  // The element type ("f32").
  const std::string& type() const { return type_; }
  // Appends "%sN = OP ARGS : TYPE" and returns "%sN" ("arith.addf", {"%a", "%b"}); with
  // `attributes`, "%sN = OP ARGS ATTRIBUTES : TYPE" ("fastmath<contract>").
  std::string Op(absl::string_view op, absl::Span<const std::string> args,
                 absl::string_view attributes = "");
  // Appends a comparison "arith.cmpf PREDICATE" and returns its i1 result.
  std::string Compare(absl::string_view predicate, const std::string& a, const std::string& b);
  // Appends arith.select and returns its result.
  std::string Select(const std::string& condition, const std::string& a, const std::string& b);
  // A constant of the element type, exact (written as its bit pattern).
  std::string Constant(double value);
  // Appends "%sN = TEXT" for an operation of another type ("arith.shli %a, %b : i32").
  std::string Raw(absl::string_view text);
  // An i32 constant.
  std::string I32(int32_t value);

  // The lines appended so far, and clearing them for the next payload.
  const std::string& text() const { return text_; }
  void ClearText() { text_.clear(); }

 private:
  std::string Fresh();

  std::string type_;
  std::string text_;
  int next_ = 0;
};

// True when generated loop kernels can compute `node` in element type `dtype`: f32, every
// op in the table; f64, the arithmetic ops (no math function: those are f32 polynomials);
// i32 and i64, Add, Sub, Mul, Neg, Abs, Maximum, Minimum, Relu and Identity (wrapping).
bool HasScalarLowering(const Node& node, DataType dtype);

// Emits the scalar computation of `node` on its operands' element values `args` (in input
// order) and returns the SSA name of the result. kUnimplemented naming the node when the
// op has no lowering; InvalidArgument for an attribute value the op does not take.
absl::StatusOr<std::string> EmitScalarOp(ScalarBuilder& builder, const Node& node,
                                         absl::Span<const std::string> args);

// The ops in the table, sorted (docs and tests list them).
std::vector<std::string> ScalarLoweringOps();

}  // namespace kiln::codegen

#endif  // KILN_KERNELS_CODEGEN_SCALAR_OPS_H_
