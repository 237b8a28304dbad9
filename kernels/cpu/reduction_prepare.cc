// Prepare half of the reductions (reduction.cc): dimensions merged into kept and reduced
// runs, and the workgroups over output units.
#include <algorithm>
#include <vector>

#include "kernels/cpu/kernels.h"

namespace kiln::cpu {

PrepareResult PrepareReduce(const PrepareContext& ctx) {
  const DataType dtype = ctx.inputs[0].dtype;
  absl::string_view op = "";
  switch (static_cast<ReduceVariant>(ctx.variant)) {
    case kReduceSum: op = "reduce_sum"; break;
    case kReduceMean: op = "reduce_mean"; break;
    case kReduceMax: op = "reduce_max"; break;
  }
  const Shape& x = ctx.inputs[0].shape;
  const int rank = x.rank();
  const std::vector<int64_t>& axes = ctx.node.ints_attr("axes");
  std::vector<bool> reduced(rank, axes.empty());
  for (int64_t a : axes) reduced[a < 0 ? a + rank : a] = true;

  ReduceParams p{};
  p.outputs = ctx.output().shape.NumElements();
  p.count = 1;
  for (int d = 0; d < rank; ++d) {
    if (reduced[d]) p.count *= x.dim(d);
  }
  if (x.NumElements() == 0 || p.outputs == 0) {
    // Nothing to read: every output is the empty reduction (sum 0, mean NaN or 0).
    // One empty run per output.
    p.inner = 0;
    p.inner_reduced = 1;
    p.units = p.outputs;
    return MakeTypedKernel(ctx, op, dtype, p, 1);
  }
  // Merge dims (dropping size 1) into runs of equal reduced-ness.
  const std::vector<int64_t> strides = Strides(x);
  std::vector<int64_t> dims;
  std::vector<int64_t> merged_strides;
  std::vector<bool> flags;
  for (int d = 0; d < rank; ++d) {
    if (x.dim(d) == 1) continue;
    if (!dims.empty() && flags.back() == reduced[d] &&
        merged_strides.back() == strides[d] * x.dim(d)) {
      dims.back() *= x.dim(d);
      merged_strides.back() = strides[d];
    } else {
      dims.push_back(x.dim(d));
      merged_strides.push_back(strides[d]);
      flags.push_back(reduced[d]);
    }
  }
  if (dims.empty()) {  // a single element
    dims.push_back(1);
    merged_strides.push_back(1);
    flags.push_back(true);
  }
  const int last = static_cast<int>(dims.size()) - 1;
  p.inner = dims[last];
  p.inner_reduced = flags[last] ? 1 : 0;
  for (int d = 0; d < last; ++d) {
    if (flags[d]) {
      p.reduced_dims[p.reduced_rank] = dims[d];
      p.reduced_strides[p.reduced_rank++] = merged_strides[d];
    } else {
      p.kept_dims[p.kept_rank] = dims[d];
      p.kept_strides[p.kept_rank++] = merged_strides[d];
    }
  }
  int64_t unit_elements;
  if (p.inner_reduced) {
    p.units = p.outputs;
    unit_elements = p.count;
  } else {
    p.blocks = (p.inner + kBlock - 1) / kBlock;
    p.units = (p.outputs / p.inner) * p.blocks;
    unit_elements = p.count * std::min(p.inner, kBlock);
  }
  const int64_t groups =
      WorkgroupsFor(p.units, std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(unit_elements, 1)));
  return MakeTypedKernel(ctx, op, dtype, p, groups);
}

}  // namespace kiln::cpu
