// OpenRunner for libkiln_runtime: compiled artifacts on the runtime core alone; any other
// file is refused with a message saying how to get one, since this library links no
// compiler (//tests/runtime:core_deps_test keeps it so).
#include <fstream>

#include "absl/strings/str_cat.h"
#include "kiln/open_runner.h"
#include "runtime/artifact.h"

namespace kiln {
namespace capi {

absl::StatusOr<std::unique_ptr<ModelRunner>> OpenRunner(const std::string& path,
                                                        const RunnerOptions& options) {
  // A file that cannot be opened goes to OpenArtifactRunner, whose NotFound names it.
  if (!IsArtifactFile(path) && std::ifstream(path, std::ios::binary).is_open()) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", path,
                     "' is not a compiled artifact; this library (libkiln_runtime) runs .kiln "
                     "files only: compile it with `kiln compile` or link libkiln"));
  }
  return OpenArtifactRunner(path, options);
}

}  // namespace capi
}  // namespace kiln
