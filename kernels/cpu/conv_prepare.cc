// Prepare half of Conv2D (conv.cc): logical strides of either layout, and the direct loop
// or im2col plus the packed GEMM with its tiling.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
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


// Everything but the GEMM path, from the logical filter shape (OIHW or HWIO as `hwio`).
ConvParams BaseConvParams(const Node& node, const Shape& x, const Shape& filter,
                          const Shape& y, bool nhwc, bool hwio, int64_t groups, bool has_bias) {
  ConvParams p{};
  p.nhwc = nhwc;
  p.hwio = hwio;
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
  p.groups = groups;
  p.og = p.o / p.groups;
  p.has_bias = has_bias;
  LogicalStrides(x, act, p.xs);
  LogicalStrides(y, act, p.ys);
  LogicalStrides(filter, fil, p.fs);
  ClampOf(node, &p.clamp, &p.clamp_min, &p.clamp_max);
  return p;
}

// The GEMM paths: the kernel `op` ("conv2d", or "packed_conv2d" reading the filter packed
// in the GEMM's panels), through the indirect GEMM or im2col (none when pointwise) and the
// packing GEMM.
PrepareResult PrepareConvGemm(const PrepareContext& ctx, ConvParams p, absl::string_view op,
                              int64_t packed_panel) {
  ASSIGN_OR_RETURN(GemmIsa isa, packed_panel > 0
                                    ? ResolvePackedGemmIsa(ctx, packed_panel, "filter_packed")
                                    : ResolveGemmIsa(ctx));
  // The indirect GEMM reads x in place through row pointers: with a packed filter (even a
  // first layer's 3 channels per tap pay, measured on ResNet-50's 7x7 conv1: 0.91 of the
  // FMA peak against 0.62 through im2col), and for grouped NHWC convolutions with an HWIO
  // filter, whose group's few columns it packs per tile (im2col and the packing GEMM ran
  // ResNeXt's 32-group 3x3 convolutions at 2-3% of the peak); not when the pixels alias
  // in L1.
  const bool grouped = packed_panel == 0 && p.groups > 1 && p.nhwc && p.hwio;
  p.indirect = ctx.options.indirect_gemm && (packed_panel > 0 || grouped) &&
               IndirectRowsFitL1(p.stride_w * p.xs[3] * 4);
  // A group's columns fill the 16-wide AVX2 panel better than the 32-wide AVX-512 one
  // (4 of 16 rather than 4 of 32 for 4 channels per group), at the same FMA rate on
  // CPUs that split 512-bit FMAs.
  if (p.indirect && grouped && p.og <= 16 && ctx.options.gemm_isa == GemmIsa::kAuto &&
      isa == GemmIsa::kAvx512 && GemmIsaSupported(GemmIsa::kAvx2)) {
    isa = GemmIsa::kAvx2;
  }
  const SgemmImpl& impl = GetSgemmImpl(isa);
  const std::vector<int64_t>& pads = ctx.node.ints_attr("pads");
  p.isa = static_cast<int32_t>(isa);
  p.kdim = p.cg * p.kh * p.kw;
  p.pointwise = p.kh == 1 && p.kw == 1 && p.stride_h == 1 && p.stride_w == 1 &&
                p.pad_top == 0 && p.pad_left == 0 && pads[2] == 0 && pads[3] == 0;
  const int64_t pixels = p.oh * p.ow;
  if (p.indirect && grouped) {
    // Tiles of pixels with every group (ConvGroupedIndirectF32), as many as the whole
    // convolution's work asks for. The slot holds the row table, a row of C zeros and
    // one group's filter columns in panels.
    MatMulTiling t = ChooseMatMulTiling(impl, p.batch, pixels, p.o, p.kdim, ctx.options, true);
    t.tile_m = RoundUp((pixels + t.tiles_m * t.tiles_n - 1) / (t.tiles_m * t.tiles_n),
                       impl.blocking.mr);
    t.tiles_m = (pixels + t.tile_m - 1) / t.tile_m;
    t.tile_n = p.o;
    t.tiles_n = 1;
    t.slots = std::max<int64_t>(1, std::min(t.slots, p.batch * t.tiles_m));
    t.slot_bytes = RoundUp(t.tile_m * p.kh * p.kw * 8, 64) + RoundUp(p.c * 4, 64) +
                   RoundUp(PackedBFloats(p.og, p.kdim, impl.blocking.nr) * 4, 64);
    p.tiling = t;
  } else {
    // Small tiles when no tile packs what another packs too: the filter is prepacked, or
    // each group is a GEMM with a filter of its own (a grouped stride-2 convolution of
    // ResNeXt ran on one thread without it). Images of one group share its filter, so
    // more images alone do not qualify.
    const bool small_tiles = packed_panel > 0 || p.groups > 1;
    p.tiling = p.nhwc ? ChooseMatMulTiling(impl, p.batch * p.groups, pixels, p.og, p.kdim,
                                           ctx.options, small_tiles)
                      : ChooseMatMulTiling(impl, p.batch * p.groups, p.og, pixels, p.kdim,
                                           ctx.options, small_tiles);
  }
  // Few channels per tap (a first layer's 3 colours): a filter row's taps as one, read from
  // a padded copy of the tile's input rows, so the GEMM's k loop runs kw * c deep between
  // row pointers instead of c (measured on ResNet-50's 7x7 conv1 at batch 1, 2 threads:
  // 2.6 -> 1.7 ms; 1 thread 0.82 of the FMA peak).
  p.merged_rows = p.indirect && !grouped && p.cg < 16 && p.kw > 1 && p.dilation_w == 1;
  if (p.merged_rows) {
    p.window_w = std::max(p.pad_left + p.w, (p.ow - 1) * p.stride_w + p.kw);
    // Input rows a tile of tile_m pixels reaches: its output rows (at most
    // ceil(tile_m / ow) + 1 of them) times the stride, plus the filter's height.
    const int64_t out_rows = (p.tiling.tile_m + p.ow - 1) / p.ow + 1;
    const int64_t in_rows = (out_rows - 1) * p.stride_h + (p.kh - 1) * p.dilation_h + 1;
    p.tiling.slot_bytes = RoundUp(p.tiling.tile_m * p.kh * 8, 64) +
                          RoundUp(in_rows * p.window_w * p.cg * 4, 64);
  } else if (p.indirect && !grouped) {
    // The slot holds the tile's row table and a padding row of zeros.
    p.tiling.slot_bytes = RoundUp(p.tiling.tile_m * p.kh * p.kw * 8, 64) + RoundUp(p.cg * 4, 64);
  } else if (packed_panel > 0) {
    // NHWC only: pixels x channels tiles, and the filter's panels need no scratch.
    p.tiling.slot_bytes =
        SgemmScratchBytes(impl, p.tiling.tile_m, p.tiling.tile_n, p.kdim, true);
  }
  const int64_t tile_pixels = p.nhwc ? p.tiling.tile_m : p.tiling.tile_n;
  p.col_bytes = p.pointwise || p.indirect ? 0 : RoundUp(tile_pixels * p.kdim * 4, 64);
  p.tiling.slot_bytes += p.col_bytes;
  ASSIGN_OR_RETURN(PreparedKernel kernel,
                   MakeKernel(ctx, GemmSymbolName(op, isa), p, p.tiling.slots));
  kernel.scratch_bytes = p.tiling.slots * p.tiling.slot_bytes;
  return kernel;
}

}  // namespace

