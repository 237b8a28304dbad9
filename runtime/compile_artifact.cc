#include "runtime/compile_artifact.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "kernels/codegen/kernel_compiler.h"
#include "kernels/codegen/native.h"
#include "kernels/codegen/shared_object.h"
#include "kernels/kernel_library.h"
#include "runtime/plan.h"

namespace kiln {
namespace {

// The generated kernels the Executables run, linked into one shared object for the host:
// the artifact's code. Empty when every kernel is a library's.
absl::StatusOr<ArtifactCode> LinkGeneratedCode(absl::Span<const ArtifactExecutable> executables) {
  std::vector<std::string> names;  // each once, in order of first use
  absl::flat_hash_set<std::string> seen;
  for (const ArtifactExecutable& e : executables) {
    for (const PlanStep& step : e.executable.plan.steps) {
      if (step.dispatch.fn != nullptr &&
          absl::StartsWith(step.kernel, kGeneratedKernelPrefix) &&
          seen.insert(step.kernel).second) {
        names.push_back(step.kernel);
      }
    }
  }
  ArtifactCode code;
  if (names.empty()) return code;
  ASSIGN_OR_RETURN(code.shared_object, codegen::LinkKernels(names));
  // The code is compiled for this CPU (its name and every feature LLVM detects); the
  // runtime checks the coarse features its kernels are dispatched on.
  const uint32_t features = HostCpuFeatures();
  for (const std::string& name : names) {
    code.kernels.push_back({name, codegen::EntrySymbol(name), features});
  }
  code.target = codegen::HostTargetKey();
  return code;
}

}  // namespace

absl::StatusOr<ArtifactContents> CompileArtifact(const Graph& graph, const CompileOptions& options,
                                                 absl::Span<const int64_t> batch_sizes,
                                                 absl::string_view source) {
  int64_t previous = 0;
  for (int64_t b : batch_sizes) {
    if (b <= previous) {
      return absl::InvalidArgumentError(
          absl::StrCat("batch sizes must be positive and increasing; got ", b, " after ",
                       previous));
    }
    previous = b;
  }
  std::shared_ptr<const KernelProvider> provider = ProviderFor(options);
  ASSIGN_OR_RETURN(Graph optimized, OptimizedCopy(graph, options, *provider));

  ArtifactContents contents;
  contents.source = std::string(source);
  bool batched = false;
  for (int id : optimized.inputs()) {
    const Node& input = optimized.node(id);
    contents.inputs.push_back({input.name, input.outputs[0]});
    batched = batched || !input.outputs[0].shape.IsFullyKnown();
  }
  std::vector<int64_t> batches(batch_sizes.begin(), batch_sizes.end());
  if (!batched) batches = {0};
  if (batches.empty()) {
    return absl::InvalidArgumentError("no batch size given for the graph's -1 dimensions");
  }

  // One copy of the constants, in the layout every Executable of the graph reads.
  PlanRequest request = FetchEveryOutput(optimized);
  request.weights = CopyWeightsRegion(optimized);
  request.outputs = OutputPlacement::kCallerBuffer;
  for (int64_t batch : batches) {
    for (const TensorSignature& input : contents.inputs) {
      Shape shape = input.type.shape;
      for (int64_t& d : shape.dims()) {
        if (d == kUnknownDim) d = batch;
      }
      request.input_shapes[input.name] = shape;
    }
    ASSIGN_OR_RETURN(Executable executable, PlanExecutable(optimized, request, *provider));
    contents.executables.push_back({batch, std::move(executable)});
  }

  contents.outputs = contents.executables.front().executable.outputs;
  for (size_t o = 0; o < contents.outputs.size() && batched; ++o) {
    bool batch_first = true;
    for (const ArtifactExecutable& e : contents.executables) {
      const Shape& shape = e.executable.outputs[o].type.shape;
      batch_first = batch_first && shape.rank() > 0 && shape.dim(0) == e.batch_size;
    }
    if (batch_first) contents.outputs[o].type.shape.dims()[0] = kUnknownDim;
  }
  ASSIGN_OR_RETURN(contents.code, LinkGeneratedCode(contents.executables));
  return contents;
}

}  // namespace kiln
