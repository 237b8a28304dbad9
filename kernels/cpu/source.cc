// Constant: copies the weight bytes, held in the params block, into the output. A runtime
// should not run this kernel: it should place constants in the read-only weights region
// and bind their consumers to it directly (the kernel exists so a plan that does not yet
// do that still runs).
#include <cstdint>
#include <cstring>

#include "base/tensor.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/cpu/kernels.h"

namespace kiln::cpu {
namespace {

// Followed in the params block by `bytes` bytes of the value.
struct ConstantParams {
  int64_t bytes;
  int64_t unused[7];  // keeps the value 64-byte aligned in the block
};

int32_t ConstantKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  const ConstantParams& p = ParamsOf<ConstantParams>(call);
  const uint8_t* value = reinterpret_cast<const uint8_t*>(&p + 1);
  uint8_t* y = MutableOperand<uint8_t>(call, 0);
  const WorkRange r = SplitWork(p.bytes, workgroup, workgroups);
  if (r.end > r.begin) std::memcpy(y + r.begin, value + r.begin, r.end - r.begin);
  return KILN_KERNEL_OK;
}

}  // namespace

PrepareResult PrepareConstant(const PrepareContext& ctx) {
  const Tensor& value = ctx.node.attr<Tensor>("value");
  ConstantParams p{};
  p.bytes = value.ByteSize();
  PreparedKernel kernel = MakeKernel(&ConstantKernel, p, ElementwiseWorkgroups(p.bytes, 1),
                                     KernelName(ctx.node, value.dtype()));
  if (p.bytes > 0) {
    const auto* bytes = static_cast<const uint8_t*>(value.raw_data());
    kernel.params.insert(kernel.params.end(), bytes, bytes + p.bytes);
  }
  return kernel;
}

}  // namespace kiln::cpu
