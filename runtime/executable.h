// The Executable: everything the runtime core needs to run a graph for one input-shape
// signature, as a value with no graph in it. Signature, schedule and memory plan, a
// kernel table by stable name (parameter blocks as bytes, no pointers), and the weights
// in their final layout. Compile (runtime/compile.h) makes one; runtime/executable_proto.h
// writes and reads it; LoadedExecutable (runtime/loaded_executable.h) runs it.
#ifndef KILN_RUNTIME_EXECUTABLE_H_
#define KILN_RUNTIME_EXECUTABLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "base/tensor_type.h"
#include "kernels/abi/kernel_abi.h"
#include "kernels/kernel_library.h"
#include "runtime/plan.h"

namespace kiln {

// One input or output of an Executable.
struct TensorSignature {
  std::string name;
  TensorType type;
  bool operator==(const TensorSignature& o) const { return name == o.name && type == o.type; }
};

struct Executable {
  // KILN_KERNEL_ABI_VERSION of the compiler that made it; a runtime refuses another.
  uint32_t abi_version = KILN_KERNEL_ABI_VERSION;
  // The graph inputs by position (every shape known), and the outputs in fetch order.
  std::vector<TensorSignature> inputs;
  std::vector<TensorSignature> outputs;
  // Schedule, memory plan and kernel table. A step's dispatch.fn is set by the compiler
  // for in-process use, and by ResolveKernels after loading.
  Plan plan;
  // The read-only weights region in its final layout: plan.memory.weights_bytes bytes,
  // 64-byte aligned. Shared by the Executables of one graph (a Session's, one per input
  // shapes).
  std::shared_ptr<const uint8_t> weights;
  // In-process state its kernels need: the bound graph the reference interpreter's
  // parameter blocks point into (such an Executable cannot be written out: its kernels are
  // in no library), or the loaded code of an artifact's generated kernels. Never written
  // out.
  std::shared_ptr<const void> keep_alive;
};

// The kernel libraries linked into this binary, searched in order for kernel names.
absl::Span<const KernelLibrary* const> LinkedKernelLibraries();

// Checks an Executable before it runs. VerifyPlan (bounds, alignment, lifetimes, no
// overlapping live slices), then: the ABI version; the signature against the plan (as
// many inputs and outputs as the plan has, each of the plan's type, names non-empty and
// unique per side); the weights region present when the plan has weights; and for every
// step whose function is not set yet, a kernel of that name in `libraries` that reads
// this parameter-block version and size and runs on this CPU. Errors are
// FailedPrecondition naming the step, its node and kernel, or the tensor.
absl::Status VerifyExecutable(const Executable& executable,
                              absl::Span<const KernelLibrary* const> libraries);

// Sets dispatch.fn of every step that has none from its kernel name in `libraries`,
// after VerifyExecutable. Errors as VerifyExecutable.
absl::Status ResolveKernels(Executable& executable,
                            absl::Span<const KernelLibrary* const> libraries);

}  // namespace kiln

#endif  // KILN_RUNTIME_EXECUTABLE_H_
