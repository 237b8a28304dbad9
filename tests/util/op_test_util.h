// Running one op in isolation for op tests: shape inference plus the reference kernel.
#ifndef KILN_TESTS_UTIL_OP_TEST_UTIL_H_
#define KILN_TESTS_UTIL_OP_TEST_UTIL_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/attr.h"
#include "graph/graph.h"
#include "base/tensor.h"

namespace kiln::testing {

// Infers the output types of one `op` node whose inputs have `inputs` types.
// Errors are those of shape inference ("node 'op' (Op): ...").
absl::StatusOr<std::vector<TensorType>> InferSingleOp(absl::string_view op,
                                                      const std::vector<TensorType>& inputs,
                                                      AttrMap attrs = {});

// Runs one `op` node on `inputs` with the reference kernel; returns its outputs.
absl::StatusOr<std::vector<Tensor>> RunSingleOp(absl::string_view op,
                                                const std::vector<Tensor>& inputs,
                                                AttrMap attrs = {});

// A tensor of `dtype` and `shape` holding `values` (converted from double).
Tensor MakeTensor(DataType dtype, const Shape& shape, const std::vector<double>& values);

// All elements as doubles, row-major.
std::vector<double> Values(const Tensor& tensor);

// Deterministic pseudo-random tensor with values uniform in [lo, hi).
Tensor RandomTensor(DataType dtype, const Shape& shape, uint64_t seed, double lo = -1.0,
                    double hi = 1.0);

// Expects `tensor` to have `shape` and elements within `tol` of `want`; NaN matches NaN
// and infinities must match exactly. The StatusOr form also expects success.
void ExpectValues(const Tensor& tensor, const Shape& shape, const std::vector<double>& want,
                  double tol = 0);
void ExpectValues(const absl::StatusOr<Tensor>& tensor, const Shape& shape,
                  const std::vector<double>& want, double tol = 0);

// Expects an InvalidArgument error whose message contains `substring`.
void ExpectInvalid(const absl::Status& status, absl::string_view substring);
template <typename T>
void ExpectInvalid(const absl::StatusOr<T>& result, absl::string_view substring) {
  ExpectInvalid(result.status(), substring);
}

// Transposes `tensor`: output dimension i is input dimension perm[i] (any rank).
Tensor Permute(const Tensor& tensor, const std::vector<int>& perm);

}  // namespace kiln::testing

// EXPECT that `tensor` has `shape` and elements within `tol` of `expected`.
#define EXPECT_TENSOR_NEAR(tensor, shape_, expected, tol)                          \
  do {                                                                             \
    const ::kiln::Tensor kiln_t_ = (tensor); /* a copy: shares storage, outlives temporaries */ \
    EXPECT_EQ(kiln_t_.shape(), (shape_));                                          \
    std::vector<double> kiln_want_ = (expected);                                   \
    std::vector<double> kiln_got_ = ::kiln::testing::Values(kiln_t_);              \
    ASSERT_EQ(kiln_got_.size(), kiln_want_.size());                                \
    for (size_t kiln_i_ = 0; kiln_i_ < kiln_got_.size(); ++kiln_i_) {              \
      EXPECT_NEAR(kiln_got_[kiln_i_], kiln_want_[kiln_i_], (tol)) << "element " << kiln_i_; \
    }                                                                              \
  } while (0)

#endif  // KILN_TESTS_UTIL_OP_TEST_UTIL_H_
