// Tensors on the command line: random feeds, one-line summaries and output file names,
// shared by `kiln run` and the runtime-core runner (so neither needs the other's
// dependencies).
#ifndef KILN_TOOLS_CLI_TENSORS_H_
#define KILN_TOOLS_CLI_TENSORS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
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

// Feeds on the command line: `--input NAME=FILE.npy` or `--input NAME=random`.
struct InputSpec {
  std::string name;
  std::string source;  // a .npy path, or "random"
};

// Parses --input flags. InvalidArgument (a usage error) for a flag that is not
// NAME=SOURCE ("--input 'x' is not NAME=FILE.npy or NAME=random") or a name given twice.
absl::StatusOr<std::vector<InputSpec>> ParseInputSpecs(absl::Span<const std::string> flags);

// InvalidArgument naming the first spec that is none of `names`, the inputs of `owner`
// ("--input 'z': the graph has no input of that name (its inputs: x)").
absl::Status CheckInputNames(absl::Span<const InputSpec> specs,
                             absl::Span<const std::string> names, absl::string_view owner);

// The spec of input `name`, or null.
const InputSpec* FindInputSpec(absl::Span<const InputSpec> specs, absl::string_view name);

// The feed `spec` asks for: random values of `dtype` and `shape` (its -1 dimensions set to
// `batch`) from `seed`, or the .npy file's tensor. Errors name the input or the file.
absl::StatusOr<Tensor> LoadInput(const InputSpec& spec, DataType dtype, Shape shape,
                                 int64_t batch, uint64_t seed);

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_TENSORS_H_
