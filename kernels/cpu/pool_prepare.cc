// Prepare half of the pooling kernels (pool.cc): window geometry in either layout.
#include <algorithm>
#include <vector>

#include "kernels/cpu/kernels.h"

namespace kiln::cpu {
namespace {

void Layout(const Shape& s, bool nhwc, int64_t out[4]) {
  const std::vector<int64_t> st = Strides(s);
  out[0] = st[0];
  out[1] = st[nhwc ? 3 : 1];
  out[2] = st[nhwc ? 1 : 2];
  out[3] = st[nhwc ? 2 : 3];
}

}  // namespace

PrepareResult PreparePool(const PrepareContext& ctx) {
  const DataType dtype = ctx.inputs[0].dtype;
  const bool is_max = ctx.variant == kMaxPool;
  const Shape& x = ctx.inputs[0].shape;
  const Shape& y = ctx.output().shape;
  PoolParams p{};
  p.nhwc = ctx.node.string_attr("data_format") == "NHWC";
  const int c = p.nhwc ? 3 : 1, h = p.nhwc ? 1 : 2, w = p.nhwc ? 2 : 3;
  p.n = x.dim(0);
  p.c = x.dim(c);
  p.h = x.dim(h);
  p.w = x.dim(w);
  p.oh = y.dim(h);
  p.ow = y.dim(w);
  const std::vector<int64_t>& kernel = ctx.node.ints_attr("kernel");
  const std::vector<int64_t>& strides = ctx.node.ints_attr("strides");
  const std::vector<int64_t>& pads = ctx.node.ints_attr("pads");
  p.kh = kernel[0];
  p.kw = kernel[1];
  p.stride_h = strides[0];
  p.stride_w = strides[1];
  p.pad_top = pads[0];
  p.pad_left = pads[1];
  p.include_pad = !is_max && ctx.node.bool_attr("count_include_pad");
  Layout(x, p.nhwc, p.xs);
  Layout(y, p.nhwc, p.ys);
  p.blocks = (p.c + kChannelBlock - 1) / kChannelBlock;
  p.units = p.nhwc ? p.n * p.oh * p.blocks : p.n * p.c * p.oh;
  const int64_t unit_work = std::max<int64_t>(
      1, p.ow * p.kh * p.kw * (p.nhwc ? std::min(p.c, kChannelBlock) : 1));
  const int64_t groups = y.NumElements() == 0 ? 1 : WorkgroupsFor(p.units, (int64_t{1} << 15) / unit_work + 1);
  return MakeTypedKernel(ctx, is_max ? "max_pool" : "avg_pool", dtype, p, groups);
}

PrepareResult PrepareGlobalAvgPool(const PrepareContext& ctx) {
  const DataType dtype = ctx.inputs[0].dtype;
  const Shape& x = ctx.inputs[0].shape;
  GlobalPoolParams p{};
  p.nhwc = ctx.node.string_attr("data_format") == "NHWC";
  p.n = x.dim(0);
  p.c = x.dim(p.nhwc ? 3 : 1);
  p.pixels = x.dim(p.nhwc ? 1 : 2) * x.dim(p.nhwc ? 2 : 3);
  p.blocks = (p.c + kChannelBlock - 1) / kChannelBlock;
  p.units = p.nhwc ? p.n * p.blocks : p.n * p.c;
  const int64_t unit_work = std::max<int64_t>(1, p.pixels * (p.nhwc ? std::min(p.c, kChannelBlock) : 1));
  const int64_t groups =
      x.NumElements() == 0 ? 1 : WorkgroupsFor(p.units, (int64_t{1} << 15) / unit_work + 1);
  return MakeTypedKernel(ctx, "global_avg_pool", dtype, p, groups);
}

}  // namespace kiln::cpu
