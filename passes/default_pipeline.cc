// The default pipelines, stage by stage.
#include "passes/default_pipeline.h"

#include <memory>
#include <utility>
#include <vector>

#include "passes/passes.h"

namespace kiln::passes {
namespace {

// No-op removal, algebra, folding, CSE and DCE: cheap, and each exposes work for the others.
std::vector<std::unique_ptr<Pass>> CanonicalizePasses(const PassOptions& options) {
  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(CreateRemoveIdentitiesPass(options));
  passes.push_back(CreateSimplifyAlgebraPass(options));
  passes.push_back(CreateFoldConstantsPass(options));
  passes.push_back(CreateEliminateCommonSubexpressionsPass(options));
  passes.push_back(CreateEliminateDeadNodesPass(options));
  return passes;
}

}  // namespace

Pipeline BuildCanonicalizePipeline(const PassOptions& options,
                                   const PipelineOptions& pipeline_options) {
  Pipeline pipeline(pipeline_options);
  pipeline.AddFixedPoint("canonicalize", CanonicalizePasses(options), 8);
  return pipeline;
}

Pipeline BuildDefaultPipeline(const PassOptions& options, const PipelineOptions& pipeline_options) {
  Pipeline pipeline(pipeline_options);

  // 1. Canonicalize what the front end wrote: no-ops, algebra, constants, duplicates.
  pipeline.AddFixedPoint("canonicalize", CanonicalizePasses(options), 8);

  // 2. Raise GELU, LayerNorm and Softmax written out op by op to the ops kernels implement.
  pipeline.AddPass(CreateRaiseCompositeOpsPass(options));

  // 3. Fold BatchNorm and per-channel scales and biases into Conv2D/MatMul weights.
  pipeline.AddPass(CreateFoldBatchNormPass(options));

  // 4. Layout: Conv2D and pools in NHWC, then push transposes down until inverse pairs
  //    cancel and constant filters are transposed at compile time.
  pipeline.AddPass(CreateAssignLayoutPass(options));
  std::vector<std::unique_ptr<Pass>> layout_cleanup;
  layout_cleanup.push_back(CreateSinkTransposesPass(options));
  for (auto& pass : CanonicalizePasses(options)) layout_cleanup.push_back(std::move(pass));
  pipeline.AddFixedPoint("layout-cleanup", std::move(layout_cleanup), 16);

  // 5. Fusion, most specific pattern first, so general loop fusion takes what is left.
  pipeline.AddPass(CreateFuseAttentionPass(options));
  pipeline.AddPass(CreateFuseEpiloguesPass(options));
  pipeline.AddPass(CreateFuseReductionsPass(options));
  pipeline.AddPass(CreateFuseElementwisePass(options));
  pipeline.AddPass(CreateFuseSiblingsPass(options));

  // 6. Drop what fusion left unused (constants copied into bodies).
  pipeline.AddPass(CreateEliminateDeadNodesPass(options));
  return pipeline;
}

}  // namespace kiln::passes
