// OpenRunner for libkiln: any model file Kiln accepts, through OpenModelRunner.
#include "kiln/open_runner.h"
#include "runtime/open_model.h"

namespace kiln {
namespace capi {

absl::StatusOr<std::unique_ptr<ModelRunner>> OpenRunner(const std::string& path,
                                                        const RunnerOptions& options) {
  return OpenModelRunner(path, options);
}

}  // namespace capi
}  // namespace kiln
