// MatMul: f32 through the packed GEMM (gemm.h), each workgroup computing whole output
// tiles with its own packing scratch; other dtypes through a plain row-times-panel loop
// that accumulates in f32 (f16, bf16), f64 or wrapping 64-bit integers. Transposes and
// broadcast batch dimensions are strides in the params.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/cpu_kernel_library.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernel_util.h"
#include "kernels/cpu/params.h"

namespace kiln::cpu {
namespace {

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

// kPackedB: operand 1 is b packed once in column panels of the GEMM's nr (PackBPanels);
// every tile starts at a multiple of nr columns (matmul_tiling.cc), so its panels follow.
template <bool kPackedB>
int32_t MatMulF32(const kiln_kernel_call* call, int64_t workgroup, int64_t workgroups) {
  const MatMulParams& p = ParamsOf<MatMulParams>(call);
  const MatMulTiling& t = p.tiling;
  const float* a = Operand<float>(call, 0);
  const float* b = Operand<float>(call, 1);
  int operand = 2;
  const float* bias = p.has_bias ? Operand<float>(call, operand++) : nullptr;
  const float* residual = p.has_residual ? Operand<float>(call, operand++) : nullptr;
  float* c = MutableOperand<float>(call, operand);
  // The indirect GEMM takes no scratch operand.
  float* scratch = p.indirect ? nullptr
                              : reinterpret_cast<float*>(MutableOperand<char>(call, operand + 1) +
                                                         (workgroup % t.slots) * t.slot_bytes);
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
    if (kPackedB && p.indirect) {
      // Rows of A contiguous: the indirect GEMM reads them in place (one tap), no packing.
      IgemmArgs g;
      g.m = std::min(t.tile_m, p.m - i0);
      g.n = std::min(t.tile_n, p.n - j0);
      g.tap_k = p.k;
      g.a = a + a_offset + i0 * p.a_row;
      g.a_row = p.a_row;
      g.b_packed = b + (j0 / impl.blocking.nr) * p.k * impl.blocking.nr;
      g.c = c + batch * p.m * p.n + i0 * p.n + j0;
      g.ldc = p.n;
      g.bias = bias != nullptr ? bias + j0 : nullptr;
      g.residual = residual != nullptr ? residual + (g.c - c) : nullptr;
      g.clamp = p.clamp != 0;
      g.clamp_min = p.clamp_min;
      g.clamp_max = p.clamp_max;
      impl.igemm(g);
      continue;
    }
    SgemmArgs g;
    g.m = std::min(t.tile_m, p.m - i0);
    g.n = std::min(t.tile_n, p.n - j0);
    g.k = p.k;
    g.a = a + a_offset + i0 * p.a_row;
    g.a_row = p.a_row;
    g.a_col = p.a_col;
    if constexpr (kPackedB) {
      g.b_packed = b + (j0 / impl.blocking.nr) * p.k * impl.blocking.nr;
    } else {
      g.b = b + b_offset + j0 * p.b_col;
      g.b_row = p.b_row;
      g.b_col = p.b_col;
    }
    g.c = c + batch * p.m * p.n + i0 * p.n + j0;
    g.ldc = p.n;
    if (bias != nullptr) {
      // Start from the bias and accumulate the product onto it.
      for (int64_t i = 0; i < g.m; ++i) {
        for (int64_t j = 0; j < g.n; ++j) g.c[i * g.ldc + j] = bias[j0 + j];
      }
      g.accumulate = true;
    }
    impl.run(g, scratch);
    if (p.clamp || residual != nullptr) {
      EpilogueRows(g.c, g.m, g.n, g.ldc, residual != nullptr ? residual + (g.c - c) : nullptr,
                   p.clamp != 0, p.clamp_min, p.clamp_max);
    }
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

void AddMatMulKernels(SymbolList& list) {
  for (GemmIsa isa : kGemmIsas) {
    list.Add<MatMulParams>(GemmSymbolName("mat_mul", isa), &MatMulF32<false>,
                           GemmIsaCpuFeatures(isa));
    list.Add<MatMulParams>(GemmSymbolName("packed_mat_mul", isa), &MatMulF32<true>,
                           GemmIsaCpuFeatures(isa));
  }
  list.AddPerType<MatMulParams>("mat_mul", GenericFn);
}

}  // namespace kiln::cpu
