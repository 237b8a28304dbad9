// Opening any model file Kiln accepts as a ModelRunner
// (runtime/model_runner.h): a compiled artifact runs on the runtime core; a
// GraphDef, kgraph or ONNX model is imported and run by a Session, which
// compiles a plan per input-shape signature. The compiler side of the C API and
// the Python package.
#ifndef KILN_RUNTIME_OPEN_MODEL_H_
#define KILN_RUNTIME_OPEN_MODEL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/model_runner.h"
#include "runtime/session.h"

namespace kiln {

// A Session behind ModelRunner; takes ownership.
std::unique_ptr<ModelRunner> SessionRunner(std::unique_ptr<Session> session, const char* kind);

// Opens `path`: an artifact (recognised by its magic number, whatever its name)
// with OpenArtifactRunner; otherwise LoadModel (graph/onnx/model_file.h) and a
// Session with `options`. Errors name the path and, for graphs, the node.
absl::StatusOr<std::unique_ptr<ModelRunner>> OpenModelRunner(const std::string& path,
                                                             const RunnerOptions& options);

}  // namespace kiln

#endif  // KILN_RUNTIME_OPEN_MODEL_H_
