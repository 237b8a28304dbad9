// Each loop cluster becomes one function over its operands' buffers. The loop shape (the
// fusion's output shape) is collapsed as the CPU library collapses broadcasts (size-1
// dimensions dropped, neighbours merged where every operand allows), so a bias add over
// [16, 128, 768] is a 2-D loop and a 16M-element chain a 1-D one. Workgroups own ranges of
// the outermost collapsed dimension ("rows"): each extracts its rows of every operand that
// is not broadcast along them, runs the member ops on those slices and inserts the results
// into the output buffers, which one-shot bufferization turns into in-place writes.
#include "kernels/codegen/loop_kernel.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "graph/fusion.h"
#include "graph/graph_rewrite.h"
#include "kernels/codegen/scalar_ops.h"
#include "kernels/cpu/prepare_util.h"

namespace kiln::codegen {
namespace {

constexpr int kMaxLoopRank = 8;

absl::Status Unsupported(const Node& fusion, absl::string_view why) {
  return absl::UnimplementedError(
      absl::StrCat("fusion '", fusion.name, "': not a generated loop kernel: ", why));
}

// "tensor<?x768xf32>" (first dimension dynamic) or "tensor<16x768xf32>".
std::string TensorTypeText(absl::Span<const int64_t> dims, bool dynamic_rows,
                           absl::string_view element) {
  std::string text = "tensor<";
  for (size_t d = 0; d < dims.size(); ++d) {
    absl::StrAppend(&text, d == 0 && dynamic_rows ? "?" : absl::StrCat(dims[d]), "x");
  }
  return absl::StrCat(text, element, ">");
}

// affine_map<(d0, d1) -> (0, d1)>: dimension d of the operand reads loop index d, or 0
// where the operand is broadcast.
std::string IndexingMap(absl::Span<const int64_t> operand_dims,
                        absl::Span<const int64_t> loop_dims) {
  std::vector<std::string> args, results;
  for (size_t d = 0; d < loop_dims.size(); ++d) {
    args.push_back(absl::StrCat("d", d));
    const bool broadcast = operand_dims[d] == 1 && loop_dims[d] != 1;
    results.push_back(broadcast ? "0" : absl::StrCat("d", d));
  }
  return absl::StrCat("affine_map<(", absl::StrJoin(args, ", "), ") -> (",
                      absl::StrJoin(results, ", "), ")>");
}

// "[%lo, 0, 0][%n, 4, 5][1, 1, 1]": the workgroup's rows of a full operand.
std::string RowSlice(absl::Span<const int64_t> dims) {
  std::vector<std::string> offsets = {"%lo"}, sizes = {"%n"}, strides = {"1"};
  for (size_t d = 1; d < dims.size(); ++d) {
    offsets.push_back("0");
    sizes.push_back(absl::StrCat(dims[d]));
    strides.push_back("1");
  }
  return absl::StrCat("[", absl::StrJoin(offsets, ", "), "] [", absl::StrJoin(sizes, ", "),
                      "] [", absl::StrJoin(strides, ", "), "]");
}

std::string HexBytes(absl::Span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string hex = "0x";
  hex.reserve(2 + 2 * bytes.size());
  for (uint8_t b : bytes) {
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 15]);
  }
  return hex;
}

// The operand shape a member reads, aligned to the loop's rank: NumPy right alignment, and
// for BiasAdd's bias the channel dimension `axis` of x.
absl::StatusOr<std::vector<int64_t>> AlignedShape(const Graph& body, const Node& fusion,
                                                  const Node& member, int slot, int loop_rank) {
  std::vector<int64_t> dims = body.type(member.inputs[slot]).shape.dims();
  if (member.op == "BiasAdd" && slot == 1) {
    const int rank = member.outputs[0].shape.rank();
    int64_t axis = member.int_attr("axis");
    if (axis < 0) axis += rank;
    std::vector<int64_t> channel(rank, 1);
    channel[axis] = dims.empty() ? 1 : dims[0];
    dims = channel;
  }
  if (static_cast<int>(dims.size()) > loop_rank) {
    return Unsupported(fusion, absl::StrCat("member '", member.name, "' reads a tensor of rank ",
                                            dims.size(), " above the loop's ", loop_rank));
  }
  dims.insert(dims.begin(), loop_rank - dims.size(), 1);
  return dims;
}

