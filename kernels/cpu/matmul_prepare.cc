// Prepare half of MatMul (matmul.cc): strides for transposes and broadcast batches, the
// GEMM microkernel and the workgroup tiling.
#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/matmul_tiling.h"

namespace kiln::cpu {

PrepareResult PrepareMatMul(const PrepareContext& ctx) {
  const Node& node = ctx.node;
  const DataType dtype = ctx.inputs[0].dtype;
  const Shape& a = ctx.inputs[0].shape;
  const Shape& b = ctx.inputs[1].shape;
  const Shape& out = ctx.output().shape;
  const bool ta = node.bool_attr("transpose_a");
  const bool tb = node.bool_attr("transpose_b");
  MatMulParams p{};
  p.m = out.dim(out.rank() - 2);
  p.n = out.dim(out.rank() - 1);
  p.k = ta ? a.dim(a.rank() - 2) : a.dim(a.rank() - 1);
  // Element (i, p) of op(a) in the stored [.., rows, cols] matrix.
  p.a_row = ta ? 1 : p.k;
  p.a_col = ta ? p.m : 1;
  p.b_row = tb ? 1 : p.n;
  p.b_col = tb ? p.k : 1;
  p.batch_rank = out.rank() - 2;
  p.batch = 1;
  int64_t a_stride = p.m * p.k;
  int64_t b_stride = p.k * p.n;
  for (int d = p.batch_rank - 1; d >= 0; --d) {
    const int a_dim = d - (out.rank() - a.rank());
    const int b_dim = d - (out.rank() - b.rank());
    const int64_t a_size = a_dim >= 0 ? a.dim(a_dim) : 1;
    const int64_t b_size = b_dim >= 0 ? b.dim(b_dim) : 1;
    p.batch_dims[d] = out.dim(d);
    p.a_batch_strides[d] = a_size == 1 ? 0 : a_stride;
    p.b_batch_strides[d] = b_size == 1 ? 0 : b_stride;
    a_stride *= a_size;
    b_stride *= b_size;
    p.batch *= out.dim(d);
  }
  const int64_t outputs = out.NumElements();
  if (dtype != DataType::kF32) {
    // Rows of at least ~1M multiply-adds per workgroup.
    const int64_t row_work = std::max<int64_t>(1, p.n * std::max<int64_t>(p.k, 1));
    const int64_t groups = outputs == 0 ? 1 : WorkgroupsFor(p.batch * p.m, (1 << 20) / row_work + 1);
    return MakeTypedKernel(ctx, "mat_mul", dtype, p, groups);
  }

  ASSIGN_OR_RETURN(GemmIsa isa, ResolveGemmIsa(ctx));
  p.isa = static_cast<int32_t>(isa);
  // A batch that only A has, with B shared and A not transposed, is one taller GEMM:
  // A's batches are consecutive rows and so are C's.
  bool b_shared = true;
  bool a_dense = true;
  int64_t expect = p.m * p.k;
  for (int d = p.batch_rank - 1; d >= 0; --d) {
    b_shared = b_shared && p.b_batch_strides[d] == 0;
    a_dense = a_dense && (p.batch_dims[d] == 1 || p.a_batch_strides[d] == expect);
    expect *= p.batch_dims[d];
  }
  if (p.batch > 1 && b_shared && a_dense && !ta) {
    p.m *= p.batch;
    p.batch = 1;
    p.batch_rank = 0;
  }
  const SgemmImpl& impl = GetSgemmImpl(isa);
  // Batched GEMMs (attention's per-head products) split along the batch first, each tile
  // packing only its own matrices, so they afford the smaller tiles.
  const int64_t threads =
      ctx.options.threads > 0 ? ctx.options.threads : std::thread::hardware_concurrency();
  p.tiling = ChooseMatMulTiling(impl, p.batch, p.m, p.n, p.k, ctx.options,
                                p.batch >= 2 * std::max<int64_t>(threads, 1));
  ASSIGN_OR_RETURN(PreparedKernel kernel,
                   MakeKernel(ctx, GemmSymbolName("mat_mul", isa), p, p.tiling.slots));
  kernel.scratch_bytes = p.tiling.slots * p.tiling.slot_bytes;
  return kernel;
}

PrepareResult PreparePackedMatMul(const PrepareContext& ctx) {
  const Shape& a = ctx.inputs[0].shape;
  const Shape& packed = ctx.inputs[1].shape;
  const Shape& out = ctx.output().shape;
  const bool ta = ctx.node.bool_attr("transpose_a");
  MatMulParams p{};
  p.m = out.dim(out.rank() - 2);
  p.n = out.dim(out.rank() - 1);
  p.k = packed.dim(1);
  p.a_row = ta ? 1 : p.k;
  p.a_col = ta ? p.m : 1;
  p.batch = 1;
  for (int d = 0; d < a.rank() - 2; ++d) p.batch *= a.dim(d);
  if (ta) {
    // Batches of transposed A stay separate GEMMs over the one packed B.
    p.batch_rank = 1;
    p.batch_dims[0] = p.batch;
    p.a_batch_strides[0] = p.m * p.k;
    p.b_batch_strides[0] = 0;
  } else {
    // A's batches are consecutive rows, and so are C's: one taller GEMM.
    p.m *= p.batch;
    p.batch = 1;
  }
  ASSIGN_OR_RETURN(GemmIsa isa, ResolvePackedGemmIsa(ctx, packed.dim(2), "b_packed"));
  const SgemmImpl& impl = GetSgemmImpl(isa);
  p.isa = static_cast<int32_t>(isa);
  p.tiling = ChooseMatMulTiling(impl, p.batch, p.m, p.n, p.k, ctx.options, true);
  p.indirect = ctx.options.indirect_gemm && p.a_col == 1 && IndirectRowsFitL1(p.a_row * 4);
  ClampOf(ctx.node, &p.clamp, &p.clamp_min, &p.clamp_max);
  p.has_bias = ctx.inputs.size() >= 3;
  p.has_residual = ctx.inputs.size() == 4;
  // The indirect GEMM reads A in place: no scratch at all.
  p.tiling.slot_bytes =
      p.indirect ? 0 : SgemmScratchBytes(impl, p.tiling.tile_m, p.tiling.tile_n, p.k, true);
  ASSIGN_OR_RETURN(PreparedKernel kernel,
                   MakeKernel(ctx, GemmSymbolName("packed_mat_mul", isa), p, p.tiling.slots));
  kernel.scratch_bytes = p.tiling.slots * p.tiling.slot_bytes;
  return kernel;
}

}  // namespace kiln::cpu
