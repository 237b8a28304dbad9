// Prepare half of the Winograd convolution (winograd_conv.cc): where it pays, and how its
// output tiles and channels split into workgroups and scratch.
#include <algorithm>
#include <cstdint>
#include <thread>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/matmul_tiling.h"
#include "kernels/cpu/winograd.h"

namespace kiln::cpu {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Scratch budgets per workgroup, inside the 1-2 MiB L2 these machines have beside the
// transformed filter's panels streaming through: the block's V (every channel), and one
// chunk of products M.
constexpr int64_t kVBytes = 768 * 1024;
constexpr int64_t kMBytes = 512 * 1024;
// Tiles below which the transformed filter, 4x (F(4x4)) or 16/9 (F(2x2)) of the plain
// filter's bytes, streams from memory for too few products (about twice peak FLOP/s over
// memory bandwidth here).
constexpr int64_t kMinTiles = 12;

}  // namespace

int WinogradTilePays(const Node& conv) {
  if (conv.outputs.size() != 1 || conv.outputs[0].shape.rank() != 4) return 0;
  const Shape& y = conv.outputs[0].shape;
  const int64_t batch = y.dim(0) == kUnknownDim ? 1 : y.dim(0);
  const int64_t oh = y.dim(1);
  const int64_t ow = y.dim(2);
  const int64_t o = y.dim(3);
  if (oh < 1 || ow < 1 || o < 16) return 0;
  const int64_t outputs = batch * oh * ow;
  // F(4x4): 36 products per tile against 9 per output of the plain convolution, so at
  // least 6 of a tile's 16 outputs must be real. F(2x2): 16 per tile against 9 per output
  // (4 per tile), so at least 2 of its 4, for the smaller filter of images whose 4x4 tiles
  // are too few (7 x 7: 4 tiles of 4x4, 16 of 2x2).
  const int64_t tiles4 = batch * CeilDiv(oh, 4) * CeilDiv(ow, 4);
  if (tiles4 >= kMinTiles && outputs >= 6 * tiles4) return 4;
  const int64_t tiles2 = batch * CeilDiv(oh, 2) * CeilDiv(ow, 2);
  if (tiles2 >= kMinTiles && outputs >= 2 * tiles2) return 2;
  return 0;
}

PrepareResult PrepareWinogradConv2D(const PrepareContext& ctx) {
  const Node& node = ctx.node;
  const Shape& x = ctx.inputs[0].shape;
  const Shape& u = ctx.inputs[1].shape;
  const Shape& y = ctx.output().shape;
  ASSIGN_OR_RETURN(const GemmIsa isa, ResolveGemmIsa(ctx));
  const SgemmImpl& impl = GetSgemmImpl(isa);
  const int64_t nr = impl.blocking.nr;
  if (u.dim(3) != nr) {
    return NodeError(absl::StatusCode::kFailedPrecondition, node,
                     absl::StrCat("input 'filter_winograd' has panels of ", u.dim(3),
                                  " columns; the ", GemmIsaName(isa), " GEMM reads ", nr));
  }
  WinogradParams p{};
  p.tile = WinogradTileOf(u.dim(0));
  const int64_t positions = WinogradPositions(static_cast<int>(p.tile));
  p.batch = x.dim(0);
  p.h = x.dim(1);
  p.w = x.dim(2);
  p.c = x.dim(3);
  p.oh = y.dim(1);
  p.ow = y.dim(2);
  p.o = y.dim(3);
  const std::vector<int64_t>& pads = node.ints_attr("pads");
  p.pad_top = pads[0];
  p.pad_left = pads[1];
  p.tiles_h = CeilDiv(p.oh, p.tile);
  p.tiles_w = CeilDiv(p.ow, p.tile);
  p.has_bias = ctx.inputs.size() >= 3;
  p.has_residual = ctx.inputs.size() == 4;
  p.isa = static_cast<int32_t>(isa);
  ClampOf(node, &p.clamp, &p.clamp_min, &p.clamp_max);
  // V's rows padded to 16 floats, and off multiples of 4 KiB so a GEMM tile's rows do not
  // share one L1 set (IndirectRowsFitL1).
  p.v_stride = RoundUp(std::max<int64_t>(p.c, 1), 16);
  if (!IndirectRowsFitL1(p.v_stride * 4)) p.v_stride += 16;

  const int64_t total_tiles = p.batch * p.tiles_h * p.tiles_w;
  const int64_t threads = ctx.options.threads > 0
                              ? ctx.options.threads
                              : std::max<int64_t>(1, std::thread::hardware_concurrency());
  if (total_tiles == 0 || p.o == 0) {
    // Nothing to compute: one empty workgroup.
    p.block_tiles = 1;
    p.blocks = 0;
    p.o_chunk = nr;
    p.o_groups = 1;
    p.o_per_group = nr;
    p.slots = 1;
    p.slot_bytes = 0;
    ASSIGN_OR_RETURN(PreparedKernel kernel,
                     MakeKernel(ctx, "cpu.winograd_conv2d.f32", p, 1));
    return kernel;
  }
  // Blocks as large as V's budget allows (each streams the whole transformed filter), at
  // most 64 tiles, evened out.
  const int64_t max_tiles =
      std::clamp<int64_t>(kVBytes / (positions * 4 * p.v_stride), 1, 64);
  p.blocks = CeilDiv(total_tiles, max_tiles);
  p.block_tiles = CeilDiv(total_tiles, p.blocks);
  // Too few blocks for the threads: output channels split too, each group streaming its
  // own share of the filter (the input transform, cheap, is repeated per group).
  const int64_t panels = CeilDiv(p.o, nr);
  p.o_groups = 1;
  if (p.blocks < 2 * threads) {
    p.o_groups = std::min(panels, CeilDiv(2 * threads, p.blocks));
  }
  const int64_t group_panels = CeilDiv(panels, p.o_groups);
  p.o_groups = CeilDiv(panels, group_panels);
  p.o_per_group = group_panels * nr;
  // Chunks within a group as M's budget allows, evened out.
  const int64_t chunk_panels_max =
      std::max<int64_t>(1, kMBytes / (positions * 4 * p.block_tiles * nr));
  const int64_t chunks = CeilDiv(group_panels, chunk_panels_max);
  p.o_chunk = CeilDiv(group_panels, chunks) * nr;

  const int64_t units = p.blocks * p.o_groups;
  // A whole number of workgroups per thread where there are enough units.
  int64_t workgroups = std::min(units, 2 * threads);
  if (workgroups > threads) workgroups = workgroups / threads * threads;
  p.slots = workgroups;
  p.slot_bytes = RoundUp(positions * p.block_tiles * p.v_stride * 4, 64) +
                 RoundUp(positions * p.block_tiles * p.o_chunk * 4, 64);
  std::string symbol = "cpu.winograd_conv2d.f32";
  if (isa == GemmIsa::kAvx512) symbol += ".avx512";
  if (isa == GemmIsa::kAvx2) symbol += ".avx2";
  ASSIGN_OR_RETURN(PreparedKernel kernel, MakeKernel(ctx, symbol, p, workgroups));
  kernel.scratch_bytes = p.slots * p.slot_bytes;
  return kernel;
}

}  // namespace kiln::cpu
