// Scaled dot-product attention as one kernel (an "attention" Fusion): per batch element
// (batch dims, then heads) and block of query rows, the scores Q K^T go into a scratch
// block that stays in cache, take the scale and mask in the body's order, become
// probabilities row by row, and are multiplied by V straight into the output. Q, K, V,
// the mask and the output are read and written in place through strides
// (AttentionParams), so the head split and merge transposes around the body never
// run, and the [S, S] scores never reach memory. Both products run on the packing GEMM
// (gemm.h), which reads any strides.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_kernel_library.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/cpu/params.h"
#include "kernels/cpu/row_math.h"

namespace kiln::cpu {
namespace {

int64_t BatchOffset(const AttentionParams& p, const AttentionOperand& o, int64_t index) {
  int64_t offset = 0;
  for (int d = p.batch_rank - 1; d >= 0; --d) {
    offset += (index % p.batch_dims[d]) * o.batch[d];
    index /= p.batch_dims[d];
  }
  return offset;
}

// Applies the scale and the mask (in the body's order, each rounded as the body's op) to
// one row of scores, then softmax over it in place.
__attribute__((always_inline)) inline void ProbabilitiesRow(const AttentionParams& p,
                                                            const float* mask_row, float* row) {
  for (int32_t step : p.steps) {
    switch (step) {
      case AttentionParams::kMultiply:
        for (int64_t j = 0; j < p.skv; ++j) row[j] *= p.scale;
        break;
      case AttentionParams::kDivide:
        for (int64_t j = 0; j < p.skv; ++j) row[j] /= p.scale;
        break;
      case AttentionParams::kAddMask:
        if (p.mask.col == 1) {
          for (int64_t j = 0; j < p.skv; ++j) row[j] += mask_row[j];
        } else {
          for (int64_t j = 0; j < p.skv; ++j) row[j] += mask_row[j * p.mask.col];
        }
        break;
      default:
        break;
    }
  }
  SoftmaxRowF32(row, row, p.skv);
}

// Inlined into each entry point below, so it compiles once per instruction set.
__attribute__((always_inline)) inline int32_t AttentionBody(const kiln_kernel_call* call,
                                                           int64_t workgroup,
                                                           int64_t workgroups) {
  const AttentionParams& p = ParamsOf<AttentionParams>(call);
  const float* q = Operand<float>(call, p.q_operand);
  const float* k = Operand<float>(call, p.k_operand);
  const float* v = Operand<float>(call, p.v_operand);
  const float* mask = p.has_mask ? Operand<float>(call, p.mask_operand) : nullptr;
  float* out = MutableOperand<float>(call, p.out_operand);
  char* slot =
      MutableOperand<char>(call, p.out_operand + 1) + (workgroup % p.slots) * p.slot_bytes;
  float* scores = reinterpret_cast<float*>(slot);
  float* packing = reinterpret_cast<float*>(slot + p.scores_bytes);
  const SgemmImpl& impl = GetSgemmImpl(static_cast<GemmIsa>(p.isa));
  const WorkRange range = SplitWork(p.batch * p.row_blocks, workgroup, workgroups);
  for (int64_t item = range.begin; item < range.end; ++item) {
    const int64_t b = item / p.row_blocks;
    const int64_t i0 = (item % p.row_blocks) * p.row_block;
    const int64_t rows = std::min(p.row_block, p.sq - i0);
    float* o = out + BatchOffset(p, p.out, b) + i0 * p.out.row;
    if (p.skv == 0) {
      // No keys: every probability row is empty and the product is zero.
      for (int64_t i = 0; i < rows; ++i) std::memset(o + i * p.out.row, 0, p.dv * sizeof(float));
      continue;
    }
    if (p.d == 0) {
      std::memset(scores, 0, rows * p.skv * sizeof(float));
    } else {
      SgemmArgs s;
      s.m = rows;
      s.n = p.skv;
      s.k = p.d;
      s.a = q + BatchOffset(p, p.q, b) + i0 * p.q.row;
      s.a_row = p.q.row;
      s.a_col = p.q.col;
      s.b = k + BatchOffset(p, p.k, b);
      s.b_row = p.k.row;
      s.b_col = p.k.col;
      s.c = scores;
      s.ldc = p.skv;
      impl.run(s, packing);
    }
    const float* mask_block = mask != nullptr ? mask + BatchOffset(p, p.mask, b) + i0 * p.mask.row
                                              : nullptr;
    for (int64_t i = 0; i < rows; ++i) {
      ProbabilitiesRow(p, mask_block != nullptr ? mask_block + i * p.mask.row : nullptr,
                       scores + i * p.skv);
    }
    if (p.dv == 0) continue;
    SgemmArgs y;
    y.m = rows;
    y.n = p.dv;
    y.k = p.skv;
    y.a = scores;
    y.a_row = p.skv;
    y.a_col = 1;
    y.b = v + BatchOffset(p, p.v, b);
    y.b_row = p.v.row;
    y.b_col = p.v.col;
    y.c = o;
    y.ldc = p.out.row;
    impl.run(y, packing);
  }
  return KILN_KERNEL_OK;
}

int32_t AttentionF32(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  return AttentionBody(call, workgroup, workgroups);
}

// The softmax rows vectorized for AVX2 + FMA or AVX-512 (the GEMMs choose their own
// code): 16 lanes halve the instructions of the exponentials.
__attribute__((target("avx2,fma"))) int32_t AttentionF32Avx2(const kiln_kernel_call* call,
                                                             int64_t workgroup,
                                                             int64_t workgroups) {
  return AttentionBody(call, workgroup, workgroups);
}
__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))) int32_t AttentionF32Avx512(
    const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  return AttentionBody(call, workgroup, workgroups);
}

}  // namespace

void AddAttentionKernels(SymbolList& list) {
  for (GemmIsa isa : kGemmIsas) {
    const kiln_kernel_fn fn = isa == GemmIsa::kAvx512 ? &AttentionF32Avx512
                              : isa == GemmIsa::kAvx2 ? &AttentionF32Avx2
                                                      : &AttentionF32;
    list.Add<AttentionParams>(GemmSymbolName("attention", isa), fn, GemmIsaCpuFeatures(isa));
  }
}

}  // namespace kiln::cpu
