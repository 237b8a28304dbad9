// The one list of CPU kernels (TFLite's register.cc is the model): add a line here when an
// op gains a kernel. kernel_table_test checks it covers every op of the registry but Input.
#include "kernels/cpu/kernel_table.h"

#include <algorithm>
#include <iterator>

namespace kiln::cpu {
namespace {

// Sorted by op name (FindCpuKernel binary-searches it; kernel_table_test checks the order).
constexpr KernelTableEntry kTable[] = {
    {"Abs", PrepareUnary, kAbs},
    {"Add", PrepareBinary, kAdd},
    {"AvgPool", PreparePool, kAvgPool},
    {"BatchNorm", PrepareBatchNorm, 0},
    {"BiasAdd", PrepareBiasAdd, 0},
    {"Cast", PrepareCast, 0},
    {"Concat", PrepareConcat, 0},
    // Copies the weight into its output. The runtime should instead place constants in
    // the read-only weights region and bind consumers to it (no kernel at all).
    {"Constant", PrepareConstant, 0},
    {"Conv2D", PrepareConv2D, 0},
    {"Div", PrepareBinary, kDiv},
    {"Equal", PrepareCompare, kEqual},
    {"Erf", PrepareUnary, kErf},
    {"Exp", PrepareUnary, kExp},
    {"Flatten", PrepareCopy, 0},
    // "attention" clusters only (attention.h); CpuKernelProvider::RunsFusion says which.
    {"Fusion", PrepareFusion, 0},
    {"Gather", PrepareGather, 0},
    {"Gelu", PrepareUnary, kGelu},
    {"GlobalAvgPool", PrepareGlobalAvgPool, 0},
    {"Greater", PrepareCompare, kGreater},
    {"GreaterEqual", PrepareCompare, kGreaterEqual},
    // A copy (in place when the planner aliases it); planners may elide it entirely.
    {"Identity", PrepareCopy, 0},
    {"LayerNorm", PrepareLayerNorm, 0},
    {"Less", PrepareCompare, kLess},
    {"LessEqual", PrepareCompare, kLessEqual},
    {"Log", PrepareUnary, kLog},
    {"MatMul", PrepareMatMul, 0},
    {"MaxPool", PreparePool, kMaxPool},
    {"Maximum", PrepareBinary, kMaximum},
    {"Minimum", PrepareBinary, kMinimum},
    {"Mul", PrepareBinary, kMul},
    {"Neg", PrepareUnary, kNeg},
    {"NotEqual", PrepareCompare, kNotEqual},
    {"PackedConv2D", PreparePackedConv2D, 0},
    {"PackedMatMul", PreparePackedMatMul, 0},
    {"Pad", PreparePad, 0},
    {"Pow", PrepareBinary, kPow},
    {"ReduceMax", PrepareReduce, kReduceMax},
    {"ReduceMean", PrepareReduce, kReduceMean},
    {"ReduceSum", PrepareReduce, kReduceSum},
    {"Relu", PrepareUnary, kRelu},
    {"Reshape", PrepareCopy, 0},
    {"Rsqrt", PrepareUnary, kRsqrt},
    {"Sigmoid", PrepareUnary, kSigmoid},
    {"Slice", PrepareSlice, 0},
    {"Softmax", PrepareSoftmax, 0},
    {"Sqrt", PrepareUnary, kSqrt},
    {"Sub", PrepareBinary, kSub},
    {"Tanh", PrepareUnary, kTanh},
    {"Transpose", PrepareTranspose, 0},
    {"Where", PrepareWhere, 0},
    {"WinogradConv2D", PrepareWinogradConv2D, 0},
};

}  // namespace

absl::Span<const KernelTableEntry> CpuKernelTable() { return kTable; }

const KernelTableEntry* FindCpuKernel(absl::string_view op) {
  const KernelTableEntry* end = std::end(kTable);
  const KernelTableEntry* it = std::lower_bound(
      std::begin(kTable), end, op,
      [](const KernelTableEntry& e, absl::string_view name) { return e.op < name; });
  return it != end && it->op == op ? it : nullptr;
}

}  // namespace kiln::cpu
