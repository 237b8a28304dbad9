// Factories of every pass, one per file of passes/ (the file is named after the flag:
// fold-constants -> fold_constants.cc). The registry (registry.h) lists them with their
// documentation; pipelines (default_pipeline.h) put them in order.
#ifndef KILN_PASSES_PASSES_H_
#define KILN_PASSES_PASSES_H_

#include <memory>

#include "passes/pass.h"

namespace kiln::passes {

// Canonicalization.
std::unique_ptr<Pass> CreateFoldConstantsPass(const PassOptions& options);
std::unique_ptr<Pass> CreateEliminateCommonSubexpressionsPass(const PassOptions& options);
std::unique_ptr<Pass> CreateEliminateDeadNodesPass(const PassOptions& options);
std::unique_ptr<Pass> CreateRemoveIdentitiesPass(const PassOptions& options);
std::unique_ptr<Pass> CreateSimplifyAlgebraPass(const PassOptions& options);

// Raising written-out composites to the ops kernels implement.
std::unique_ptr<Pass> CreateRaiseCompositeOpsPass(const PassOptions& options);

// Weight folding.
std::unique_ptr<Pass> CreateFoldBatchNormPass(const PassOptions& options);

// Layout.
std::unique_ptr<Pass> CreateAssignLayoutPass(const PassOptions& options);
std::unique_ptr<Pass> CreateSinkTransposesPass(const PassOptions& options);

// Fusion into Fusion nodes.
std::unique_ptr<Pass> CreateFuseAttentionPass(const PassOptions& options);
std::unique_ptr<Pass> CreateFuseEpiloguesPass(const PassOptions& options);
std::unique_ptr<Pass> CreateFuseReductionsPass(const PassOptions& options);
std::unique_ptr<Pass> CreateFuseElementwisePass(const PassOptions& options);
std::unique_ptr<Pass> CreateFuseSiblingsPass(const PassOptions& options);

// Undoing fusion where no backend runs the cluster as one kernel.
std::unique_ptr<Pass> CreateExpandFusionsPass(const PassOptions& options);

}  // namespace kiln::passes

#endif  // KILN_PASSES_PASSES_H_