PrepareResult PrepareConv2D(const PrepareContext& ctx) {
  const Node& node = ctx.node;
  const DataType dtype = ctx.inputs[0].dtype;
  const Shape& y = ctx.output().shape;
  ConvParams p = BaseConvParams(node, ctx.inputs[0].shape, ctx.inputs[1].shape, y,
                                node.string_attr("data_format") == "NHWC",
                                node.string_attr("filter_format") == "HWIO",
                                node.int_attr("groups"), ctx.inputs.size() == 3);
  const int64_t units = p.batch * p.o * p.oh;
  const bool empty = y.NumElements() == 0;

  // Depthwise, or groups of 2, 4 or 8 channels in and out, with channels innermost
  // everywhere: the channel-vectorized kernel (its groups lie within one 8-float vector).
  const bool depthwise = p.cg == 1 && p.og == 1;
  const bool small_groups = p.cg == p.og && (p.cg == 2 || p.cg == 4 || p.cg == 8) &&
                            ctx.options.small_group_conv;
  if (dtype == DataType::kF32 && (depthwise || small_groups) && !empty && p.xs[1] == 1 &&
      p.ys[1] == 1 && p.fs[0] == 1) {
    std::string symbol =
        depthwise ? "cpu.depthwise_conv2d_nhwc.f32" : "cpu.small_group_conv2d_nhwc.f32";
    if ((HostCpuFeatures() & kCpuAvx2Fma) != 0) symbol += ".avx2";
    const int64_t row_work = std::max<int64_t>(1, p.ow * p.o * p.cg * p.kh * p.kw);
    return MakeKernel(ctx, symbol, p,
                      WorkgroupsFor(p.batch * p.oh, (1 << 18) / row_work + 1));
  }
  if (dtype != DataType::kF32 || p.cg == 1 || empty) {
    // Rows of about 256K multiply-adds or more per workgroup.
    const int64_t row_work = std::max<int64_t>(1, p.ow * p.cg * p.kh * p.kw);
    return MakeTypedKernel(ctx, "conv2d_direct", dtype, p,
                           empty ? 1 : WorkgroupsFor(units, (1 << 18) / row_work + 1));
  }
  return PrepareConvGemm(ctx, p, "conv2d", 0);
}

PrepareResult PreparePackedConv2D(const PrepareContext& ctx) {
  const Node& node = ctx.node;
  const Shape& x = ctx.inputs[0].shape;
  const Shape& packed = ctx.inputs[1].shape;
  const std::vector<int64_t>& kernel = node.ints_attr("kernel_shape");
  const Shape filter{kernel[0], kernel[1], x.dim(3), node.int_attr("out_channels")};
  ConvParams p = BaseConvParams(node, x, filter, ctx.output().shape, true, true, 1,
                                ctx.inputs.size() >= 3);
  p.has_residual = ctx.inputs.size() == 4;
  return PrepareConvGemm(ctx, p, "packed_conv2d", packed.dim(2));
}

}  // namespace kiln::cpu
