// `kiln run`: feeding a graph from .npy files or random values, running it in a Session,
// and saving and summarizing its outputs (the tensor helpers are in tools/cli/tensors.h).
#ifndef KILN_TOOLS_CLI_RUN_H_
#define KILN_TOOLS_CLI_RUN_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/tensor.h"
#include "tools/cli/tensors.h"

namespace kiln::cli {

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_RUN_H_
