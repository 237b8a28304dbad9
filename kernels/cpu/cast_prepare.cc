// Prepare half of Cast (cast.cc).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/kernels.h"

namespace kiln::cpu {

PrepareResult PrepareCast(const PrepareContext& ctx) {
  const DataType from = ctx.inputs[0].dtype;
  const DataType to = ctx.output().dtype;
  CastParams p{ctx.output().shape.NumElements()};
  const int64_t widest = std::max(DataTypeSize(from), DataTypeSize(to));
  // An unsupported pair names the source type when it has no cast at all.
  const bool from_known =
      CpuKernelLibrary().Find(absl::StrCat("cpu.cast.", DataTypeName(from), ".f32")) != nullptr;
  ASSIGN_OR_RETURN(
      PreparedKernel kernel,
      MakeKernel(ctx, absl::StrCat("cpu.cast.", DataTypeName(from), ".", DataTypeName(to)), p,
                 ElementwiseWorkgroups(p.total, widest), from_known ? to : from));
  // Same-sized elements: element i is read before it is written.
  if (DataTypeSize(from) == DataTypeSize(to)) kernel.inplace_input = 0;
  return kernel;
}

}  // namespace kiln::cpu
