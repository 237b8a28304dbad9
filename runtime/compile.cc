// Compile: the optimization pipeline of a level, fusion expansion for the kernel library,
// then the plan of one input-shape signature as an Executable.
#include "runtime/compile.h"

#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "graph/bind_shapes.h"
#include "graph/verifier.h"
#include "runtime/build_plan.h"
#include "runtime/default_provider.h"
#include "runtime/memory_planner.h"
#include "passes/default_pipeline.h"
#include "passes/expand_fusions.h"
#include "passes/fold_epilogues.h"
#include "passes/pack_weights.h"
#include "passes/passes.h"
#include "passes/registry.h"

namespace kiln {

absl::StatusOr<int> FitFusionsToProvider(Graph& graph, const KernelProvider& provider,
                                         bool refuse) {
  // Clusters no kernel runs as one kernel go back to their ops, each on its library
  // kernel: never slower than not fusing, while fused kernels are missing.
  auto not_run = [&](const Node& fusion) { return !provider.RunsFusion(fusion); };
  ASSIGN_OR_RETURN(int expanded, passes::ExpandFusions(graph, not_run));
  // The elementwise ops of expanded clusters (an epilogue after its MatMul, the producers
  // of a normalization) may still form loops that one kernel runs: fuse them again, and
  // expand what the provider cannot run of that.
  if (expanded > 0 && refuse) {
    RETURN_IF_ERROR(passes::CreateFuseElementwisePass(passes::PassOptions())->Run(graph).status());
    RETURN_IF_ERROR(passes::ExpandFusions(graph, not_run).status());
  }
  return expanded;
}

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
  const bool refuse = options.optimization_level >= 2 &&
                      pipeline_options.disabled.count("fuse-elementwise") == 0;
  ASSIGN_OR_RETURN(int expanded, FitFusionsToProvider(graph, provider, refuse));
  int packed = 0;
  if (options.optimization_level >= 2) {
    // Constant weights in the layout the provider's GEMM reads, packed once here; 3x3
    // convolutions in the Winograd domain where the provider runs them faster that way.
    passes::WeightPackers packers;
    packers.gemm = [&](const Node& node, const Tensor& weight) {
      return provider.PackGemmWeight(node, weight);
    };
    packers.winograd = [&](const Node& conv, const Tensor& filter) {
      return provider.PackWinogradFilter(conv, filter);
    };
    ASSIGN_OR_RETURN(packed, passes::PackGemmWeights(graph, packers));
    // A ReLU or ReLU6 after a convolution or packed MatMul runs in its kernel.
    ASSIGN_OR_RETURN(const int folded, passes::FoldEpilogues(graph));
    packed += folded;
  }
  if (expanded + packed > 0 || options.optimization_level > 0) {
    RETURN_IF_ERROR(VerifyGraph(graph));
  }
  return absl::OkStatus();
}

absl::StatusOr<Executable> PlanExecutable(const Graph& graph, const PlanRequest& request,
                                          const KernelProvider& provider) {
  if (request.fetch_names.size() != request.fetches.size()) {
    return absl::InvalidArgumentError(absl::StrCat(request.fetches.size(), " fetches with ",
                                                   request.fetch_names.size(), " names"));
  }
  auto bound = std::make_shared<Graph>();
  ASSIGN_OR_RETURN(*bound, BindInputShapes(graph, request.input_shapes));
  PlanOptions options;
  options.memory.outputs = request.outputs;
  Executable executable;
  ASSIGN_OR_RETURN(executable.plan, BuildPlan(*bound, request.fetches, provider, options));
  for (size_t i = 0; i < bound->inputs().size(); ++i) {
    const Node& input = bound->node(bound->inputs()[i]);
    executable.inputs.push_back({input.name, executable.plan.input_types[i]});
  }
  for (size_t f = 0; f < request.fetches.size(); ++f) {
    executable.outputs.push_back(
        {request.fetch_names[f], executable.plan.value(executable.plan.fetches[f]).type});
  }
  executable.weights =
      request.weights != nullptr ? request.weights : CopyWeightsRegion(*bound);
  // Parameter blocks of library kernels are plain bytes; other kernels' (the reference
  // interpreter's) point into the bound graph, which then lives as long as the Executable.
  for (const PlanStep& step : executable.plan.steps) {
    bool in_library = false;
    for (const KernelLibrary* library : LinkedKernelLibraries()) {
      in_library = in_library || library->Find(step.kernel) != nullptr;
    }
    if (!in_library) {
      executable.keep_alive = bound;
      break;
    }
  }
  return executable;
}

std::shared_ptr<const KernelProvider> ProviderFor(const CompileOptions& options) {
  return options.kernel_provider != nullptr ? options.kernel_provider : DefaultKernelProvider();
}

absl::StatusOr<Graph> OptimizedCopy(const Graph& graph, const CompileOptions& options,
                                    const KernelProvider& provider) {
  Graph optimized = graph;
  RETURN_IF_ERROR(VerifyGraph(optimized));
  RETURN_IF_ERROR(OptimizeGraph(optimized, options, provider));
  return optimized;
}

PlanRequest FetchEveryOutput(const Graph& graph) {
  PlanRequest request;
  for (const GraphOutput& output : graph.outputs()) {
    request.fetches.push_back(output.tensor);
    request.fetch_names.push_back(output.name);
  }
  return request;
}

std::shared_ptr<const uint8_t> CopyWeightsRegion(const Graph& graph) {
  const WeightsLayout layout = LayoutWeights(graph);
  auto block = std::make_shared<AlignedBlock>(layout.bytes);
  CopyWeights(graph, layout, block->data());
  return std::shared_ptr<const uint8_t>(block, block->data());
}

absl::StatusOr<Executable> Compile(const Graph& graph, const CompileOptions& options) {
  std::shared_ptr<const KernelProvider> provider = ProviderFor(options);
  ASSIGN_OR_RETURN(Graph optimized, OptimizedCopy(graph, options, *provider));
  PlanRequest request = FetchEveryOutput(optimized);
  for (const auto& [name, shape] : options.input_shapes) {
    bool found = false;
    for (int id : optimized.inputs()) found = found || optimized.node(id).name == name;
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat("input shape given for '", name, "', which is not a graph input"));
    }
  }
  request.input_shapes = options.input_shapes;
  // Inputs without a given shape keep their declared one, which must then be known.
  for (int id : optimized.inputs()) {
    const Node& input = optimized.node(id);
    if (request.input_shapes.contains(input.name)) continue;
    const Shape& declared = input.outputs[0].shape;
    if (!declared.IsFullyKnown()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", input.name, "' has unknown dimensions ", declared.ToString(),
          "; give its shape to compile (CompileOptions.input_shapes, --input-shape)"));
    }
    request.input_shapes[input.name] = declared;
  }
  request.outputs = options.outputs;
  return PlanExecutable(optimized, request, *provider);
}

}  // namespace kiln
