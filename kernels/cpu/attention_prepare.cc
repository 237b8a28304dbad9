// Prepare half of the attention kernel: reads an "attention" Fusion's body (what
// passes/fuse_attention.cc outlines) as strided views of the fusion's operands.
//
// The body is MatMul(q, k) -> at most one scale (Mul or Div by a one-element constant)
// and one mask Add, in either order -> Softmax over the last axis -> MatMul(., v), where
// q, k, v and the mask come from the fusion's inputs through Transpose and bitcast ops
// (Reshape, Flatten, ...), and the result reaches the body's one output through more of
// them. A transpose permutes a view's strides and a reshape regroups them (when the
// dimensions it merges are contiguous in the view), so each operand becomes dims and
// strides over its input buffer and the kernel reads it where it lies.
#include <algorithm>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "graph/fusion.h"
#include "graph/graph_rewrite.h"
#include "graph/op_registry.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/cpu_kernel_library.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/matmul_tiling.h"

namespace kiln::cpu {
namespace {

// Element (i_0, ..., i_r-1) of a body value at operand + sum_d i_d * strides[d].
struct View {
  int operand = -1;
  std::vector<int64_t> dims;
  std::vector<int64_t> strides;
};

View Contiguous(int operand, const Shape& shape) {
  return View{operand, shape.dims(), RowMajorStrides(shape)};
}

int64_t Product(const std::vector<int64_t>& dims) {
  int64_t p = 1;
  for (int64_t d : dims) p *= d;
  return p;
}

// `v` read with dimensions `dims` (a reshape of its row-major order), or nullopt when a
// group of dimensions the reshape merges is not contiguous in `v`.
std::optional<View> ReshapeView(const View& v, const std::vector<int64_t>& dims) {
  View out{v.operand, dims, std::vector<int64_t>(dims.size(), 0)};
  if (Product(v.dims) != Product(dims)) return std::nullopt;
  if (Product(dims) == 0) return out;  // nothing is read
  std::vector<int> old;  // v's dimensions other than 1 (their stride never matters)
  for (size_t d = 0; d < v.dims.size(); ++d) {
    if (v.dims[d] != 1) old.push_back(static_cast<int>(d));
  }
  size_t i = 0;
  size_t j = 0;
  while (j < dims.size()) {
    if (dims[j] == 1) {
      ++j;
      continue;
    }
    if (i >= old.size()) return std::nullopt;
    const size_t j0 = j;
    int64_t have = v.dims[old[i]];
    int64_t want = dims[j];
    while (have != want) {
      if (have < want) {
        if (++i >= old.size()) return std::nullopt;
        // Merging old[i - 1] with old[i]: the outer must step over the inner exactly.
        if (v.strides[old[i - 1]] != v.strides[old[i]] * v.dims[old[i]]) return std::nullopt;
        have *= v.dims[old[i]];
      } else {
        if (++j >= dims.size()) return std::nullopt;
        want *= dims[j];
      }
    }
    int64_t stride = v.strides[old[i]];
    for (size_t t = j + 1; t-- > j0;) {
      if (dims[t] == 1) continue;
      out.strides[t] = stride;
      stride *= dims[t];
    }
    ++i;
    ++j;
  }
  if (i != old.size()) return std::nullopt;
  return out;
}

// y = Transpose(x, perm): y's dimension i is x's dimension perm[i].
View TransposeView(const View& x, const std::vector<int64_t>& perm) {
  View y{x.operand, x.dims, x.strides};
  for (size_t i = 0; i < perm.size(); ++i) {
    y.dims[i] = x.dims[perm[i]];
    y.strides[i] = x.strides[perm[i]];
  }
  return y;
}

// The inverse: x's view from y's.
View UntransposeView(const View& y, const std::vector<int64_t>& perm) {
  View x{y.operand, y.dims, y.strides};
  for (size_t i = 0; i < perm.size(); ++i) {
    x.dims[perm[i]] = y.dims[i];
    x.strides[perm[i]] = y.strides[i];
  }
  return x;
}

absl::Status Refuse(absl::string_view why) {
  return absl::UnimplementedError(absl::StrCat("attention body: ", why));
}

// The view of body value `ref` over a fusion input, through layout ops.
absl::StatusOr<View> InputView(const Graph& body, TensorRef ref) {
  std::vector<int> chain;  // layout ops, outermost first
  int id = ref.node;
  while (IsLayoutOp(body.node(id))) {
    chain.push_back(id);
    id = body.node(id).inputs[0].node;
  }
  const Node& input = body.node(id);
  if (input.op != "Input") {
    return Refuse(absl::StrCat("'", input.name, "' (", input.op, ") is not a fusion input"));
  }
  const auto& inputs = body.inputs();
  const int operand =
      static_cast<int>(std::find(inputs.begin(), inputs.end(), id) - inputs.begin());
  View v = Contiguous(operand, input.outputs[0].shape);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Node& op = body.node(*it);
    if (op.op == "Transpose") {
      v = TransposeView(v, op.ints_attr("perm"));
    } else {
      std::optional<View> r = ReshapeView(v, op.outputs[0].shape.dims());
      if (!r.has_value()) {
        return Refuse(absl::StrCat("'", op.name, "' merges dimensions that are not contiguous"));
      }
      v = *std::move(r);
    }
  }
  return v;
}

// A MatMul operand's view as [batch..., rows, cols] of the product (transposes applied),
// with the output's batch dims `batch` (broadcast dimensions get stride 0).
absl::StatusOr<AttentionOperand> MatrixOperand(const View& view, bool transposed,
                                               const std::vector<int64_t>& batch) {
  const int rank = static_cast<int>(view.dims.size());
  if (rank < 2) return Refuse("a product operand has rank < 2");
  if (rank - 2 > static_cast<int>(batch.size())) return Refuse("operand rank exceeds the output's");
  AttentionOperand o{};
  o.row = view.strides[rank - (transposed ? 1 : 2)];
  o.col = view.strides[rank - (transposed ? 2 : 1)];
  const int offset = static_cast<int>(batch.size()) - (rank - 2);
  for (int d = 0; d < rank - 2; ++d) {
    const int64_t dim = view.dims[d];
    if (dim != batch[offset + d] && dim != 1) return Refuse("batch dimensions do not broadcast");
    o.batch[offset + d] = dim == 1 ? 0 : view.strides[d];
  }
  return o;
}

// A one-element f32 constant's value.
std::optional<float> ScalarConstant(const Graph& body, TensorRef ref) {
  const Tensor* t = ConstantValue(body, ref);
  if (t == nullptr || t->dtype() != DataType::kF32 || t->NumElements() != 1) return std::nullopt;
  return t->data<float>()[0];
}

}  // namespace

