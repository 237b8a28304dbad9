// Tensors on the command line: random feeds, one-line summaries and output file names,
// shared by `kiln run` and the runtime-core runner (so neither needs the other's
// dependencies).
#ifndef KILN_TOOLS_CLI_TENSORS_H_
#define KILN_TOOLS_CLI_TENSORS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/tensor.h"

namespace kiln::cli {

// A random feed for the input `name`: floating types from a standard normal
// distribution (rounded to the dtype), integers uniform in [0, 9], bools 0 or 1 with equal
// odds. The values depend only on (seed, name, dtype, shape), so they do not change with
// the order of --input flags, and the generator (mt19937_64 with Box-Muller) is fully
// specified, so they are the same on every platform. Error when `shape` is not fully
// known or too large.
absl::StatusOr<Tensor> RandomTensor(DataType dtype, const Shape& shape, uint64_t seed,
                                     absl::string_view name);

// One line describing an output:
//   "NAME DTYPE[SHAPE] min=MIN max=MAX mean=MEAN values=[V0, V1, ...]"
// with the first 6 values and ", ..." when there are more. Floats print with %.6g;
// integer and bool min, max and values print exactly. min, max and mean are "nan" when
// any value is NaN (as NumPy's), and "-" for an empty tensor.
std::string SummarizeTensor(absl::string_view name, const Tensor& tensor);

// The file an output named `name` is written to inside the output directory: the name
// with every character outside [A-Za-z0-9_.-] replaced by '_', plus ".npy".
std::string OutputFileName(absl::string_view name);

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_TENSORS_H_
