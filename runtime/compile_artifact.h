// Graph -> the contents of an artifact (runtime/artifact.h): the graph optimized once, its
// weights laid out once, one Executable planned per batch size over them, and the code of
// the generated kernels they run.
#ifndef KILN_RUNTIME_COMPILE_ARTIFACT_H_
#define KILN_RUNTIME_COMPILE_ARTIFACT_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "graph/graph.h"
#include "runtime/artifact.h"
#include "runtime/compile.h"

namespace kiln {

// Verifies and optimizes a copy of `graph` as `options` ask (input_shapes and outputs are
// ignored: every -1 input dimension is bound to each of `batch_sizes`, outputs go to the
// caller's buffers), then plans an Executable per batch size, all reading one weights
// region. A graph without -1 input dimensions gets one Executable, batch 0, whatever
// `batch_sizes` holds. Declared outputs have -1 for a first dimension that equals the batch
// size in every Executable. The generated kernels the Executables run (the default
// provider's loop and row kernels) are linked into one shared object for this host, the
// artifact's code (kernels/codegen/shared_object.h; temporary files, the system linker).
// Errors: batch sizes not positive or not increasing (InvalidArgument), those of
// OptimizeGraph and PlanExecutable, and the linker's.
absl::StatusOr<ArtifactContents> CompileArtifact(const Graph& graph, const CompileOptions& options,
                                                 absl::Span<const int64_t> batch_sizes,
                                                 absl::string_view source);

}  // namespace kiln

#endif  // KILN_RUNTIME_COMPILE_ARTIFACT_H_
