// What an ONNX op converter sees and uses: the node's inputs (Kiln tensors, with their
// constant values when known), its attributes (read with ONNX defaults, each read marking
// the attribute handled), and an emitter of Kiln ops that folds constants as it goes.
// Internal to the importer; converters live in onnx_ops_*.cc and are listed in the one
// table of onnx_op_table.cc.
#ifndef KILN_GRAPH_ONNX_ONNX_CONVERTER_H_
#define KILN_GRAPH_ONNX_ONNX_CONVERTER_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/attr.h"
#include "graph/graph.h"
#include "graph/onnx/onnx_importer.h"
#include "base/tensor.h"
#include "onnx/onnx-ml.pb.h"

namespace kiln::onnx_import {

class ImportState;  // onnx_importer.cc: the graph being built and the ONNX name map

class NodeContext;
using ConvertFn = absl::Status (*)(NodeContext& ctx);

// One row of the op table: `convert` handles `op_type` in models whose default-domain
// opset is in [first_opset, last_opset]. `kiln_op` parameterizes the generic converters
// (one ONNX op mapped onto one Kiln op); empty otherwise.
struct OpConverter {
  absl::string_view op_type;
  int first_opset;
  int last_opset;
  ConvertFn convert;
  absl::string_view kiln_op = "";
};

// The op table (onnx_op_table.cc), sorted by op type, then first_opset.
const std::vector<OpConverter>& OpTable();
// The row for `op_type` at `opset`, or null.
const OpConverter* FindConverter(absl::string_view op_type, int64_t opset);

class NodeContext {
 public:
  NodeContext(ImportState& state, const onnx::NodeProto& node, const OpConverter& converter,
              int64_t opset, std::string name);

  const onnx::NodeProto& node() const { return node_; }
  const OpConverter& converter() const { return converter_; }
  int64_t opset() const { return opset_; }
  // Base for the names of emitted Kiln nodes (the sanitized ONNX node name).
  const std::string& name() const { return name_; }

  // ------------------------------------------------------------------------ inputs
  // Number of inputs listed (absent optional inputs, named "", included).
  int num_inputs() const { return node_.input_size(); }
  bool HasInput(int i) const { return i < node_.input_size() && !node_.input(i).empty(); }
  // Input i; an error naming it when absent.
  absl::StatusOr<TensorRef> Input(int i) const;
  const TensorType& Type(TensorRef ref) const;
  DataType Dtype(TensorRef ref) const { return Type(ref).dtype; }
  const Shape& ShapeOf(TensorRef ref) const { return Type(ref).shape; }
  // The value of `ref` when it is a constant (initializer, Constant node, folded), else null.
  const Tensor* ConstantValue(TensorRef ref) const;
  // Input i's value; UnimplementedError when it is computed at run time ("input 1
  // ('shape') of Reshape must be a constant: Kiln shapes are static"), with the
  // kOnnxNeedsConstantPayload payload naming the graph inputs it is computed from.
  absl::StatusOr<Tensor> ConstantInput(int i, absl::string_view role) const;
  // ConstantInput of an integer tensor as int64 values.
  absl::StatusOr<std::vector<int64_t>> ConstantInts(int i, absl::string_view role) const;

  // -------------------------------------------------------------------- attributes
  // Readers return the ONNX default when the attribute is absent, and mark it handled.
  // A present attribute of another type is InvalidArgumentError naming it.
  bool HasAttr(absl::string_view name) const;
  absl::StatusOr<int64_t> Int(absl::string_view name, int64_t default_value);
  absl::StatusOr<int64_t> RequiredInt(absl::string_view name);
  absl::StatusOr<double> Float(absl::string_view name, double default_value);
  absl::StatusOr<std::string> String(absl::string_view name, absl::string_view default_value);
  absl::StatusOr<std::vector<int64_t>> Ints(absl::string_view name,
                                            std::vector<int64_t> default_value = {});
  absl::StatusOr<std::vector<double>> Floats(absl::string_view name);
  // The attribute of type TENSOR; nullopt when absent.
  absl::StatusOr<std::optional<Tensor>> TensorAttr(absl::string_view name);
  // Marks an attribute handled without reading it (ONNX attributes with no effect here).
  void Ignore(absl::string_view name) { handled_.insert(std::string(name)); }
  // Names of attributes present on the node that no reader handled.
  std::vector<std::string> UnhandledAttrs() const;

