// The one table of ONNX op converters: op type, the default-domain opsets at which the
// converter applies, the converter, and for generic converters the Kiln op. A row's
// first opset is the version of the op whose semantics the converter implements (Sin
// unchanged since 7; Softmax's coercion to 2-D until 12, one axis from 13); later
// versions that only added types share the row. docs/onnx.md describes each mapping.
#include "graph/onnx/onnx_converter.h"

#include <algorithm>

namespace kiln::onnx_import {
namespace {

constexpr int kMax = static_cast<int>(kOnnxMaxOpset);

std::vector<OpConverter> BuildTable() {
  std::vector<OpConverter> table = {
      // Elementwise, one ONNX op onto one Kiln op.
      {"Abs", 6, kMax, ConvertUnary, "Abs"},
      {"Acos", 7, kMax, ConvertUnary, "Acos"},
      {"Acosh", 9, kMax, ConvertUnary, "Acosh"},
      {"Asin", 7, kMax, ConvertUnary, "Asin"},
      {"Asinh", 9, kMax, ConvertUnary, "Asinh"},
      {"Atan", 7, kMax, ConvertUnary, "Atan"},
      {"Atanh", 9, kMax, ConvertUnary, "Atanh"},
      {"Ceil", 6, kMax, ConvertUnary, "Ceil"},
      {"Cos", 7, kMax, ConvertUnary, "Cos"},
      {"Cosh", 9, kMax, ConvertUnary, "Cosh"},
      {"Erf", 9, kMax, ConvertUnary, "Erf"},
      {"Exp", 6, kMax, ConvertUnary, "Exp"},
      {"Floor", 6, kMax, ConvertUnary, "Floor"},
      {"IsNaN", 9, kMax, ConvertUnary, "IsNaN"},
      {"Log", 6, kMax, ConvertUnary, "Log"},
      {"Neg", 6, kMax, ConvertUnary, "Neg"},
      {"Not", 1, kMax, ConvertUnary, "Not"},
      {"Relu", 6, kMax, ConvertUnary, "Relu"},
      {"Round", 11, kMax, ConvertUnary, "Round"},
      {"Sigmoid", 6, kMax, ConvertUnary, "Sigmoid"},
      {"Sign", 9, kMax, ConvertUnary, "Sign"},
      {"Sin", 7, kMax, ConvertUnary, "Sin"},
      {"Sinh", 9, kMax, ConvertUnary, "Sinh"},
      {"Softplus", 1, kMax, ConvertUnary, "Softplus"},
      {"Sqrt", 6, kMax, ConvertUnary, "Sqrt"},
      {"Tan", 7, kMax, ConvertUnary, "Tan"},
      {"Tanh", 6, kMax, ConvertUnary, "Tanh"},
      {"Add", 7, kMax, ConvertBinary, "Add"},
      {"And", 7, kMax, ConvertBinary, "And"},
      {"Div", 7, kMax, ConvertBinary, "Div"},
      {"Equal", 7, kMax, ConvertBinary, "Equal"},
      {"Greater", 7, kMax, ConvertBinary, "Greater"},
      {"GreaterOrEqual", 12, kMax, ConvertBinary, "GreaterEqual"},
      {"Less", 7, kMax, ConvertBinary, "Less"},
      {"LessOrEqual", 12, kMax, ConvertBinary, "LessEqual"},
      {"Mul", 7, kMax, ConvertBinary, "Mul"},
      {"Or", 7, kMax, ConvertBinary, "Or"},
      {"Sub", 7, kMax, ConvertBinary, "Sub"},
      {"Xor", 7, kMax, ConvertBinary, "Xor"},
      {"Max", 8, kMax, ConvertVariadic, "Maximum"},
      {"Min", 8, kMax, ConvertVariadic, "Minimum"},
      {"Sum", 8, kMax, ConvertVariadic, "Add"},
      {"Mean", 8, kMax, ConvertMean},
      {"Pow", 7, kMax, ConvertPow},
      {"Mod", 10, kMax, ConvertMod},
      {"Reciprocal", 6, kMax, ConvertReciprocal},
      {"Cast", 6, kMax, ConvertCast},
      {"CastLike", 15, kMax, ConvertCastLike},
      {"Clip", 6, kMax, ConvertClip},
      {"Where", 9, kMax, ConvertWhere},
      {"BitShift", 11, kMax, ConvertBitShift},
      {"Det", 11, kMax, ConvertUnary, "Det"},
      {"Identity", 1, kMax, ConvertIdentity},
      {"IsInf", 10, kMax, ConvertIsInf},
      {"PRelu", 9, kMax, ConvertPRelu},
      // Activations decomposed into Where / Maximum / Minimum and arithmetic.
      {"Celu", 12, kMax, ConvertActivation},
      {"Elu", 6, kMax, ConvertActivation},
      {"HardSigmoid", 6, kMax, ConvertActivation},
      {"HardSwish", 14, kMax, ConvertActivation},
      {"LeakyRelu", 6, kMax, ConvertActivation},
      {"Selu", 6, kMax, ConvertActivation},
      {"Shrink", 9, kMax, ConvertActivation},
      {"Softsign", 1, kMax, ConvertActivation},
      {"ThresholdedRelu", 10, kMax, ConvertActivation},
      // Neural-network ops.
      {"AveragePool", 7, kMax, ConvertPool},
      {"BatchNormalization", 7, kMax, ConvertBatchNormalization},
      {"Conv", 1, kMax, ConvertConv},
      {"ConvTranspose", 1, kMax, ConvertConvTranspose},
      {"Dropout", 7, kMax, ConvertDropout},
      {"Einsum", 12, kMax, ConvertEinsum},
      {"Gemm", 7, kMax, ConvertGemm},
      {"GlobalAveragePool", 1, kMax, ConvertGlobalPool},
      {"GlobalMaxPool", 1, kMax, ConvertGlobalPool},
      {"Hardmax", 1, kMax, ConvertSoftmax},
      {"InstanceNormalization", 6, kMax, ConvertInstanceNormalization},
      {"LayerNormalization", 17, kMax, ConvertLayerNormalization},
      {"LogSoftmax", 1, kMax, ConvertSoftmax},
      {"LRN", 1, kMax, ConvertLrn},
      {"MatMul", 1, kMax, ConvertMatMul},
      {"MaxPool", 8, kMax, ConvertPool},
      {"MeanVarianceNormalization", 9, kMax, ConvertMeanVarianceNormalization},
      {"Softmax", 1, kMax, ConvertSoftmax},
      // Losses (inference of their values; no gradients).
      {"NegativeLogLikelihoodLoss", 13, kMax, ConvertNegativeLogLikelihoodLoss},
      {"SoftmaxCrossEntropyLoss", 13, kMax, ConvertSoftmaxCrossEntropyLoss},
      // Linear quantization, decomposed (integer products exact in f64).
      {"ConvInteger", 10, kMax, ConvertConvInteger},
      {"DequantizeLinear", 10, kMax, ConvertDequantizeLinear},
      {"DynamicQuantizeLinear", 11, kMax, ConvertDynamicQuantizeLinear},
      {"MatMulInteger", 10, kMax, ConvertMatMulInteger},
      {"QLinearConv", 10, kMax, ConvertQLinearConv},
      {"QLinearMatMul", 10, kMax, ConvertQLinearMatMul},
      {"QuantizeLinear", 10, kMax, ConvertQuantizeLinear},
      // Recurrent ops, unrolled over the static sequence length.
      {"GRU", 7, kMax, ConvertRecurrent},
      {"LSTM", 7, kMax, ConvertRecurrent},
      {"RNN", 7, kMax, ConvertRecurrent},
      // Reductions.
      {"ArgMax", 11, kMax, ConvertArgMinMax},
      {"ArgMin", 11, kMax, ConvertArgMinMax},
      {"CumSum", 11, kMax, ConvertCumSum},
      {"ReduceL1", 11, kMax, ConvertReduce},
      {"ReduceL2", 11, kMax, ConvertReduce},
      {"ReduceLogSum", 11, kMax, ConvertReduce},
      {"ReduceLogSumExp", 11, kMax, ConvertReduce},
      {"ReduceMax", 11, kMax, ConvertReduce},
      {"ReduceMean", 11, kMax, ConvertReduce},
      {"ReduceMin", 11, kMax, ConvertReduce},
      {"ReduceProd", 11, kMax, ConvertReduce},
      {"ReduceSum", 11, kMax, ConvertReduce},
      {"ReduceSumSquare", 11, kMax, ConvertReduce},
      // Constants, shapes and data movement.
      {"Concat", 11, kMax, ConvertConcat},
      {"Constant", 1, kMax, ConvertConstant},
      {"ConstantOfShape", 9, kMax, ConvertConstantOfShape},
      {"DepthToSpace", 11, kMax, ConvertDepthToSpace},
      {"Expand", 8, kMax, ConvertExpand},
      {"EyeLike", 9, kMax, ConvertEyeLike},
      {"Flatten", 11, kMax, ConvertFlatten},
      {"Gather", 11, kMax, ConvertGather},
      {"GatherElements", 11, kMax, ConvertGatherElements},
      {"GatherND", 12, kMax, ConvertGatherND},
      {"Scatter", 9, 10, ConvertScatter},
      {"ScatterElements", 11, kMax, ConvertScatter},
      {"ScatterND", 11, kMax, ConvertScatter},
      {"TopK", 10, kMax, ConvertTopK},
      {"Upsample", 9, 9, ConvertUpsample},
      {"OneHot", 11, kMax, ConvertOneHot},
      {"Pad", 2, kMax, ConvertPad},
      {"Range", 11, kMax, ConvertRange},
      {"BlackmanWindow", 17, kMax, ConvertWindow},
      {"HammingWindow", 17, kMax, ConvertWindow},
      {"HannWindow", 17, kMax, ConvertWindow},
      {"Reshape", 5, kMax, ConvertReshape},
      {"ReverseSequence", 10, kMax, ConvertReverseSequence},
      {"Resize", 11, kMax, ConvertResize},
      {"Shape", 1, kMax, ConvertShape},
      {"Size", 1, kMax, ConvertSize},
      {"Slice", 1, kMax, ConvertSlice},
      {"SpaceToDepth", 1, kMax, ConvertSpaceToDepth},
      {"Split", 2, kMax, ConvertSplit},
      {"Squeeze", 1, kMax, ConvertSqueeze},
      {"Tile", 6, kMax, ConvertTile},
      {"Transpose", 1, kMax, ConvertTranspose},
      {"Trilu", 14, kMax, ConvertTrilu},
      {"Unsqueeze", 1, kMax, ConvertUnsqueeze},
  };
  std::sort(table.begin(), table.end(), [](const OpConverter& a, const OpConverter& b) {
    return a.op_type != b.op_type ? a.op_type < b.op_type : a.first_opset < b.first_opset;
  });
  return table;
}

}  // namespace

const std::vector<OpConverter>& OpTable() {
  static const std::vector<OpConverter>* table = new std::vector<OpConverter>(BuildTable());
  return *table;
}

}  // namespace kiln::onnx_import
