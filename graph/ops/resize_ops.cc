// Resize: N-dimensional nearest, linear and cubic interpolation with ONNX Resize's
// coordinate transformations, evaluated like ONNX's reference (separable 1-D
// interpolations, outermost dimension last, edge-padded neighbours).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"
#include "base/status_macros.h"

namespace kiln {
namespace {

absl::Status AttrError(absl::string_view attr, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("attribute '", attr, "' ", message));
}

bool OneOf(const std::string& value, std::initializer_list<const char*> options) {
  for (const char* o : options) {
    if (value == o) return true;
  }
  return false;
}

struct ResizeParams {
  std::vector<int64_t> sizes;
  std::vector<double> scales;  // empty: sizes[d] / input[d]
  std::vector<double> roi;     // empty, or starts then ends (tf_crop_and_resize)
  std::string mode;
  std::string transform;
  std::string nearest_mode;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0;
};

absl::StatusOr<ResizeParams> GetParams(const Node& node, int rank) {
  ResizeParams p;
  p.sizes = node.ints_attr("sizes");
  p.scales = node.attr<std::vector<double>>("scales");
  p.roi = node.attr<std::vector<double>>("roi");
  p.mode = node.string_attr("mode");
  p.transform = node.string_attr("coordinate_transformation_mode");
  p.nearest_mode = node.string_attr("nearest_mode");
  p.cubic_a = node.float_attr("cubic_coeff_a");
  p.exclude_outside = node.bool_attr("exclude_outside");
  p.extrapolation = node.float_attr("extrapolation_value");
  if (static_cast<int>(p.sizes.size()) != rank) {
    return AttrError("sizes", absl::StrCat("has ", p.sizes.size(), " entries, expected ", rank,
                                           " (the rank of input 'x')"));
  }
  for (size_t d = 0; d < p.sizes.size(); ++d) {
    if (p.sizes[d] < 0 || p.sizes[d] > kMaxElements) {
      return AttrError("sizes", absl::StrCat("entry ", d, " is ", p.sizes[d]));
    }
  }
  if (!p.scales.empty() && static_cast<int>(p.scales.size()) != rank) {
    return AttrError("scales", absl::StrCat("has ", p.scales.size(), " entries, expected ", rank, " or none"));
  }
  for (double s : p.scales) {
    if (!(s > 0) || !std::isfinite(s)) return AttrError("scales", absl::StrCat("holds ", s, "; expected > 0"));
  }
  if (!OneOf(p.mode, {"nearest", "linear", "cubic"})) {
    return AttrError("mode", absl::StrCat("is \"", p.mode, "\", expected nearest, linear or cubic"));
  }
  if (!OneOf(p.transform, {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                           "tf_crop_and_resize"})) {
    return AttrError("coordinate_transformation_mode", absl::StrCat("is \"", p.transform, "\""));
  }
  if (!OneOf(p.nearest_mode, {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"})) {
    return AttrError("nearest_mode", absl::StrCat("is \"", p.nearest_mode, "\""));
  }
  if (p.transform == "tf_crop_and_resize" ? static_cast<int>(p.roi.size()) != 2 * rank
                                          : !p.roi.empty()) {
    return AttrError("roi", absl::StrCat("has ", p.roi.size(), " entries; tf_crop_and_resize needs ",
                                         2 * rank, " (starts, then ends) and other modes none"));
  }
  for (double r : p.roi) {
    if (!std::isfinite(r)) return AttrError("roi", "holds a non-finite value");
  }
  return p;
}

absl::Status ResizeInfer(InferContext& ctx) {
  const Shape& x = ctx.inputs[0].shape;
  ASSIGN_OR_RETURN(ResizeParams p, GetParams(ctx.node, x.rank()));
  for (int d = 0; d < x.rank(); ++d) {
    if (x.dim(d) == 0 && p.sizes[d] > 0) {
      return AttrError("sizes", absl::StrCat("asks for ", p.sizes[d], " elements along dimension ", d,
                                             ", where input 'x' ", x.ToString(), " is empty"));
    }
  }
  ctx.outputs.push_back({ctx.inputs[0].dtype, Shape(p.sizes)});
  return absl::OkStatus();
}

// How output coordinate i of one dimension reads the input: `taps` input indices
// (clamped to the input) and their weights, or the extrapolation value.
struct Taps {
  bool extrapolate = false;
  std::vector<int64_t> index;
  std::vector<double> weight;
};

std::vector<double> Coefficients(const ResizeParams& p, double ratio) {
  if (p.mode == "linear") return {1 - ratio, ratio};
  if (p.mode == "cubic") {
    const double a = p.cubic_a;
    const double r1 = ratio + 1, q = 1 - ratio, q1 = q + 1;
    return {((a * r1 - 5 * a) * r1 + 8 * a) * r1 - 4 * a,
            ((a + 2) * ratio - (a + 3)) * ratio * ratio + 1,
            ((a + 2) * q - (a + 3)) * q * q + 1,
            ((a * q1 - 5 * a) * q1 + 8 * a) * q1 - 4 * a};
  }
  if (ratio == 1) return {0, 1};  // on an input sample
  if (p.nearest_mode == "round_prefer_floor") return {ratio <= 0.5 ? 1.0 : 0.0, ratio > 0.5 ? 1.0 : 0.0};
  if (p.nearest_mode == "round_prefer_ceil") return {ratio < 0.5 ? 1.0 : 0.0, ratio >= 0.5 ? 1.0 : 0.0};
  if (p.nearest_mode == "floor") return {1, 0};
  return {0, 1};
}

Taps TapsFor(const ResizeParams& p, int d, int64_t i, int64_t in, int64_t out) {
  const double scale = p.scales.empty() ? static_cast<double>(out) / static_cast<double>(in) : p.scales[d];
  const double out_width = scale * static_cast<double>(in);
  const double x = static_cast<double>(i);
  double src = 0;
  Taps t;
  if (p.transform == "align_corners") {
    src = out_width == 1 ? 0.0 : x * (in - 1) / (out_width - 1);
  } else if (p.transform == "asymmetric") {
    src = x / scale;
  } else if (p.transform == "tf_crop_and_resize") {
    const int rank = static_cast<int>(p.roi.size() / 2);
    const double start = p.roi[d], end = p.roi[rank + d];
    src = out_width == 1 ? (end - start) * (in - 1) / 2 : x * (end - start) * (in - 1) / (out_width - 1);
    src += start * (in - 1);
    if (src < 0 || src > static_cast<double>(in - 1)) {
      t.extrapolate = true;
      return t;
    }
  } else if (p.transform == "pytorch_half_pixel") {
    src = out_width == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
  } else {
    src = (x + 0.5) / scale - 0.5;
  }
  // Floor and ratio as the reference: an integral position has ratio 1 over (src-1, src).
  double base = std::floor(src);
  double ratio = src - base;
  if (ratio == 0) {
    ratio = 1;
    base -= 1;
  }
  t.weight = Coefficients(p, ratio);
  const int64_t n = static_cast<int64_t>(t.weight.size());
  // The n nearest positions of the edge-padded input (pad ceil(n/2) on each side).
  const int64_t pad = (n + 1) / 2;
  double first = base - static_cast<double>(n / 2 - 1);
  first = std::clamp(first, static_cast<double>(-pad), static_cast<double>(in - 1 + pad - (n - 1)));
  const int64_t start = static_cast<int64_t>(first);
  double kept = 0;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t idx = start + k;
    if (p.exclude_outside && (idx < 0 || idx >= in)) t.weight[k] = 0;
    kept += t.weight[k];
    t.index.push_back(std::clamp<int64_t>(idx, 0, in - 1));
  }
  if (p.exclude_outside && kept != 0) {
    for (double& w : t.weight) w /= kept;
  }
  return t;
}

struct Evaluator {
  const Tensor& x;
  const ResizeParams& p;
  std::vector<std::vector<Taps>> taps;  // [dim][output coordinate]
  std::vector<int64_t> strides;         // of x

  // Interpolated value at output coordinates `out` for dimensions d.., reading x from
  // `offset` (the input index of dimensions before d). Zero weights are skipped, so
  // nearest costs one read per element.
  double Value(const std::vector<int64_t>& out, int d, int64_t offset) const {
    if (d == static_cast<int>(out.size())) return x.GetAsDouble(offset);
    const Taps& t = taps[d][out[d]];
    if (t.extrapolate) return p.extrapolation;
    double sum = 0;
    for (size_t k = 0; k < t.index.size(); ++k) {
      if (t.weight[k] == 0) continue;
      sum += t.weight[k] * Value(out, d + 1, offset + t.index[k] * strides[d]);
    }
    return sum;
  }
};

absl::Status ResizeKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  Tensor& y = ctx.outputs[0];
  const int rank = x.shape().rank();
  ASSIGN_OR_RETURN(ResizeParams p, GetParams(ctx.node, rank));
  if (y.NumElements() == 0) return absl::OkStatus();
  Evaluator e{x, p, std::vector<std::vector<Taps>>(rank), RowMajorStrides(x.shape())};
  for (int d = 0; d < rank; ++d) {
    for (int64_t i = 0; i < y.shape().dim(d); ++i) {
      e.taps[d].push_back(TapsFor(p, d, i, x.shape().dim(d), y.shape().dim(d)));
    }
  }
  std::vector<int64_t> out(rank, 0);
  for (int64_t i = 0; i < y.NumElements(); ++i) {
    y.SetFromDouble(i, e.Value(out, 0, 0));
    for (int d = rank - 1; d >= 0; --d) {
      if (++out[d] < y.shape().dim(d)) break;
      out[d] = 0;
    }
  }
  return absl::OkStatus();
}

// Per output element, one multiply-add per tap of every resized dimension.
int64_t ResizeFlops(const Node& node, absl::Span<const TensorType> inputs,
                    absl::Span<const TensorType> outputs) {
  const Shape& in = inputs[0].shape;
  const Shape& out = outputs[0].shape;
  if (!out.IsFullyKnown() || !in.IsFullyKnown()) return 0;
  const std::string& mode = node.string_attr("mode");
  const int64_t taps = mode == "cubic" ? 4 : (mode == "linear" ? 2 : 1);
  int64_t per_element = 1;
  for (int d = 0; d < in.rank(); ++d) {
    if (in.dim(d) != out.dim(d)) per_element *= taps;
  }
  return mode == "nearest" ? 0 : 2 * per_element * out.NumElements();
}

}  // namespace