absl::StatusOr<AttentionParams> AnalyzeAttentionBody(const Graph& body) {
  if (body.outputs().size() != 1) return Refuse("more than one output");
  for (int id : body.inputs()) {
    if (body.node(id).outputs[0].dtype != DataType::kF32) return Refuse("an input is not f32");
  }
  // Output side: the second product's result as a view of the output buffer.
  const TensorRef result = body.outputs()[0].tensor;
  std::vector<int> out_chain;  // layout ops from the output down
  int id = result.node;
  while (IsLayoutOp(body.node(id))) {
    out_chain.push_back(id);
    id = body.node(id).inputs[0].node;
  }
  const Node& pv = body.node(id);
  if (pv.op != "MatMul" || pv.bool_attr("transpose_a")) {
    return Refuse("the output does not come from MatMul(probabilities, v)");
  }
  View out = Contiguous(0, body.type(result).shape);
  for (int layout : out_chain) {
    const Node& op = body.node(layout);
    const Shape& below = body.type(op.inputs[0]).shape;
    if (op.op == "Transpose") {
      out = UntransposeView(out, op.ints_attr("perm"));
    } else {
      std::optional<View> r = ReshapeView(out, below.dims());
      if (!r.has_value()) return Refuse(absl::StrCat("'", op.name, "' cannot be read in place"));
      out = *std::move(r);
    }
  }
  const Node& softmax = body.node(pv.inputs[0].node);
  if (softmax.op != "Softmax") return Refuse("the second product's left operand is not Softmax");
  const int score_rank = softmax.outputs[0].shape.rank();
  const int64_t axis = softmax.int_attr("axis");
  if (axis != -1 && axis != score_rank - 1) return Refuse("Softmax is not over the last axis");
  const Shape& scores = softmax.outputs[0].shape;

  AttentionParams p{};
  // Between the first product and Softmax: at most a scale and a mask add, in any order.
  std::vector<int32_t> steps;
  int node = softmax.inputs[0].node;
  while (steps.size() < 2 && body.node(node).op != "MatMul") {
    const Node& n = body.node(node);
    if (n.outputs[0].shape != scores) return Refuse(absl::StrCat("'", n.name, "' broadcasts"));
    if ((n.op == "Mul" || n.op == "Div") && n.inputs.size() == 2) {
      const int scalar = n.op == "Mul" && ScalarConstant(body, n.inputs[0]).has_value() ? 0 : 1;
      std::optional<float> c = ScalarConstant(body, n.inputs[scalar]);
      if (!c.has_value()) return Refuse(absl::StrCat("'", n.name, "' is not a scale by a constant"));
      if (!steps.empty() && steps[0] != AttentionParams::kAddMask) return Refuse("two scales");
      steps.push_back(n.op == "Mul" ? AttentionParams::kMultiply : AttentionParams::kDivide);
      p.scale = *c;
      node = n.inputs[1 - scalar].node;
    } else if (n.op == "Add" && n.inputs.size() == 2 && !p.has_mask) {
      // The scores side is the one that leads back to the first product.
      const int side = body.node(n.inputs[0].node).op == "Input" ||
                               IsLayoutOp(body.node(n.inputs[0].node))
                           ? 1
                           : 0;
      ASSIGN_OR_RETURN(View mask, InputView(body, n.inputs[1 - side]));
      const int rank = static_cast<int>(mask.dims.size());
      if (rank > score_rank) return Refuse("the mask has a higher rank than the scores");
      std::vector<int64_t> dims(score_rank - rank, 1);
      std::vector<int64_t> strides(score_rank - rank, 0);
      dims.insert(dims.end(), mask.dims.begin(), mask.dims.end());
      strides.insert(strides.end(), mask.strides.begin(), mask.strides.end());
      for (int d = 0; d < score_rank; ++d) {
        if (dims[d] == 1) strides[d] = 0;
      }
      std::vector<int64_t> batch(scores.dims().begin(), scores.dims().end() - 2);
      ASSIGN_OR_RETURN(p.mask, MatrixOperand(View{mask.operand, dims, strides}, false, batch));
      p.mask_operand = mask.operand;
      p.has_mask = 1;
      steps.push_back(AttentionParams::kAddMask);
      node = n.inputs[side].node;
    } else {
      return Refuse(absl::StrCat("'", n.name, "' (", n.op, ") between the product and Softmax"));
    }
  }
  const Node& qk = body.node(node);
  if (qk.op != "MatMul") return Refuse("Softmax does not read MatMul(q, k)");
  // A mask may not broadcast the scores past the product (q's rows or k's columns would
  // be read beyond their end).
  if (qk.outputs[0].shape != scores) return Refuse("the mask broadcasts the product");
  std::reverse(steps.begin(), steps.end());
  for (size_t s = 0; s < steps.size(); ++s) p.steps[s] = steps[s];

  std::vector<int64_t> batch(scores.dims().begin(), scores.dims().end() - 2);
  if (batch.size() > static_cast<size_t>(kMaxBatchRank)) return Refuse("too many batch dimensions");
  const Shape& product = pv.outputs[0].shape;
  if (product.rank() != score_rank ||
      !std::equal(batch.begin(), batch.end(), product.dims().begin())) {
    return Refuse("the two products have different batch dimensions");
  }
  ASSIGN_OR_RETURN(View q, InputView(body, qk.inputs[0]));
  ASSIGN_OR_RETURN(View k, InputView(body, qk.inputs[1]));
  ASSIGN_OR_RETURN(View v, InputView(body, pv.inputs[1]));
  ASSIGN_OR_RETURN(p.q, MatrixOperand(q, qk.bool_attr("transpose_a"), batch));
  ASSIGN_OR_RETURN(p.k, MatrixOperand(k, qk.bool_attr("transpose_b"), batch));
  ASSIGN_OR_RETURN(p.v, MatrixOperand(v, pv.bool_attr("transpose_b"), batch));
  ASSIGN_OR_RETURN(p.out, MatrixOperand(out, false, batch));
  if (p.out.col != 1 && product.dim(score_rank - 1) > 1) {
    return Refuse("the output's last dimension is not contiguous");
  }
  p.out.col = 1;
  p.q_operand = q.operand;
  p.k_operand = k.operand;
  p.v_operand = v.operand;
  if (!p.has_mask) p.mask_operand = -1;
  p.out_operand = static_cast<int32_t>(body.inputs().size());
  p.batch_rank = static_cast<int32_t>(batch.size());
  p.batch = 1;
  for (size_t d = 0; d < batch.size(); ++d) {
    p.batch_dims[d] = batch[d];
    p.batch *= batch[d];
  }
  p.sq = scores.dim(score_rank - 2);
  p.skv = scores.dim(score_rank - 1);
  p.d = q.dims[q.dims.size() - (qk.bool_attr("transpose_a") ? 2 : 1)];
  p.dv = product.dim(score_rank - 1);
  return p;
}

