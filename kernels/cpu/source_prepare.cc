// Prepare half of Constant (source.cc): the value copied into the parameter block.
#include "base/tensor.h"
#include "kernels/cpu/kernels.h"

namespace kiln::cpu {

PrepareResult PrepareConstant(const PrepareContext& ctx) {
  const Tensor& value = ctx.node.attr<Tensor>("value");
  ConstantParams p{};
  p.bytes = value.ByteSize();
  ASSIGN_OR_RETURN(PreparedKernel kernel,
                   MakeKernel(ctx, "cpu.constant", p, ElementwiseWorkgroups(p.bytes, 1)));
  if (p.bytes > 0) {
    const auto* bytes = static_cast<const uint8_t*>(value.raw_data());
    kernel.params.insert(kernel.params.end(), bytes, bytes + p.bytes);
  }
  return kernel;
}

}  // namespace kiln::cpu