// The node whose value `id` is: Identity members are looked through (they emit nothing).
int Underlying(const Graph& body, int id) {
  while (body.node(id).op == "Identity") id = body.node(id).inputs[0].node;
  return id;
}

// What a body value is to the generated code.
struct BodyValue {
  enum Kind { kNone, kSource, kScalar, kMember } kind = kNone;
  int source = -1;     // kSource: index into sources
  double scalar = 0;   // kScalar
  std::string ssa;     // kMember: the linalg.generic's result
};

// The arithmetic per element of a payload: its operations, each math function that MLIR
// expands (tanh, erf, log, ...) counted as the 20 or so operations it becomes.
int PayloadCost(absl::string_view payload) {
  int cost = 0;
  for (absl::string_view line : absl::StrSplit(payload, '\n', absl::SkipEmpty())) {
    if (absl::StrContains(line, "arith.constant")) continue;
    const bool expanded = absl::StrContains(line, "= math.") &&
                          !absl::StrContains(line, "math.fma") &&
                          !absl::StrContains(line, "math.absf");
    cost += expanded ? 20 : 1;
  }
  return cost;
}

}  // namespace

absl::Status CheckLoopFusion(const Node& fusion) {
  const Graph* body = FusionBody(fusion);
  if (body == nullptr) return Unsupported(fusion, "no body");
  if (!fusion.HasAttr(kFusionKindAttr) || fusion.string_attr(kFusionKindAttr) != "loop") {
    return Unsupported(fusion, "its kind is not 'loop'");
  }
  if (body->outputs().empty()) return Unsupported(fusion, "no outputs");
  const DataType dtype = body->type(body->outputs()[0].tensor).dtype;
  if (dtype != DataType::kF32 && dtype != DataType::kF64 && dtype != DataType::kI32 &&
      dtype != DataType::kI64) {
    return Unsupported(fusion, absl::StrCat("it computes ", DataTypeName(dtype),
                                            " (generated loops are f32, f64, i32 or i64)"));
  }
  for (const Node& node : body->nodes()) {
    for (const TensorType& out : node.outputs) {
      if (out.dtype != dtype) {
        return Unsupported(fusion, absl::StrCat("'", node.name, "' is ", DataTypeName(out.dtype),
                                                ", not ", DataTypeName(dtype),
                                                " (one element type per loop)"));
      }
    }
    if (node.op == "Input" || node.op == "Constant") continue;
    if (!HasScalarLowering(node, dtype) || node.outputs.size() != 1) {
      return Unsupported(fusion, absl::StrCat("member '", node.name, "' (", node.op,
                                              ") has no ", DataTypeName(dtype),
                                              " scalar lowering"));
    }
  }
  // Each output must be computed by its own member op: an output that passes an input or
  // constant through (possibly broadcast) or repeats another output is a copy, left to the
  // library's kernels.
  std::set<int> computed;
  for (const GraphOutput& output : body->outputs()) {
    const int id = Underlying(*body, output.tensor.node);
    const std::string& op = body->node(id).op;
    if (op == "Input" || op == "Constant" || !computed.insert(id).second) {
      return Unsupported(fusion, absl::StrCat("output '", output.name,
                                              "' is a copy, not computed by a member op"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<LoopKernelSource> EmitLoopKernel(const Graph& graph, const Node& fusion) {
  RETURN_IF_ERROR(CheckLoopFusion(fusion));
  std::vector<TensorType> input_types;
  for (const TensorRef& in : fusion.inputs) input_types.push_back(graph.type(in));
  ASSIGN_OR_RETURN(Graph body, BindFusionBody(*FusionBody(fusion), input_types));
  const DataType dtype = body.type(body.outputs()[0].tensor).dtype;
  const std::string element(DataTypeName(dtype));  // "f32", "f64": MLIR's names too
  const Shape& loop = fusion.outputs[0].shape;
  for (const TensorType& out : fusion.outputs) {
    if (out.shape != loop) return Unsupported(fusion, "its outputs differ in shape");
  }
  if (loop.rank() > kMaxLoopRank) {
    return Unsupported(fusion, absl::StrCat("rank ", loop.rank(), " is above ", kMaxLoopRank));
  }
  const int rank = std::max(loop.rank(), 1);
  const Shape loop_shape = loop.rank() == 0 ? Shape{1} : loop;
  ASSIGN_OR_RETURN(std::vector<int> order, body.TopologicalOrder());

  // Sources: the fusion's inputs (function arguments), then constants of more than one
  // element (dense constants in the function). One-element constants become scalars.
  std::vector<BodyValue> values(body.num_nodes());
  std::vector<std::string> source_ssa;
  std::vector<int64_t> source_elements;
  std::string constants;
  for (size_t i = 0; i < body.inputs().size(); ++i) {
    values[body.inputs()[i]] = {BodyValue::kSource, static_cast<int>(i)};
    source_ssa.push_back(absl::StrCat("%in", i));
    source_elements.push_back(body.node(body.inputs()[i]).outputs[0].shape.NumElements());
  }
  for (int id : order) {
    const Node& node = body.node(id);
    if (node.op != "Constant") continue;
    const Tensor* value = ConstantValue(body, {id, 0});
    if (value == nullptr) return absl::InternalError("constant without a value");
    // Integers stay dense (a double would round those beyond 2^53).
    if (value->NumElements() == 1 && IsFloating(dtype)) {
      values[id] = {BodyValue::kScalar, -1, value->GetAsDouble(0)};
      continue;
    }
    const std::string ssa = absl::StrCat("%cst", source_ssa.size());
    values[id] = {BodyValue::kSource, static_cast<int>(source_ssa.size())};
    source_ssa.push_back(ssa);
    source_elements.push_back(value->NumElements());
    absl::StrAppend(&constants, "    ", ssa, " = arith.constant dense<\"",
                    HexBytes(value->bytes()), "\"> : ",
                    TensorTypeText({std::max<int64_t>(value->NumElements(), 1)}, false, element),
                    "\n");
  }

  // Views: each (source, aligned shape) pair a member reads.
  std::vector<std::pair<int, std::vector<int64_t>>> views;
  std::map<std::pair<int, std::vector<int64_t>>, int> view_ids;
  std::map<std::pair<int, int>, int> slot_view;  // (member, slot) -> view
  for (int id : order) {
    const Node& member = body.node(id);
    if (member.op == "Input" || member.op == "Constant" || member.op == "Identity") continue;
    for (size_t k = 0; k < member.inputs.size(); ++k) {
      const BodyValue& in = values[Underlying(body, member.inputs[k].node)];
      if (in.kind != BodyValue::kSource) continue;
      ASSIGN_OR_RETURN(std::vector<int64_t> aligned,
                       AlignedShape(body, fusion, member, static_cast<int>(k), rank));
      auto key = std::make_pair(in.source, aligned);
      auto [it, inserted] = view_ids.emplace(key, static_cast<int>(views.size()));
      if (inserted) views.push_back(key);
      slot_view[{id, static_cast<int>(k)}] = it->second;
    }
  }
  std::vector<Shape> view_shapes;
  for (const auto& view : views) view_shapes.push_back(Shape(view.second));
  const cpu::CollapsedBroadcast collapsed = cpu::CollapseBroadcast(loop_shape, view_shapes);
  const std::vector<int64_t> dims(collapsed.dims, collapsed.dims + collapsed.rank);
  const int64_t rows = dims[0];
  const int64_t total = loop_shape.NumElements();

  LoopKernelSource source;
  source.num_buffers = static_cast<int>(fusion.inputs.size() + fusion.outputs.size());
  source.workgroup_count =
      total == 0 ? 1
                 : std::clamp<int64_t>(cpu::ElementwiseWorkgroups(total, DataTypeSize(dtype)), 1, rows);

  // The signature.
  std::vector<std::string> args, result_types;
  for (size_t i = 0; i < fusion.inputs.size(); ++i) {
    args.push_back(absl::StrCat("%in", i, ": ",
                                TensorTypeText({std::max<int64_t>(source_elements[i], 1)},
                                               false, element),
                                " {llvm.noalias}"));
  }
  const std::string out_type = TensorTypeText(dims, false, element);
  const std::string row_type = TensorTypeText(dims, true, element);
  for (size_t j = 0; j < fusion.outputs.size(); ++j) {
    args.push_back(absl::StrCat("%out", j, ": ", out_type,
                                " {bufferization.writable = true, llvm.noalias}"));
    result_types.push_back(out_type);
  }
  args.push_back("%wg: index");
  args.push_back("%nwg: index");
  std::string text = absl::StrCat("module {\n  func.func @", kLoopFunction, "(",
                                  absl::StrJoin(args, ", "), ") -> (",
                                  absl::StrJoin(result_types, ", "), ") {\n");
  if (total == 0) {
    std::vector<std::string> outs;
    for (size_t j = 0; j < fusion.outputs.size(); ++j) outs.push_back(absl::StrCat("%out", j));
    absl::StrAppend(&text, "    return ", absl::StrJoin(outs, ", "), " : ",
                    absl::StrJoin(result_types, ", "), "\n  }\n}\n");
    source.mlir = std::move(text);
    return source;
  }

  // This workgroup's rows [lo, lo + n).
  absl::StrAppend(&text, "    %c1 = arith.constant 1 : index\n",
                  "    %rows = arith.constant ", rows, " : index\n",
                  "    %t0 = arith.muli %wg, %rows : index\n",
                  "    %lo = arith.divui %t0, %nwg : index\n",
                  "    %t1 = arith.addi %wg, %c1 : index\n",
                  "    %t2 = arith.muli %t1, %rows : index\n",
                  "    %hi = arith.divui %t2, %nwg : index\n",
                  "    %n = arith.subi %hi, %lo : index\n", constants);

  // Each view in collapsed dimensions, sliced to the rows unless broadcast along them.
  struct ViewValue {
    std::string ssa, type;
    std::vector<int64_t> dims;
  };
  std::vector<ViewValue> view_values;
  for (size_t v = 0; v < views.size(); ++v) {
    std::vector<int64_t> view_dims(collapsed.rank);
    int64_t elements = 1;
    for (int d = 0; d < collapsed.rank; ++d) {
      view_dims[d] = collapsed.strides[v][d] == 0 ? 1 : dims[d];
      elements *= view_dims[d];
    }
    const int src = views[v].first;
    if (elements != std::max<int64_t>(source_elements[src], 1)) {
      return absl::InternalError(absl::StrCat("fusion '", fusion.name, "': view ", v, " has ",
                                              elements, " elements, its source ",
                                              source_elements[src]));
    }
    std::string ssa = source_ssa[src];
    if (collapsed.rank > 1) {
      std::vector<std::string> group;
      for (int d = 0; d < collapsed.rank; ++d) group.push_back(absl::StrCat(d));
      const std::string expanded = absl::StrCat("%v", v);
      absl::StrAppend(&text, "    ", expanded, " = tensor.expand_shape ", ssa, " [[",
                      absl::StrJoin(group, ", "), "]] : ",
                      TensorTypeText({elements}, false, element), " into ",
                      TensorTypeText(view_dims, false, element), "\n");
      ssa = expanded;
    }
    const bool row_split = view_dims[0] == rows;
    std::string type = TensorTypeText(view_dims, false, element);
    if (row_split) {
      const std::string sliced = absl::StrCat("%vs", v);
      const std::string sliced_type = TensorTypeText(view_dims, true, element);
      absl::StrAppend(&text, "    ", sliced, " = tensor.extract_slice ", ssa,
                      RowSlice(view_dims), " : ", type, " to ", sliced_type, "\n");
      ssa = sliced;
      type = sliced_type;
    }
    view_values.push_back({ssa, type, view_dims});
  }

  // Where each member's result goes: the first output slot that returns it.
  std::map<int, int> output_of;
  for (size_t j = 0; j < body.outputs().size(); ++j) {
    output_of.emplace(Underlying(body, body.outputs()[j].tensor.node), static_cast<int>(j));
  }

  // One linalg.generic per member, in topological order.
  ScalarBuilder scalars(element);
  int payload_cost = 0;
  std::vector<std::string> iterators(collapsed.rank, "\"parallel\"");
  const std::string identity = IndexingMap(dims, dims);
  for (int id : order) {
    const Node& member = body.node(id);
    if (member.op == "Input" || member.op == "Constant" || member.op == "Identity") continue;
    std::vector<std::string> ins, in_types, maps, block_args, element_args;
    scalars.ClearText();
    for (size_t k = 0; k < member.inputs.size(); ++k) {
      const BodyValue& in = values[Underlying(body, member.inputs[k].node)];
      if (in.kind == BodyValue::kScalar) {
        element_args.push_back(scalars.Constant(in.scalar));
        continue;
      }
      const std::string arg = absl::StrCat("%b", id, "_", k);
      block_args.push_back(absl::StrCat(arg, ": ", element));
      element_args.push_back(arg);
      if (in.kind == BodyValue::kMember) {
        ins.push_back(in.ssa);
        in_types.push_back(row_type);
        maps.push_back(identity);
      } else {
        const ViewValue& view = view_values[slot_view.at({id, static_cast<int>(k)})];
        ins.push_back(view.ssa);
        in_types.push_back(view.type);
        maps.push_back(IndexingMap(view.dims, dims));
      }
    }
    ASSIGN_OR_RETURN(std::string result, EmitScalarOp(scalars, member, element_args));
    payload_cost += PayloadCost(scalars.text());
    std::string init = absl::StrCat("%init", id);
    auto out = output_of.find(id);
    if (out != output_of.end()) {
      absl::StrAppend(&text, "    ", init, " = tensor.extract_slice %out", out->second,
                      RowSlice(dims), " : ", out_type, " to ", row_type, "\n");
    } else {
      absl::StrAppend(&text, "    ", init, " = tensor.empty(%n) : ", row_type, "\n");
    }
    maps.push_back(identity);
    block_args.push_back(absl::StrCat("%o", id, ": ", element));
    values[id].kind = BodyValue::kMember;
    values[id].ssa = absl::StrCat("%m", id);
    absl::StrAppend(&text, "    ", values[id].ssa, " = linalg.generic {indexing_maps = [",
                    absl::StrJoin(maps, ", "), "], iterator_types = [",
                    absl::StrJoin(iterators, ", "), "]}");
    if (!ins.empty()) {
      absl::StrAppend(&text, " ins(", absl::StrJoin(ins, ", "), " : ",
                      absl::StrJoin(in_types, ", "), ")");
    }
    absl::StrAppend(&text, " outs(", init, " : ", row_type, ") {\n    ^bb0(",
                    absl::StrJoin(block_args, ", "), "):\n", scalars.text(), "      linalg.yield ",
                    result, " : ", element, "\n    } -> ", row_type, "\n");
  }

  source.stream_stores = payload_cost <= kStreamingMaxCost &&
                         static_cast<int64_t>(fusion.outputs.size()) * total *
                                 DataTypeSize(dtype) >=
                             kStreamingOutputBytes;

  std::vector<std::string> results;
  for (size_t j = 0; j < body.outputs().size(); ++j) {
    const std::string inserted = absl::StrCat("%r", j);
    absl::StrAppend(&text, "    ", inserted, " = tensor.insert_slice ",
                    values[Underlying(body, body.outputs()[j].tensor.node)].ssa, " into %out", j,
                    RowSlice(dims),
                    " : ", row_type, " into ", out_type, "\n");
    results.push_back(inserted);
  }
  absl::StrAppend(&text, "    return ", absl::StrJoin(results, ", "), " : ",
                  absl::StrJoin(result_types, ", "), "\n  }\n}\n");
  source.mlir = std::move(text);
  return source;
}

}  // namespace kiln::codegen