absl::Status CheckAttentionFusion(const Node& fusion) {
  const Graph* body = FusionBody(fusion);
  if (body == nullptr || !fusion.HasAttr(kFusionKindAttr) ||
      fusion.string_attr(kFusionKindAttr) != FusionKindName(FusionKind::kAttention)) {
    return Refuse("not an attention fusion");
  }
  for (int id : body->inputs()) {
    if (body->node(id).outputs[0].shape.rank() > kMaxRank) return Refuse("an input's rank exceeds 8");
  }
  // Unknown dimensions (a batch bound later) bound to several sizes: every size the body
  // binds at must pass, since how a reshape groups dimensions can depend on them, and a
  // body accepted here but refused once its shapes are bound would run on the reference
  // kernel. A size the body does not bind at (a reshape to a fixed batch) cannot occur.
  absl::Status bind_error;
  bool bound_once = false;
  for (int64_t size : {1, 2, 3, 7}) {
    std::vector<TensorType> types;
    bool unknown = false;
    for (int id : body->inputs()) {
      TensorType t = body->node(id).outputs[0];
      for (int64_t& d : t.shape.dims()) {
        if (d < 0) {
          d = size;
          unknown = true;
        }
      }
      types.push_back(std::move(t));
    }
    absl::StatusOr<Graph> bound = BindFusionBody(*body, types);
    if (bound.ok()) {
      bound_once = true;
      RETURN_IF_ERROR(AnalyzeAttentionBody(*bound).status());
    } else {
      bind_error = bound.status();
    }
    if (!unknown) break;
  }
  return bound_once ? absl::OkStatus() : bind_error;
}

