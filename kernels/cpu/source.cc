// Constant: copies the weight bytes, held in the params block, into the output. A runtime
// should not run this kernel: it should place constants in the read-only weights region
// and bind their consumers to it directly (the kernel exists so a plan that does not yet
// do that still runs).
#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_kernel_library.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/cpu/params.h"

namespace kiln::cpu {
namespace {

int32_t ConstantKernel(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  const ConstantParams& p = ParamsOf<ConstantParams>(call);
  const uint8_t* value = reinterpret_cast<const uint8_t*>(&p + 1);
  uint8_t* y = MutableOperand<uint8_t>(call, 0);
  const WorkRange r = SplitWork(p.bytes, workgroup, workgroups);
  if (r.end > r.begin) std::memcpy(y + r.begin, value + r.begin, r.end - r.begin);
  return KILN_KERNEL_OK;
}

}  // namespace

void AddSourceKernels(SymbolList& list) {
  list.AddTrailing<ConstantParams>("cpu.constant", &ConstantKernel);
}

}  // namespace kiln::cpu