  // ----------------------------------------------------------------------- outputs
  int num_outputs() const { return node_.output_size(); }
  // True when output i exists and has a name (ONNX leaves unused optional outputs "").
  bool OutputUsed(int i) const { return i < node_.output_size() && !node_.output(i).empty(); }
  // Binds ONNX output i to `ref`; unnamed outputs are dropped.
  absl::Status SetOutput(int i, TensorRef ref);

  // ---------------------------------------------------------------------- emitting
  // Adds a Kiln node (named after this ONNX node) and infers its types; when every input
  // is a constant the node is evaluated by its reference kernel and a Constant is added
  // instead. Errors are those of Kiln's shape functions.
  absl::StatusOr<std::vector<TensorRef>> EmitMulti(absl::string_view op,
                                                   const std::vector<TensorRef>& inputs,
                                                   AttrMap attrs = {});
  absl::StatusOr<TensorRef> Emit(absl::string_view op, const std::vector<TensorRef>& inputs,
                                 AttrMap attrs = {});
  absl::StatusOr<TensorRef> Constant(Tensor value);
  // A scalar constant of `dtype`.
  absl::StatusOr<TensorRef> Scalar(DataType dtype, double value);
  // A zero-filled tensor for a constant the converter builds; UnimplementedError beyond
  // OnnxImportOptions::max_folded_elements (sizes here come from the model's values).
  absl::StatusOr<Tensor> AllocateConstant(DataType dtype, const Shape& shape) const;
  int64_t max_constant_elements() const;
  // A 1-D i64 constant.
  absl::StatusOr<TensorRef> Int64s(const std::vector<int64_t>& values);

  // UnimplementedError for something this converter does not support.
  static absl::Status Unsupported(absl::string_view what);

