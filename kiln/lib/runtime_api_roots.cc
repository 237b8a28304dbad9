// The runtime library's public entry points, referenced once so that the linker
// keeps the objects defining them: a shared library has no main() whose calls
// would pull them out of the archives it is linked from. The version script
// (libkiln_runtime.lds) decides what is exported; this only decides what is
// linked.
#include "base/dtype.h"
#include "base/shape.h"
#include "base/tensor.h"
#include "runtime/artifact.h"
#include "runtime/loaded_artifact.h"
#include "runtime/loaded_executable.h"
#include "runtime/model_runner.h"

namespace kiln {

[[gnu::used]] extern const void* const kRuntimeApiRoots[] = {
    reinterpret_cast<const void*>(&DataTypeName),
    reinterpret_cast<const void*>(&BroadcastShapes),
    reinterpret_cast<const void*>(&Tensor::Allocate),
    reinterpret_cast<const void*>(
        static_cast<absl::StatusOr<std::shared_ptr<const Artifact>> (*)(
            const std::string&, const Artifact::Options&)>(&Artifact::Open)),
    reinterpret_cast<const void*>(&IsArtifactFile),
    reinterpret_cast<const void*>(&LoadedArtifact::Load),
    reinterpret_cast<const void*>(&LoadedExecutable::Load),
    reinterpret_cast<const void*>(&OpenArtifactRunner),
    reinterpret_cast<const void*>(&CheckOutputBuffers),
};

}  // namespace kiln