void RegisterResizeOps(OpRegistry& registry) {
  MustRegister(registry, OpDef{
      .name = "Resize",
      .summary =
          "Resamples x to shape `sizes` by ONNX Resize's rules: each output coordinate maps to "
          "an input position by coordinate_transformation_mode (half_pixel, "
          "pytorch_half_pixel, align_corners, asymmetric, or tf_crop_and_resize with `roi` "
          "= starts then ends, outside which extrapolation_value is returned) using the "
          "per-dimension `scales` (empty: sizes/input); mode nearest (rounded by "
          "nearest_mode), linear or cubic (coefficient cubic_coeff_a, exclude_outside "
          "renormalizing weights inside the input) interpolates separably over edge-clamped "
          "neighbours.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"sizes", AttrType::kInts, std::nullopt},
                {"scales", AttrType::kFloats, std::vector<double>{}},
                {"roi", AttrType::kFloats, std::vector<double>{}},
                {"mode", AttrType::kString, std::string("nearest")},
                {"coordinate_transformation_mode", AttrType::kString, std::string("half_pixel")},
                {"nearest_mode", AttrType::kString, std::string("round_prefer_floor")},
                {"cubic_coeff_a", AttrType::kFloat, -0.75},
                {"exclude_outside", AttrType::kBool, false},
                {"extrapolation_value", AttrType::kFloat, 0.0}},
      .dtypes = FloatTypes(),
      .traits = kTraitNone,
      .infer = ResizeInfer,
      .reference = ResizeKernel,
      .flops = ResizeFlops,
  });
}

}  // namespace kiln