PrepareResult PrepareFusion(const PrepareContext& ctx) {
  const Node& node = ctx.node;
  if (!node.HasAttr(kFusionKindAttr) ||
      node.string_attr(kFusionKindAttr) != FusionKindName(FusionKind::kAttention)) {
    return NodeError(absl::StatusCode::kUnimplemented, node,
                     "the CPU kernel library runs attention fusions only");
  }
  const Graph* body = FusionBody(node);
  if (body == nullptr) {
    return NodeError(absl::StatusCode::kFailedPrecondition, node, "the fusion has no body");
  }
  absl::StatusOr<Graph> bound = BindFusionBody(*body, ctx.inputs);
  if (!bound.ok()) return NodeError(bound.status().code(), node, bound.status().message());
  absl::StatusOr<AttentionParams> analyzed = AnalyzeAttentionBody(*bound);
  if (!analyzed.ok()) {
    return NodeError(analyzed.status().code(), node, analyzed.status().message());
  }
  AttentionParams p = *analyzed;
  ASSIGN_OR_RETURN(GemmIsa isa, ResolveGemmIsa(ctx));
  const SgemmImpl& impl = GetSgemmImpl(isa);
  p.isa = static_cast<int32_t>(isa);
  // A block of query rows keeps its scores (rows x skv floats) within 128 KiB, in L2 while
  // Softmax and the second product read them.
  constexpr int64_t kScoreFloats = 32 * 1024;
  p.row_block = std::clamp<int64_t>(kScoreFloats / std::max<int64_t>(p.skv, 1), 1,
                                    std::max<int64_t>(p.sq, 1));
  p.row_blocks = (p.sq + p.row_block - 1) / p.row_block;
  const int64_t items = p.batch * p.row_blocks;
  const int64_t threads = ctx.options.threads > 0
                              ? ctx.options.threads
                              : std::max<int64_t>(1, std::thread::hardware_concurrency());
  // A few items per thread balance the load; each workgroup holds a scratch slot.
  const int64_t workgroups = std::clamp<int64_t>(items, 1, 4 * threads);
  p.slots = workgroups;
  p.scores_bytes = (p.row_block * p.skv * 4 + 63) / 64 * 64;
  p.slot_bytes = p.scores_bytes +
                 std::max(SgemmScratchBytes(impl, p.row_block, p.skv, p.d),
                          SgemmScratchBytes(impl, p.row_block, p.dv, p.skv));
  ASSIGN_OR_RETURN(PreparedKernel kernel,
                   MakeKernel(ctx, GemmSymbolName("attention", isa), p, workgroups));
  kernel.scratch_bytes = p.slots * p.slot_bytes;
  return kernel;
}

}  // namespace kiln::cpu
