// The one function the C API (kiln/c_api.cc) opens model files with. Two definitions, one
// per library: open_runner_full.cc (libkiln: artifacts, graphs and ONNX models) and
// open_runner_runtime.cc (libkiln_runtime: artifacts only, on the runtime core alone).
#ifndef KILN_KILN_OPEN_RUNNER_H_
#define KILN_KILN_OPEN_RUNNER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/model_runner.h"

namespace kiln {
namespace capi {

// Opens the model at `path` with `options`. Errors name the path: those of
// OpenModelRunner (full) or OpenArtifactRunner (runtime); the runtime definition answers
// FailedPrecondition for a file that is not a compiled artifact, NotFound for a missing
// one.
absl::StatusOr<std::unique_ptr<ModelRunner>> OpenRunner(const std::string& path,
                                                        const RunnerOptions& options);

}  // namespace capi
}  // namespace kiln

#endif  // KILN_KILN_OPEN_RUNNER_H_
