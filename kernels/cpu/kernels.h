// Prepare functions of every CPU kernel family, one .cc file per family. The kernel table
// (kernel_table.cc) maps op names to these; `variant` selects the op within a family.
#ifndef KILN_KERNELS_CPU_KERNELS_H_
#define KILN_KERNELS_CPU_KERNELS_H_

#include "absl/status/statusor.h"
#include "kernels/kernel_provider.h"
#include "base/status_macros.h"
#include "kernels/cpu/params.h"
#include "kernels/cpu/prepare_util.h"

namespace kiln::cpu {

using PrepareResult = absl::StatusOr<PreparedKernel>;

// elementwise.cc
enum BinaryVariant { kAdd, kSub, kMul, kDiv, kPow, kMaximum, kMinimum };
enum CompareVariant { kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual };
enum UnaryVariant {
  kNeg, kAbs, kRelu, kExp, kLog, kSqrt, kRsqrt, kTanh, kSigmoid, kErf, kGelu
};
PrepareResult PrepareBinary(const PrepareContext& ctx);
PrepareResult PrepareCompare(const PrepareContext& ctx);
PrepareResult PrepareWhere(const PrepareContext& ctx);
PrepareResult PrepareUnary(const PrepareContext& ctx);

// cast.cc
PrepareResult PrepareCast(const PrepareContext& ctx);

// matmul.cc
PrepareResult PrepareMatMul(const PrepareContext& ctx);
PrepareResult PreparePackedMatMul(const PrepareContext& ctx);
PrepareResult PreparePackedConv2D(const PrepareContext& ctx);

// conv.cc
PrepareResult PrepareConv2D(const PrepareContext& ctx);

// winograd_conv.cc
PrepareResult PrepareWinogradConv2D(const PrepareContext& ctx);
// The output tile edge (4 or 2) of the Winograd F(m x m, 3x3) that runs a 3x3 stride-1
// convolution with this output (NHWC; an unknown batch counts as 1) faster than the GEMM,
// or 0: enough tiles to amortize the transformed filter's larger bytes, filled enough to
// save multiplications, and at least 16 output channels.
int WinogradTilePays(const Node& conv);

// pool.cc
enum PoolVariant { kMaxPool, kAvgPool };
PrepareResult PreparePool(const PrepareContext& ctx);
PrepareResult PrepareGlobalAvgPool(const PrepareContext& ctx);

// normalization.cc
PrepareResult PrepareSoftmax(const PrepareContext& ctx);
PrepareResult PrepareLayerNorm(const PrepareContext& ctx);
PrepareResult PrepareBatchNorm(const PrepareContext& ctx);
PrepareResult PrepareBiasAdd(const PrepareContext& ctx);

// reduction.cc
PrepareResult PrepareReduce(const PrepareContext& ctx);

// shape_ops.cc
PrepareResult PrepareCopy(const PrepareContext& ctx);  // Identity, Reshape, Flatten
PrepareResult PrepareTranspose(const PrepareContext& ctx);
PrepareResult PrepareConcat(const PrepareContext& ctx);
PrepareResult PrepareSlice(const PrepareContext& ctx);
PrepareResult PrepareGather(const PrepareContext& ctx);
PrepareResult PreparePad(const PrepareContext& ctx);

// source.cc
PrepareResult PrepareConstant(const PrepareContext& ctx);

// attention_prepare.cc: "attention" Fusion nodes (attention.h); other kinds are
// kUnimplemented.
PrepareResult PrepareFusion(const PrepareContext& ctx);

}  // namespace kiln::cpu

#endif  // KILN_KERNELS_CPU_KERNELS_H_