 private:
  ImportState& state_;
  const onnx::NodeProto& node_;
  const OpConverter& converter_;
  int64_t opset_;
  std::string name_;
  std::set<std::string, std::less<>> handled_;
  const onnx::AttributeProto* FindAttr(absl::string_view name) const;
};

// ---------------------------------------------------------------------------------------
// Converter functions, by file. Generic converters read OpConverter::kiln_op.

// onnx_ops_math.cc
absl::Status ConvertUnary(NodeContext& ctx);       // x -> kiln_op(x)
absl::Status ConvertBinary(NodeContext& ctx);      // (a, b) -> kiln_op(a, b)
absl::Status ConvertVariadic(NodeContext& ctx);    // Max, Min, Sum: chain of kiln_op
absl::Status ConvertMean(NodeContext& ctx);
absl::Status ConvertPow(NodeContext& ctx);
absl::Status ConvertMod(NodeContext& ctx);
absl::Status ConvertReciprocal(NodeContext& ctx);
absl::Status ConvertCast(NodeContext& ctx);
absl::Status ConvertCastLike(NodeContext& ctx);
absl::Status ConvertClip(NodeContext& ctx);
absl::Status ConvertActivation(NodeContext& ctx);  // LeakyRelu, Elu, Selu, ... by op type
absl::Status ConvertPRelu(NodeContext& ctx);
absl::Status ConvertIsInf(NodeContext& ctx);
absl::Status ConvertWhere(NodeContext& ctx);
absl::Status ConvertIdentity(NodeContext& ctx);
absl::Status ConvertBitShift(NodeContext& ctx);

// onnx_ops_nn.cc
absl::Status ConvertGemm(NodeContext& ctx);
absl::Status ConvertMatMul(NodeContext& ctx);
absl::Status ConvertConv(NodeContext& ctx);
absl::Status ConvertConvTranspose(NodeContext& ctx);
absl::Status ConvertPool(NodeContext& ctx);  // MaxPool, AveragePool
absl::Status ConvertGlobalPool(NodeContext& ctx);
absl::Status ConvertBatchNormalization(NodeContext& ctx);
absl::Status ConvertInstanceNormalization(NodeContext& ctx);
absl::Status ConvertLayerNormalization(NodeContext& ctx);
absl::Status ConvertMeanVarianceNormalization(NodeContext& ctx);
absl::Status ConvertSoftmax(NodeContext& ctx);  // Softmax, LogSoftmax, Hardmax
absl::Status ConvertDropout(NodeContext& ctx);
absl::Status ConvertLrn(NodeContext& ctx);
absl::Status ConvertNegativeLogLikelihoodLoss(NodeContext& ctx);
absl::Status ConvertSoftmaxCrossEntropyLoss(NodeContext& ctx);
absl::Status ConvertResize(NodeContext& ctx);
absl::Status ConvertEinsum(NodeContext& ctx);

// onnx_ops_quant.cc
absl::Status ConvertQuantizeLinear(NodeContext& ctx);
absl::Status ConvertDequantizeLinear(NodeContext& ctx);
absl::Status ConvertDynamicQuantizeLinear(NodeContext& ctx);
absl::Status ConvertMatMulInteger(NodeContext& ctx);
absl::Status ConvertConvInteger(NodeContext& ctx);
absl::Status ConvertQLinearMatMul(NodeContext& ctx);
absl::Status ConvertQLinearConv(NodeContext& ctx);

// onnx_ops_rnn.cc
absl::Status ConvertRecurrent(NodeContext& ctx);  // RNN, GRU, LSTM

// onnx_ops_reduce.cc
absl::Status ConvertReduce(NodeContext& ctx);  // ReduceSum ... ReduceLogSumExp
absl::Status ConvertArgMinMax(NodeContext& ctx);
absl::Status ConvertCumSum(NodeContext& ctx);

// onnx_ops_shape.cc
absl::Status ConvertConstant(NodeContext& ctx);
absl::Status ConvertConstantOfShape(NodeContext& ctx);
absl::Status ConvertShape(NodeContext& ctx);
absl::Status ConvertSize(NodeContext& ctx);
absl::Status ConvertReshape(NodeContext& ctx);
absl::Status ConvertFlatten(NodeContext& ctx);
absl::Status ConvertSqueeze(NodeContext& ctx);
absl::Status ConvertUnsqueeze(NodeContext& ctx);
absl::Status ConvertTranspose(NodeContext& ctx);
absl::Status ConvertConcat(NodeContext& ctx);
absl::Status ConvertSplit(NodeContext& ctx);
absl::Status ConvertSlice(NodeContext& ctx);
absl::Status ConvertGather(NodeContext& ctx);
absl::Status ConvertGatherElements(NodeContext& ctx);
absl::Status ConvertPad(NodeContext& ctx);
absl::Status ConvertExpand(NodeContext& ctx);
absl::Status ConvertTile(NodeContext& ctx);
absl::Status ConvertRange(NodeContext& ctx);
absl::Status ConvertEyeLike(NodeContext& ctx);
absl::Status ConvertTrilu(NodeContext& ctx);
absl::Status ConvertOneHot(NodeContext& ctx);
absl::Status ConvertDepthToSpace(NodeContext& ctx);
absl::Status ConvertSpaceToDepth(NodeContext& ctx);
absl::Status ConvertGatherND(NodeContext& ctx);
absl::Status ConvertScatter(NodeContext& ctx);  // ScatterElements, Scatter, ScatterND
absl::Status ConvertTopK(NodeContext& ctx);
absl::Status ConvertUpsample(NodeContext& ctx);
absl::Status ConvertReverseSequence(NodeContext& ctx);
absl::Status ConvertWindow(NodeContext& ctx);  // BlackmanWindow, HannWindow, HammingWindow

}  // namespace kiln::onnx_import

#endif  // KILN_GRAPH_ONNX_ONNX_CONVERTER_H_
