// Prepare half of Conv2D (conv.cc): logical strides of either layout, and the direct loop
// or im2col plus the packed GEMM with its tiling.
#include <algorithm>
#include <string>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/matmul_tiling.h"

namespace kiln::cpu {
namespace {

// Strides of a rank-4 tensor per logical dimension, given the logical dimension each
// position holds (pos[0] is where n, or o, lives, ...).
void LogicalStrides(const Shape& shape, const int pos[4], int64_t out[4]) {
  const std::vector<int64_t> s = Strides(shape);
  for (int d = 0; d < 4; ++d) out[d] = s[pos[d]];
}

}  // namespace


PrepareResult PrepareConv2D(const PrepareContext& ctx) {
  const Node& node = ctx.node;
  const DataType dtype = ctx.inputs[0].dtype;
  const Shape& x = ctx.inputs[0].shape;
  const Shape& filter = ctx.inputs[1].shape;
  const Shape& y = ctx.output().shape;
  ConvParams p{};
  p.nhwc = node.string_attr("data_format") == "NHWC";
  p.hwio = node.string_attr("filter_format") == "HWIO";
  const int act[4] = {0, p.nhwc ? 3 : 1, p.nhwc ? 1 : 2, p.nhwc ? 2 : 3};  // n, c, h, w
  const int fil[4] = {p.hwio ? 3 : 0, p.hwio ? 2 : 1, p.hwio ? 0 : 2, p.hwio ? 1 : 3};  // o, i, h, w
  p.batch = x.dim(act[0]);
  p.c = x.dim(act[1]);
  p.h = x.dim(act[2]);
  p.w = x.dim(act[3]);
  p.o = y.dim(act[1]);
  p.oh = y.dim(act[2]);
  p.ow = y.dim(act[3]);
  p.cg = filter.dim(fil[1]);
  p.kh = filter.dim(fil[2]);
  p.kw = filter.dim(fil[3]);
  const std::vector<int64_t>& strides = node.ints_attr("strides");
  const std::vector<int64_t>& pads = node.ints_attr("pads");
  const std::vector<int64_t>& dilations = node.ints_attr("dilations");
  p.stride_h = strides[0];
  p.stride_w = strides[1];
  p.pad_top = pads[0];
  p.pad_left = pads[1];
  p.dilation_h = dilations[0];
  p.dilation_w = dilations[1];
  p.groups = node.int_attr("groups");
  p.og = p.o / p.groups;
  p.has_bias = ctx.inputs.size() == 3;
  LogicalStrides(x, act, p.xs);
  LogicalStrides(y, act, p.ys);
  LogicalStrides(filter, fil, p.fs);
  const int64_t units = p.batch * p.o * p.oh;
  const bool empty = y.NumElements() == 0;

  // Depthwise with channels innermost everywhere: the channel-vectorized kernel.
  const bool depthwise = p.cg == 1 && p.og == 1;
  if (dtype == DataType::kF32 && depthwise && !empty && p.xs[1] == 1 && p.ys[1] == 1 &&
      p.fs[0] == 1) {
    std::string symbol = "cpu.depthwise_conv2d_nhwc.f32";
    if ((HostCpuFeatures() & kCpuAvx2Fma) != 0) symbol += ".avx2";
    const int64_t row_work = std::max<int64_t>(1, p.ow * p.o * p.kh * p.kw);
    return MakeKernel(ctx, symbol, p,
                      WorkgroupsFor(p.batch * p.oh, (1 << 18) / row_work + 1));
  }
  if (dtype != DataType::kF32 || p.cg == 1 || empty) {
    // Rows of about 256K multiply-adds or more per workgroup.
    const int64_t row_work = std::max<int64_t>(1, p.ow * p.cg * p.kh * p.kw);
    return MakeTypedKernel(ctx, "conv2d_direct", dtype, p,
                           empty ? 1 : WorkgroupsFor(units, (1 << 18) / row_work + 1));
  }

  ASSIGN_OR_RETURN(GemmIsa isa, ResolveGemmIsa(ctx));
  p.isa = static_cast<int32_t>(isa);
  p.kdim = p.cg * p.kh * p.kw;
  p.pointwise = p.kh == 1 && p.kw == 1 && p.stride_h == 1 && p.stride_w == 1 &&
                p.pad_top == 0 && p.pad_left == 0 && pads[2] == 0 && pads[3] == 0;
  const int64_t pixels = p.oh * p.ow;
  const SgemmImpl& impl = GetSgemmImpl(isa);
  p.tiling = p.nhwc ? ChooseMatMulTiling(impl, p.batch * p.groups, pixels, p.og, p.kdim,
                                         ctx.options)
                    : ChooseMatMulTiling(impl, p.batch * p.groups, p.og, pixels, p.kdim,
                                         ctx.options);
  const int64_t tile_pixels = p.nhwc ? p.tiling.tile_m : p.tiling.tile_n;
  p.col_bytes = p.pointwise ? 0 : RoundUp(tile_pixels * p.kdim * 4, 64);
  p.tiling.slot_bytes += p.col_bytes;
  ASSIGN_OR_RETURN(PreparedKernel kernel,
                   MakeKernel(ctx, GemmSymbolName("conv2d", isa), p, p.tiling.slots));
  kernel.scratch_bytes = p.tiling.slots * p.tiling.slot_bytes;
  return kernel;
}


}  // namespace kiln::cpu
