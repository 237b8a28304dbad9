// Non-temporal (streaming) stores for kernels whose outputs outgrow the caches.
//
// A loop kernel writing an output of tens of MiB with ordinary stores moves every output
// line three times: read into the cache before it is written (read for ownership), then
// written back. A non-temporal store writes the line to memory directly, so the kernel
// moves its input once and its output once, as a copy does: an elementwise chain over
// 16M floats ran 1.7x faster with them here. For outputs that fit in the last-level
// cache they would be slower (the consumer would read from memory what it finds in the
// cache now), so loop kernels use them only past kStreamingOutputBytes (loop_kernel.h).
#ifndef KILN_KERNELS_CODEGEN_STREAMING_STORES_H_
#define KILN_KERNELS_CODEGEN_STREAMING_STORES_H_

#include "llvm/IR/Module.h"

namespace kiln::codegen {

// Rewrites every store of a whole 16-, 32- or 64-byte vector in `module`'s functions into
// a non-temporal store when its address is aligned to the vector's size (the instruction
// requires it; a run-time test of the address, which the branch predictor learns, keeps
// the ordinary store for an unaligned one), and fences before each return so the stores
// are visible before the kernel reports completion (non-temporal stores are weakly
// ordered). Run after -O3, when the loop vectorizer has made the vector stores; every
// store of a loop kernel's body writes one of its outputs. Returns the stores rewritten
// (0 for a module whose target is not x86-64).
int StreamVectorStores(llvm::Module& module);

}  // namespace kiln::codegen

#endif  // KILN_KERNELS_CODEGEN_STREAMING_STORES_H_
