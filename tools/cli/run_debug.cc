#include "tools/cli/run_debug.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "graph/bind_shapes.h"
#include "graph/fusion.h"
#include "runtime/reference_interpreter.h"

namespace kiln::cli {
namespace {

// A tensor a kernel computes: every output of every node but Input and Constant.
struct Computed {
  int node;
  int output;
  std::string name;
};

absl::StatusOr<std::vector<Computed>> ComputedTensors(const Graph& graph) {
  ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
  std::vector<Computed> computed;
  for (int n : order) {
    const Node& node = graph.node(n);
    if (node.op == "Input" || node.op == "Constant") continue;
    for (int k = 0; k < static_cast<int>(node.outputs.size()); ++k) {
      computed.push_back({n, k, graph.TensorName({n, k})});
    }
  }
  return computed;
}

absl::StatusOr<std::vector<Tensor>> RunFetchingAll(const Session& session, const Feeds& feeds,
                                                   const std::vector<Computed>& computed) {
  std::vector<std::string> fetches;
  for (const Computed& c : computed) fetches.push_back(c.name);
  return session.Run(feeds, fetches);
}

// "[i, j, k]" of flat element `index` in `shape`.
std::string IndexText(const Shape& shape, int64_t index) {
  std::vector<int64_t> coord(shape.rank());
  for (int d = shape.rank() - 1; d >= 0; --d) {
    coord[d] = shape.dim(d) == 0 ? 0 : index % shape.dim(d);
    if (shape.dim(d) != 0) index /= shape.dim(d);
  }
  return absl::StrCat("[", absl::StrJoin(coord, ", "), "]");
}

std::string ValueText(const Tensor& t, int64_t i) {
  return IsFloating(t.dtype()) ? absl::StrFormat("%.9g", t.GetAsDouble(i))
                               : absl::StrCat(t.GetAsInt64(i));
}

// For a Fusion node: which ops it fused and which of them computes output `output`, so a
// divergence in a fused kernel names the ops the user wrote ("" for other nodes).
std::string ClusterText(const Node& node, int output) {
  const Graph* body = FusionBody(node);
  if (body == nullptr) return "";
  std::vector<std::string> members;
  for (const Node& member : body->nodes()) {
    if (member.op == "Input" || member.op == "Constant") continue;
    members.push_back(absl::StrCat(member.name, " (", member.op, ")"));
  }
  std::string text = absl::StrCat("; it is the fused ", node.string_attr(kFusionKindAttr),
                                  " cluster of ", absl::StrJoin(members, ", "));
  if (output < static_cast<int>(body->outputs().size())) {
    const Node& producer = body->node(body->outputs()[output].tensor.node);
    absl::StrAppend(&text, ", whose output ", output, " is '", producer.name, "' (",
                    producer.op, ")");
  }
  return text;
}

}  // namespace

CheckTolerance ToleranceFor(DataType dtype) {
  switch (dtype) {
    case DataType::kF32: return {1e-3, 1e-5};
    case DataType::kF64: return {1e-9, 1e-12};
    case DataType::kF16: return {1e-2, 1e-3};
    case DataType::kBF16: return {6e-2, 1e-2};
    default: return {0, 0};
  }
}

absl::Status CheckAgainstReference(const Session& session, const Feeds& feeds,
                                   std::ostream& out) {
  const Graph& graph = session.graph();
  ASSIGN_OR_RETURN(std::vector<Computed> computed, ComputedTensors(graph));
  ASSIGN_OR_RETURN(std::vector<Tensor> got, RunFetchingAll(session, feeds, computed));

  absl::flat_hash_map<std::string, Shape> shapes;
  absl::flat_hash_map<int, Tensor> reference_feeds;
  for (const auto& [name, tensor] : feeds) shapes[name] = tensor.shape();
  ASSIGN_OR_RETURN(Graph bound, BindInputShapes(graph, shapes));
  for (int id : bound.inputs()) {
    for (const auto& [name, tensor] : feeds) {
      if (bound.node(id).name == name) reference_feeds[id] = tensor;
    }
  }
  std::vector<TensorRef> refs;
  for (const Computed& c : computed) refs.push_back({c.node, c.output});
  ASSIGN_OR_RETURN(std::vector<Tensor> want, EvaluateReference(bound, reference_feeds, refs));

  for (size_t i = 0; i < computed.size(); ++i) {
    const Node& node = graph.node(computed[i].node);
    const Tensor& g = got[i];
    const Tensor& w = want[i];
    auto diverges = [&](absl::string_view what) {
      return absl::FailedPreconditionError(absl::StrCat(
          "check: node '", node.name, "' (", node.op, ") output ", computed[i].output,
          " diverges from the reference interpreter: ", what,
          ClusterText(node, computed[i].output)));
    };
    if (g.dtype() != w.dtype() || g.shape() != w.shape()) {
      return diverges(absl::StrCat("it is ", g.TypeString(), ", the reference ", w.TypeString()));
    }
    const CheckTolerance tol = ToleranceFor(g.dtype());
    const int64_t n = g.NumElements();
    double scale = 0;
    for (int64_t e = 0; e < n; ++e) {
      const double v = std::fabs(w.GetAsDouble(e));
      if (std::isfinite(v) && v > scale) scale = v;
    }
    int64_t worst = -1;
    double worst_excess = 0;
    for (int64_t e = 0; e < n; ++e) {
      const double a = g.GetAsDouble(e);
      const double b = w.GetAsDouble(e);
      if (std::isnan(a) && std::isnan(b)) continue;
      if (std::isinf(b) && a == b) continue;
      const double diff = std::fabs(a - b);
      const double allowed = tol.rtol * std::fabs(b) + tol.atol * scale;
      // NaN on one side only, or an infinity against a finite value, always diverges.
      const double excess = std::isfinite(diff) ? diff - allowed : INFINITY;
      if ((std::isnan(a) != std::isnan(b) || excess > 0) && (worst < 0 || excess > worst_excess)) {
        worst = e;
        worst_excess = excess;
      }
    }
    if (worst >= 0) {
      return diverges(absl::StrCat(
          "element ", IndexText(g.shape(), worst), " of ", g.TypeString(), " is ",
          ValueText(g, worst), ", the reference ", ValueText(w, worst), " (tolerance ",
          absl::StrFormat("%.3g", tol.rtol), " relative + ",
          absl::StrFormat("%.3g", tol.atol), " of the largest magnitude ",
          absl::StrFormat("%.6g", scale), ")"));
    }
  }
  out << "check: " << computed.size() << " tensors within tolerance of the reference "
      << "interpreter\n";
  return absl::OkStatus();
}

absl::Status TraceValues(const Session& session, const Feeds& feeds, std::ostream& out) {
  const Graph& graph = session.graph();
  ASSIGN_OR_RETURN(std::vector<Computed> computed, ComputedTensors(graph));
  ASSIGN_OR_RETURN(std::vector<Tensor> got, RunFetchingAll(session, feeds, computed));
  for (size_t i = 0; i < computed.size(); ++i) {
    const Node& node = graph.node(computed[i].node);
    const Tensor& t = got[i];
    const int64_t n = t.NumElements();
    int64_t nan = 0;
    int64_t inf = 0;
    double lo = INFINITY;
    double hi = -INFINITY;
    double sum = 0;
    for (int64_t e = 0; e < n; ++e) {
      const double v = t.GetAsDouble(e);
      if (std::isnan(v)) {
        ++nan;
      } else if (std::isinf(v)) {
        ++inf;
      } else {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        sum += v;
      }
    }
    const int64_t finite = n - nan - inf;
    out << "trace: " << computed[i].name << " " << node.op << " " << t.TypeString();
    if (finite > 0) {
      out << absl::StrFormat(" min=%.6g max=%.6g mean=%.6g", lo, hi, sum / finite);
    } else {
      out << " min=- max=- mean=-";
    }
    out << " nan=" << nan << " inf=" << inf << "\n";
    if (nan > 0 || inf > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "trace: node '", node.name, "' (", node.op, ") output ", computed[i].output,
          " holds ", nan, " NaN and ", inf, " infinite values; stopped there"));
    }
  }
  out << "trace: " << computed.size() << " tensors, no NaN or Inf\n";
  return absl::OkStatus();
}

}  // namespace kiln::cli
