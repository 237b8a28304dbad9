// MatMul: f32 through the packed GEMM (gemm.h), each workgroup computing whole output
// tiles with its own packing scratch; other dtypes through a plain row-times-panel loop
// that accumulates in f32 (f16, bf16), f64 or wrapping 64-bit integers. Transposes and
// broadcast batch dimensions are strides in the params.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/matmul_tiling.h"

namespace kiln::cpu {
namespace {

constexpr int kMaxBatchRank = kMaxRank - 2;

struct MatMulParams {
  int64_t m;
  int64_t n;
  int64_t k;
  // Strides of element (i, p) of A and (p, j) of B within one matrix.
  int64_t a_row;
  int64_t a_col;
  int64_t b_row;
  int64_t b_col;
  // Output batch dimensions and each input's stride per batch dimension (0: broadcast).
  int64_t batch;
  int32_t batch_rank;
  int32_t isa;  // GemmIsa of the f32 path
  int64_t batch_dims[kMaxBatchRank];
  int64_t a_batch_strides[kMaxBatchRank];
  int64_t b_batch_strides[kMaxBatchRank];
  MatMulTiling tiling;
};

// Offsets of batch element `index`'s A and B matrices.
void BatchOffsets(const MatMulParams& p, int64_t index, int64_t* a_offset, int64_t* b_offset) {
  int64_t a = 0;
  int64_t b = 0;
  for (int d = p.batch_rank - 1; d >= 0; --d) {
    const int64_t coord = index % p.batch_dims[d];
    index /= p.batch_dims[d];
    a += coord * p.a_batch_strides[d];
    b += coord * p.b_batch_strides[d];
  }
  *a_offset = a;
  *b_offset = b;
}

int32_t MatMulF32(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  const MatMulParams& p = ParamsOf<MatMulParams>(call);
  const MatMulTiling& t = p.tiling;
  const float* a = Operand<float>(call, 0);
  const float* b = Operand<float>(call, 1);
  float* c = MutableOperand<float>(call, 2);
  char* scratch_base = MutableOperand<char>(call, 3);
  float* scratch = reinterpret_cast<float*>(scratch_base + (workgroup % t.slots) * t.slot_bytes);
  const SgemmImpl& impl = GetSgemmImpl(static_cast<GemmIsa>(p.isa));
  const int64_t per_batch = t.tiles_m * t.tiles_n;
  const WorkRange range = SplitWork(p.batch * per_batch, workgroup, workgroups);
  for (int64_t tile = range.begin; tile < range.end; ++tile) {
    const int64_t batch = tile / per_batch;
    const int64_t rest = tile % per_batch;
    const int64_t i0 = (rest / t.tiles_n) * t.tile_m;
    const int64_t j0 = (rest % t.tiles_n) * t.tile_n;
    int64_t a_offset;
    int64_t b_offset;
    BatchOffsets(p, batch, &a_offset, &b_offset);
    SgemmArgs g;
    g.m = std::min(t.tile_m, p.m - i0);
    g.n = std::min(t.tile_n, p.n - j0);
    g.k = p.k;
    g.a = a + a_offset + i0 * p.a_row;
    g.a_row = p.a_row;
    g.a_col = p.a_col;
    g.b = b + b_offset + j0 * p.b_col;
    g.b_row = p.b_row;
    g.b_col = p.b_col;
    g.c = c + batch * p.m * p.n + i0 * p.n + j0;
    g.ldc = p.n;
    impl.run(g, scratch);
  }
  return KILN_KERNEL_OK;
}

// Accumulator of the generic path: f32 for f16/bf16, the type itself for f32/f64, and
// uint64 for integers (wrapping, narrowed on store like the reference).
template <typename T>
using AccOf = std::conditional_t<kIsFloatElem<T>, ComputeOf<T>, uint64_t>;

template <typename T>
int32_t MatMulGeneric(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  using Acc = AccOf<T>;
  const MatMulParams& p = ParamsOf<MatMulParams>(call);
  const T* a = Operand<T>(call, 0);
  const T* b = Operand<T>(call, 1);
  T* c = MutableOperand<T>(call, 2);
  constexpr int64_t kBlock = 64;
  const WorkRange range = SplitWork(p.batch * p.m, workgroup, workgroups);
  for (int64_t row = range.begin; row < range.end; ++row) {
    const int64_t batch = row / p.m;
    const int64_t i = row % p.m;
    int64_t a_offset;
    int64_t b_offset;
    BatchOffsets(p, batch, &a_offset, &b_offset);
    const T* a_row = a + a_offset + i * p.a_row;
    T* c_row = c + batch * p.m * p.n + i * p.n;
    for (int64_t j0 = 0; j0 < p.n; j0 += kBlock) {
      const int64_t cols = std::min(kBlock, p.n - j0);
      Acc acc[kBlock] = {};
      for (int64_t q = 0; q < p.k; ++q) {
        Acc av;
        if constexpr (kIsFloatElem<T>) {
          av = Elem<T>::Load(a_row[q * p.a_col]);
        } else {
          av = static_cast<Acc>(static_cast<int64_t>(a_row[q * p.a_col]));
        }
        const T* b_row = b + b_offset + q * p.b_row + j0 * p.b_col;
        for (int64_t j = 0; j < cols; ++j) {
          if constexpr (kIsFloatElem<T>) {
            acc[j] += av * Elem<T>::Load(b_row[j * p.b_col]);
          } else {
            acc[j] += av * static_cast<Acc>(static_cast<int64_t>(b_row[j * p.b_col]));
          }
        }
      }
      for (int64_t j = 0; j < cols; ++j) {
        if constexpr (kIsFloatElem<T>) {
          c_row[j0 + j] = Elem<T>::Store(acc[j]);
        } else {
          c_row[j0 + j] = static_cast<T>(acc[j]);
        }
      }
    }
  }
  return KILN_KERNEL_OK;
}

kiln_kernel_fn GenericFn(DataType dtype) {
  switch (dtype) {
    case DataType::kF64: return &MatMulGeneric<double>;
    case DataType::kF16: return &MatMulGeneric<Half>;
    case DataType::kBF16: return &MatMulGeneric<BFloat16>;
    case DataType::kI8: return &MatMulGeneric<int8_t>;
    case DataType::kU8: return &MatMulGeneric<uint8_t>;
    case DataType::kI32: return &MatMulGeneric<int32_t>;
    case DataType::kI64: return &MatMulGeneric<int64_t>;
    default: return nullptr;
  }
}

}  // namespace

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
    kiln_kernel_fn fn = GenericFn(dtype);
    if (fn == nullptr) return UnsupportedDtype(node, dtype);
    // Rows of at least ~1M multiply-adds per workgroup.
    const int64_t row_work = std::max<int64_t>(1, p.n * std::max<int64_t>(p.k, 1));
    const int64_t groups = outputs == 0 ? 1 : WorkgroupsFor(p.batch * p.m, (1 << 20) / row_work + 1);
    return MakeKernel(fn, p, groups, KernelName(node, dtype));
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
  p.tiling = ChooseMatMulTiling(impl, p.batch, p.m, p.n, p.k, ctx.options);
  PreparedKernel kernel =
      MakeKernel(&MatMulF32, p, p.tiling.slots, absl::StrCat("cpu.mat_mul_f32_", GemmIsaName(isa)));
  kernel.scratch_bytes = p.tiling.slots * p.tiling.slot_bytes;
  return kernel;
}

}  // namespace kiln::cpu
