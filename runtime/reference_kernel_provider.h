// ReferenceKernelProvider: the registry's reference kernels behind the kernel ABI, so the
// executor can run any graph before an optimized kernel library covers it, and tests
// can compare plans and executors against the reference interpreter.
//
// NOT the production path: each call wraps its buffers in Tensors and calls the
// reference kernel, which allocates (shapes, index helpers) and computes in double. A
// Session using it therefore allocates inside every kernel call; the zero-allocation
// guarantee of Session::Run holds for non-allocating kernel libraries only.
#ifndef KILN_RUNTIME_REFERENCE_KERNEL_PROVIDER_H_
#define KILN_RUNTIME_REFERENCE_KERNEL_PROVIDER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/graph.h"
#include "kernels/kernel_provider.h"

namespace kiln {

// Parameter block of every reference kernel: pointers into the graph the kernel was
// prepared from, which must outlive the plan.
struct ReferenceKernelParams {
  const Graph* graph;
  const Node* node;
};

// Thread-safe (stateless). Prepared kernels run in one workgroup and need no scratch.
// Elementwise ops whose input 0 has the output's exact type may run in place on it
// (inplace_input = 0): the reference kernels read element i of input 0 before writing
// element i. Data-movement ops (Identity copies with memcpy) never do, nor other inputs
// (Where copies x and y with memcpy, which must not overlap the output).
// A failing kernel reports the reference kernel's message through the environment and
// returns KILN_KERNEL_INVALID_ARGUMENT (for InvalidArgument and OutOfRange),
// KILN_KERNEL_UNIMPLEMENTED or KILN_KERNEL_INTERNAL. Allocates: not for production.
class ReferenceKernelProvider : public KernelProvider {
 public:
  absl::string_view name() const override { return "reference"; }
  absl::StatusOr<PreparedKernel> Prepare(const Graph& graph, const Node& node) const override;
  // The reference kernel of Fusion evaluates the body: the oracle runs clusters as they are.
  bool RunsFusion(const Node&) const override { return true; }
};

}  // namespace kiln

#endif  // KILN_RUNTIME_REFERENCE_KERNEL_PROVIDER_H_
