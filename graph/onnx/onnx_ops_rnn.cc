// Converters of ONNX's recurrent ops (RNN, GRU, LSTM), unrolled over the static sequence
// length into MatMul, Add, activations and elementwise products, one step at a time, as
// the ONNX definitions write them. Sequence lengths shorter than the input's are not
// supported (they would need masking per batch entry).
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/onnx/onnx_converter.h"
#include "graph/onnx/onnx_ops_util.h"
#include "base/status_macros.h"

namespace kiln::onnx_import {
namespace {

enum class Cell { kRnn, kGru, kLstm };

struct RnnSpec {
  Cell cell;
  int gates;                             // 1, 3 or 4
  std::vector<std::string> activations;  // per direction: f (and g, h)
  int64_t hidden = 0;
  int directions = 1;
  bool reverse = false;  // for a single direction
  bool batch_first = false;
  std::optional<double> clip;
  bool linear_before_reset = false;
};

absl::StatusOr<TensorRef> Activate(NodeContext& ctx, const std::string& name, TensorRef x) {
  if (name == "Sigmoid" || name == "Tanh" || name == "Relu") return ctx.Emit(name, {x});
  return NodeContext::Unsupported(absl::StrCat("activation ", name, " (Sigmoid, Tanh and Relu are supported)"));
}

// Slice [start, start + size) of dimension `axis`.
absl::StatusOr<TensorRef> Part(NodeContext& ctx, TensorRef x, int64_t axis, int64_t start, int64_t size) {
  return ctx.Emit("Slice", {x}, {{"starts", std::vector<int64_t>{start}},
                                 {"ends", std::vector<int64_t>{start + size}},
                                 {"axes", std::vector<int64_t>{axis}}});
}

absl::StatusOr<TensorRef> Clipped(NodeContext& ctx, const RnnSpec& spec, TensorRef x) {
  if (!spec.clip) return x;
  ASSIGN_OR_RETURN(x, BinaryScalar(ctx, "Maximum", x, -*spec.clip));
  return BinaryScalar(ctx, "Minimum", x, *spec.clip);
}

}  // namespace

absl::Status ConvertRecurrent(NodeContext& ctx) {
  const std::string& op = ctx.node().op_type();
  RnnSpec spec;
  spec.cell = op == "LSTM" ? Cell::kLstm : (op == "GRU" ? Cell::kGru : Cell::kRnn);
  spec.gates = spec.cell == Cell::kLstm ? 4 : (spec.cell == Cell::kGru ? 3 : 1);
  ASSIGN_OR_RETURN(spec.hidden, ctx.RequiredInt("hidden_size"));
  ASSIGN_OR_RETURN(std::string direction, ctx.String("direction", "forward"));
  ASSIGN_OR_RETURN(int64_t layout, ctx.Int("layout", 0));
  ASSIGN_OR_RETURN(std::vector<double> alpha, ctx.Floats("activation_alpha"));
  ASSIGN_OR_RETURN(std::vector<double> beta, ctx.Floats("activation_beta"));
  if (!alpha.empty() || !beta.empty()) return NodeContext::Unsupported("activation_alpha / activation_beta");
  if (ctx.HasAttr("clip")) {
    ASSIGN_OR_RETURN(double clip, ctx.Float("clip", 0));
    spec.clip = clip;
  }
  if (spec.cell == Cell::kGru) {
    ASSIGN_OR_RETURN(int64_t lbr, ctx.Int("linear_before_reset", 0));
    spec.linear_before_reset = lbr != 0;
  }
  if (spec.cell == Cell::kLstm) {
    ASSIGN_OR_RETURN(int64_t input_forget, ctx.Int("input_forget", 0));
    if (input_forget != 0) return NodeContext::Unsupported("input_forget=1");
  }
  spec.directions = direction == "bidirectional" ? 2 : 1;
  spec.reverse = direction == "reverse";
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional") {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'direction' is '", direction, "'"));
  }
  spec.batch_first = layout != 0;
  const std::vector<std::string> defaults =
      spec.cell == Cell::kRnn ? std::vector<std::string>{"Tanh"}
      : spec.cell == Cell::kGru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
  // The STRINGS attribute is read directly (NodeContext has no strings reader).
  std::vector<std::string> acts;
  ctx.Ignore("activations");
  for (const onnx::AttributeProto& attr : ctx.node().attribute()) {
    if (attr.name() == "activations") acts.assign(attr.strings().begin(), attr.strings().end());
  }
  if (acts.empty()) {
    for (int d = 0; d < spec.directions; ++d) acts.insert(acts.end(), defaults.begin(), defaults.end());
  }
  if (acts.size() != defaults.size() * spec.directions) {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'activations' has ", acts.size(), " entries, expected ",
                                                   defaults.size() * spec.directions));
  }

  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef w, ctx.Input(1));
  ASSIGN_OR_RETURN(TensorRef r, ctx.Input(2));
  if (spec.batch_first) {
    ASSIGN_OR_RETURN(x, ctx.Emit("Transpose", {x}, {{"perm", std::vector<int64_t>{1, 0, 2}}}));
  }
  const Shape xs = ctx.ShapeOf(x);
  if (xs.rank() != 3 || !xs.IsFullyKnown()) {
    return NodeContext::Unsupported(absl::StrCat("input of shape ", xs.ToString(), " (a known [seq, batch, input] is needed)"));
  }
  const int64_t seq = xs.dim(0), batch = xs.dim(1), hidden = spec.hidden;
  if (seq < 1 || seq > 4096 || hidden < 1 || hidden > kMaxElements / (spec.gates * 2)) {
    return absl::InvalidArgumentError(absl::StrCat("sequence length ", seq, " or hidden_size ", hidden,
                                                   " out of range (unrolling handles up to 4096 steps)"));
  }
  if (ctx.HasInput(4)) {
    ASSIGN_OR_RETURN(std::vector<int64_t> lens, ctx.ConstantInts(4, "sequence_lens"));
    for (int64_t len : lens) {
      if (len != seq) return NodeContext::Unsupported("sequence_lens shorter than the input's sequence");
    }
  }
  const DataType dtype = ctx.Dtype(x);
  const int64_t gh = spec.gates * hidden;
  std::vector<TensorRef> y_dirs, h_dirs, c_dirs;
  for (int d = 0; d < spec.directions; ++d) {
    const bool backward = spec.reverse || d == 1;
    ASSIGN_OR_RETURN(TensorRef wd, Part(ctx, w, 0, d, 1));
    ASSIGN_OR_RETURN(wd, ReshapeTo(ctx, wd, {gh, xs.dim(2)}));
    ASSIGN_OR_RETURN(TensorRef rd, Part(ctx, r, 0, d, 1));
    ASSIGN_OR_RETURN(rd, ReshapeTo(ctx, rd, {gh, hidden}));
    std::optional<TensorRef> wb, rb;
    if (ctx.HasInput(3)) {
      ASSIGN_OR_RETURN(TensorRef b, ctx.Input(3));
      ASSIGN_OR_RETURN(TensorRef bd, Part(ctx, b, 0, d, 1));
      ASSIGN_OR_RETURN(bd, ReshapeTo(ctx, bd, {2 * gh}));
      ASSIGN_OR_RETURN(wb, Part(ctx, bd, 0, 0, gh));
      ASSIGN_OR_RETURN(rb, Part(ctx, bd, 0, gh, gh));
    }
    auto initial = [&](int input) -> absl::StatusOr<TensorRef> {
      if (ctx.HasInput(input)) {
        ASSIGN_OR_RETURN(TensorRef v, ctx.Input(input));
        if (spec.batch_first) {
          ASSIGN_OR_RETURN(v, ctx.Emit("Transpose", {v}, {{"perm", std::vector<int64_t>{1, 0, 2}}}));
        }
        ASSIGN_OR_RETURN(v, Part(ctx, v, 0, d, 1));
        return ReshapeTo(ctx, v, {batch, hidden});
      }
      ASSIGN_OR_RETURN(Tensor zeros, ctx.AllocateConstant(dtype, Shape{batch, hidden}));
      return ctx.Constant(zeros);
    };
    ASSIGN_OR_RETURN(TensorRef h, initial(5));
    TensorRef c = h;
    if (spec.cell == Cell::kLstm) {
      ASSIGN_OR_RETURN(c, initial(6));
    }
    std::optional<TensorRef> pi, po, pf;
    if (spec.cell == Cell::kLstm && ctx.HasInput(7)) {
      ASSIGN_OR_RETURN(TensorRef p, ctx.Input(7));
      ASSIGN_OR_RETURN(TensorRef pd, Part(ctx, p, 0, d, 1));
      ASSIGN_OR_RETURN(pd, ReshapeTo(ctx, pd, {3 * hidden}));
      ASSIGN_OR_RETURN(pi, Part(ctx, pd, 0, 0, hidden));
      ASSIGN_OR_RETURN(po, Part(ctx, pd, 0, hidden, hidden));
      ASSIGN_OR_RETURN(pf, Part(ctx, pd, 0, 2 * hidden, hidden));
    }
    const std::string* a = &acts[d * defaults.size()];
    std::vector<TensorRef> steps(seq);
    for (int64_t step = 0; step < seq; ++step) {
      const int64_t t = backward ? seq - 1 - step : step;
      ASSIGN_OR_RETURN(TensorRef xt, Part(ctx, x, 0, t, 1));
      ASSIGN_OR_RETURN(xt, ReshapeTo(ctx, xt, {batch, xs.dim(2)}));
      // x W^T + b_w and h R^T + b_r, [batch, gates * hidden] each.
      ASSIGN_OR_RETURN(TensorRef xw, ctx.Emit("MatMul", {xt, wd}, {{"transpose_b", true}}));
      if (wb) {
        ASSIGN_OR_RETURN(xw, ctx.Emit("Add", {xw, *wb}));
      }
      ASSIGN_OR_RETURN(TensorRef hr, ctx.Emit("MatMul", {h, rd}, {{"transpose_b", true}}));
      if (rb) {
        ASSIGN_OR_RETURN(hr, ctx.Emit("Add", {hr, *rb}));
      }
      auto gate = [&](TensorRef v, int k) { return Part(ctx, v, 1, k * hidden, hidden); };
      if (spec.cell == Cell::kRnn) {
        ASSIGN_OR_RETURN(TensorRef s, ctx.Emit("Add", {xw, hr}));
        ASSIGN_OR_RETURN(s, Clipped(ctx, spec, s));
        ASSIGN_OR_RETURN(h, Activate(ctx, a[0], s));
      } else if (spec.cell == Cell::kGru) {  // gates z, r, h
        ASSIGN_OR_RETURN(TensorRef xz, gate(xw, 0));
        ASSIGN_OR_RETURN(TensorRef xr, gate(xw, 1));
        ASSIGN_OR_RETURN(TensorRef xh, gate(xw, 2));
        ASSIGN_OR_RETURN(TensorRef hz, gate(hr, 0));
        ASSIGN_OR_RETURN(TensorRef hrr, gate(hr, 1));
        ASSIGN_OR_RETURN(TensorRef z, ctx.Emit("Add", {xz, hz}));
        ASSIGN_OR_RETURN(z, Clipped(ctx, spec, z));
        ASSIGN_OR_RETURN(z, Activate(ctx, a[0], z));
        ASSIGN_OR_RETURN(TensorRef rg, ctx.Emit("Add", {xr, hrr}));
        ASSIGN_OR_RETURN(rg, Clipped(ctx, spec, rg));
        ASSIGN_OR_RETURN(rg, Activate(ctx, a[0], rg));
        TensorRef hh;
        if (spec.linear_before_reset) {  // r * (h R_h^T + Rb_h)
          ASSIGN_OR_RETURN(TensorRef hh_lin, gate(hr, 2));
          ASSIGN_OR_RETURN(hh, ctx.Emit("Mul", {rg, hh_lin}));
        } else {  // (r * h) R_h^T + Rb_h
          ASSIGN_OR_RETURN(TensorRef rh, ctx.Emit("Mul", {rg, h}));
          ASSIGN_OR_RETURN(TensorRef rh_w, Part(ctx, rd, 0, 2 * hidden, hidden));
          ASSIGN_OR_RETURN(hh, ctx.Emit("MatMul", {rh, rh_w}, {{"transpose_b", true}}));
          if (rb) {
            ASSIGN_OR_RETURN(TensorRef rbh, Part(ctx, *rb, 0, 2 * hidden, hidden));
            ASSIGN_OR_RETURN(hh, ctx.Emit("Add", {hh, rbh}));
          }
        }
        ASSIGN_OR_RETURN(TensorRef cand, ctx.Emit("Add", {xh, hh}));
        ASSIGN_OR_RETURN(cand, Clipped(ctx, spec, cand));
        ASSIGN_OR_RETURN(cand, Activate(ctx, a[1], cand));
        // h = (1 - z) * cand + z * h = cand + z * (h - cand)
        ASSIGN_OR_RETURN(TensorRef diff, ctx.Emit("Sub", {h, cand}));
        ASSIGN_OR_RETURN(diff, ctx.Emit("Mul", {z, diff}));
        ASSIGN_OR_RETURN(h, ctx.Emit("Add", {cand, diff}));
      } else {  // LSTM gates i, o, f, c
        ASSIGN_OR_RETURN(TensorRef s, ctx.Emit("Add", {xw, hr}));
        ASSIGN_OR_RETURN(TensorRef i, gate(s, 0));
        ASSIGN_OR_RETURN(TensorRef o, gate(s, 1));
        ASSIGN_OR_RETURN(TensorRef f, gate(s, 2));
        ASSIGN_OR_RETURN(TensorRef cc, gate(s, 3));
        if (pi) {
          ASSIGN_OR_RETURN(TensorRef pic, ctx.Emit("Mul", {*pi, c}));
          ASSIGN_OR_RETURN(i, ctx.Emit("Add", {i, pic}));
          ASSIGN_OR_RETURN(TensorRef pfc, ctx.Emit("Mul", {*pf, c}));
          ASSIGN_OR_RETURN(f, ctx.Emit("Add", {f, pfc}));
        }
        ASSIGN_OR_RETURN(i, Clipped(ctx, spec, i));
        ASSIGN_OR_RETURN(i, Activate(ctx, a[0], i));
        ASSIGN_OR_RETURN(f, Clipped(ctx, spec, f));
        ASSIGN_OR_RETURN(f, Activate(ctx, a[0], f));
        ASSIGN_OR_RETURN(cc, Clipped(ctx, spec, cc));
        ASSIGN_OR_RETURN(cc, Activate(ctx, a[1], cc));
        ASSIGN_OR_RETURN(TensorRef fc, ctx.Emit("Mul", {f, c}));
        ASSIGN_OR_RETURN(TensorRef ic, ctx.Emit("Mul", {i, cc}));
        ASSIGN_OR_RETURN(c, ctx.Emit("Add", {fc, ic}));
        if (po) {
          ASSIGN_OR_RETURN(TensorRef poc, ctx.Emit("Mul", {*po, c}));
          ASSIGN_OR_RETURN(o, ctx.Emit("Add", {o, poc}));
        }
        ASSIGN_OR_RETURN(o, Clipped(ctx, spec, o));
        ASSIGN_OR_RETURN(o, Activate(ctx, a[0], o));
        ASSIGN_OR_RETURN(TensorRef hc, Activate(ctx, a[2], c));
        ASSIGN_OR_RETURN(h, ctx.Emit("Mul", {o, hc}));
      }
      ASSIGN_OR_RETURN(steps[t], ReshapeTo(ctx, h, {1, 1, batch, hidden}));
    }
    if (ctx.OutputUsed(0)) {
      ASSIGN_OR_RETURN(TensorRef y, steps.size() == 1 ? absl::StatusOr<TensorRef>(steps[0])
                                                      : ctx.Emit("Concat", steps, {{"axis", int64_t{0}}}));
      y_dirs.push_back(y);
    }
    ASSIGN_OR_RETURN(TensorRef h3, ReshapeTo(ctx, h, {1, batch, hidden}));
    h_dirs.push_back(h3);
    ASSIGN_OR_RETURN(TensorRef c3, ReshapeTo(ctx, c, {1, batch, hidden}));
    c_dirs.push_back(c3);
  }
  auto join = [&](const std::vector<TensorRef>& parts, int64_t axis) -> absl::StatusOr<TensorRef> {
    if (parts.size() == 1) return parts[0];
    return ctx.Emit("Concat", parts, {{"axis", axis}});
  };
  if (ctx.OutputUsed(0)) {
    ASSIGN_OR_RETURN(TensorRef y, join(y_dirs, 1));  // [seq, dirs, batch, hidden]
    if (spec.batch_first) {
      ASSIGN_OR_RETURN(y, ctx.Emit("Transpose", {y}, {{"perm", std::vector<int64_t>{2, 0, 1, 3}}}));
    }
    RETURN_IF_ERROR(ctx.SetOutput(0, y));
  }
  for (int k = 1; k <= (spec.cell == Cell::kLstm ? 2 : 1); ++k) {
    if (!ctx.OutputUsed(k)) continue;
    ASSIGN_OR_RETURN(TensorRef v, join(k == 1 ? h_dirs : c_dirs, 0));  // [dirs, batch, hidden]
    if (spec.batch_first) {
      ASSIGN_OR_RETURN(v, ctx.Emit("Transpose", {v}, {{"perm", std::vector<int64_t>{1, 0, 2}}}));
    }
    RETURN_IF_ERROR(ctx.SetOutput(k, v));
  }
  return absl::OkStatus();
}

}  // namespace kiln::onnx_import
