// The pipelines `kiln opt -O1/-O2` run, written as plain code (passes/default_pipeline.cc).
#ifndef KILN_PASSES_DEFAULT_PIPELINE_H_
#define KILN_PASSES_DEFAULT_PIPELINE_H_

#include "passes/pass.h"
#include "passes/pipeline.h"

namespace kiln::passes {

// -O1: canonicalization only (no-op removal, algebra, folding, CSE, DCE) to a fixed point.
Pipeline BuildCanonicalizePipeline(const PassOptions& options,
                                   const PipelineOptions& pipeline_options);

// -O2: canonicalize, raise composites, fold BatchNorm, assign NHWC layout and cancel
// transposes, then fuse (attention, epilogues, reductions, loops, siblings).
Pipeline BuildDefaultPipeline(const PassOptions& options, const PipelineOptions& pipeline_options);

}  // namespace kiln::passes

#endif  // KILN_PASSES_DEFAULT_PIPELINE_H_
