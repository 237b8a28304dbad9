// OptimizeGraph: the pipeline of a level, then fusion expansion for the kernel library.
#include "runtime/compile.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "graph/verifier.h"
#include "passes/default_pipeline.h"
#include "passes/expand_fusions.h"
#include "passes/registry.h"

namespace kiln {

absl::Status OptimizeGraph(Graph& graph, const CompileOptions& options,
                           const KernelProvider& provider) {
  if (options.optimization_level < 0 || options.optimization_level > 2) {
    return absl::InvalidArgumentError(absl::StrCat("optimization level ",
                                                   options.optimization_level,
                                                   " is not 0, 1 or 2"));
  }
  passes::PipelineOptions pipeline_options;
  pipeline_options.verify_each = options.verify_each_pass;
  for (const std::string& name : options.disabled_passes) {
    if (passes::FindPass(name) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("disabled pass '", name, "' is not a pass; see `kiln opt --list-passes`"));
    }
    pipeline_options.disabled.insert(name);
  }
  if (!options.dump_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options.dump_dir, error);
    if (error) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create dump directory '", options.dump_dir, "': ", error.message()));
    }
    pipeline_options.dump_dir = options.dump_dir;
  }
  if (options.optimization_level > 0) {
    passes::PassOptions pass_options;
    passes::Pipeline pipeline =
        options.optimization_level == 1
            ? passes::BuildCanonicalizePipeline(pass_options, pipeline_options)
            : passes::BuildDefaultPipeline(pass_options, pipeline_options);
    RETURN_IF_ERROR(pipeline.Run(graph).status());
  }
  // Clusters no kernel runs as one kernel go back to their ops, each on its library
  // kernel: never slower than not fusing, while fused kernels are missing.
  ASSIGN_OR_RETURN(int expanded, passes::ExpandFusions(graph, [&](const Node& fusion) {
                     return !provider.RunsFusion(fusion);
                   }));
  if (expanded > 0 || options.optimization_level > 0) RETURN_IF_ERROR(VerifyGraph(graph));
  return absl::OkStatus();
}

}  // namespace kiln
