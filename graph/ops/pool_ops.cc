// MaxPool, AvgPool and GlobalAvgPool: windowed and global reductions over the spatial
// dimensions of NCHW or NHWC activations.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"
#include "graph/ops/window_internal.h"
#include "base/status_macros.h"

namespace kiln {
namespace {

// Every attribute of a MaxPool or AvgPool node, validated.
struct PoolParams {
  ImageLayout layout;
  std::vector<int64_t> kernel;   // h, w
  std::vector<int64_t> strides;  // h, w
  std::vector<int64_t> pads;     // top, left, bottom, right
};

absl::StatusOr<PoolParams> GetPoolParams(const Node& node) {
  PoolParams p;
  ASSIGN_OR_RETURN(p.layout, ParseDataFormat(node));
  ASSIGN_OR_RETURN(p.kernel, WindowAttr(node, "kernel", 2, 1));
  ASSIGN_OR_RETURN(p.strides, WindowAttr(node, "strides", 2, 1));
  ASSIGN_OR_RETURN(p.pads, WindowAttr(node, "pads", 4, 0));
  // As in ONNX and PyTorch: a pad as large as the kernel would allow windows holding
  // only padding, whose max or mean is undefined.
  static constexpr const char* kPadNames[] = {"top", "left", "bottom", "right"};
  for (int i = 0; i < 4; ++i) {
    int64_t k = p.kernel[i % 2];
    if (p.pads[i] >= k) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attribute 'pads' entry ", i, " (", kPadNames[i], ") is ", p.pads[i],
          ", expected less than the kernel ", i % 2 == 0 ? "height " : "width ", k));
    }
  }
  return p;
}

absl::Status CheckImage(const Shape& x) {
  if (x.rank() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("input 'x' has shape ", x.ToString(), ", expected rank 4"));
  }
  return absl::OkStatus();
}

// A window over an empty spatial dimension would hold only padding (see GetPoolParams).
absl::Status CheckSpatialNonEmpty(const Shape& x, const ImageLayout& l) {
  if (x.dim(l.h) == 0 || x.dim(l.w) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input 'x' has shape ", x.ToString(),
        ": pooling needs non-empty height and width (a window would hold no elements)"));
  }
  return absl::OkStatus();
}

absl::Status InferPool(InferContext& ctx) {
  const Shape& x = ctx.inputs[0].shape;
  RETURN_IF_ERROR(CheckImage(x));
  ASSIGN_OR_RETURN(PoolParams p, GetPoolParams(ctx.node));
  const ImageLayout& l = p.layout;
  RETURN_IF_ERROR(CheckSpatialNonEmpty(x, l));
  Shape out = x;
  ASSIGN_OR_RETURN(out.dim(l.h), WindowOutputSize(x.dim(l.h), p.kernel[0], p.strides[0], 1,
                                                  p.pads[0], p.pads[2], "height"));
  ASSIGN_OR_RETURN(out.dim(l.w), WindowOutputSize(x.dim(l.w), p.kernel[1], p.strides[1], 1,
                                                  p.pads[1], p.pads[3], "width"));
  ctx.outputs.push_back({ctx.inputs[0].dtype, out});
  return absl::OkStatus();
}

enum class PoolKind { kMax, kAvg };

// Each output is the max or mean of the window's elements that lie inside x. For the
// mean, the divisor is that element count, or the full window size when
// count_include_pad is set (padding then counts as zeros).
absl::Status RunPool(KernelContext& ctx, PoolKind kind) {
  ASSIGN_OR_RETURN(PoolParams p, GetPoolParams(ctx.node));
  const bool include_pad = kind == PoolKind::kAvg && ctx.node.bool_attr("count_include_pad");
  const Tensor& x = ctx.inputs[0];
  Tensor& y = ctx.outputs[0];
  const ImageLayout& l = p.layout;
  // A non-empty output has non-empty N, C (and H, W, checked at inference), so x is too.
  if (y.NumElements() == 0) return absl::OkStatus();
  const std::vector<int64_t> xs = RowMajorStrides(x.shape());
  const std::vector<int64_t> ys = RowMajorStrides(y.shape());
  const int64_t in_h = x.shape().dim(l.h);
  const int64_t in_w = x.shape().dim(l.w);

  for (int64_t n = 0; n < y.shape().dim(l.n); ++n) {
    for (int64_t c = 0; c < y.shape().dim(l.c); ++c) {
      for (int64_t oh = 0; oh < y.shape().dim(l.h); ++oh) {
        for (int64_t ow = 0; ow < y.shape().dim(l.w); ++ow) {
          double max = -std::numeric_limits<double>::infinity();
          double sum = 0.0;
          int64_t count = 0;
          for (int64_t i = 0; i < p.kernel[0]; ++i) {
            const int64_t ih = oh * p.strides[0] - p.pads[0] + i;
            if (ih < 0 || ih >= in_h) continue;
            for (int64_t j = 0; j < p.kernel[1]; ++j) {
              const int64_t iw = ow * p.strides[1] - p.pads[1] + j;
              if (iw < 0 || iw >= in_w) continue;
              const double v =
                  x.GetAsDouble(n * xs[l.n] + c * xs[l.c] + ih * xs[l.h] + iw * xs[l.w]);
              // NaN propagates, as in PyTorch: a NaN max is never replaced.
              if (!std::isnan(max) && (v > max || std::isnan(v))) max = v;
              sum += v;
              ++count;
            }
          }
          double value;
          if (kind == PoolKind::kMax) {
            value = max;
          } else {
            const int64_t divisor = include_pad ? p.kernel[0] * p.kernel[1] : count;
            value = sum / static_cast<double>(divisor);
          }
          y.SetFromDouble(n * ys[l.n] + c * ys[l.c] + oh * ys[l.h] + ow * ys[l.w], value);
        }
      }
    }
  }
  return absl::OkStatus();
}

// One comparison or addition per window element of every output.
int64_t PoolFlops(const Node& node, absl::Span<const TensorType> inputs,
                  absl::Span<const TensorType> outputs) {
  absl::StatusOr<PoolParams> p = GetPoolParams(node);
  if (!p.ok() || outputs.empty() || outputs[0].shape.rank() != 4) return 0;
  const Shape& y = outputs[0].shape;
  return SaturatingProduct({y.dim(0), y.dim(1), y.dim(2), y.dim(3), p->kernel[0], p->kernel[1]});
}

absl::Status InferGlobalAvgPool(InferContext& ctx) {
  const Shape& x = ctx.inputs[0].shape;
  RETURN_IF_ERROR(CheckImage(x));
  ASSIGN_OR_RETURN(ImageLayout l, ParseDataFormat(ctx.node));
  // The mean of no elements is undefined.
  RETURN_IF_ERROR(CheckSpatialNonEmpty(x, l));
  Shape out = x;
  out.dim(l.h) = 1;
  out.dim(l.w) = 1;
  ctx.outputs.push_back({ctx.inputs[0].dtype, out});
  return absl::OkStatus();
}

absl::Status RunGlobalAvgPool(KernelContext& ctx) {
  ASSIGN_OR_RETURN(ImageLayout l, ParseDataFormat(ctx.node));
  const Tensor& x = ctx.inputs[0];
  Tensor& y = ctx.outputs[0];
  if (y.NumElements() == 0) return absl::OkStatus();
  const std::vector<int64_t> xs = RowMajorStrides(x.shape());
  const std::vector<int64_t> ys = RowMajorStrides(y.shape());
  const int64_t in_h = x.shape().dim(l.h);
  const int64_t in_w = x.shape().dim(l.w);
  for (int64_t n = 0; n < x.shape().dim(l.n); ++n) {
    for (int64_t c = 0; c < x.shape().dim(l.c); ++c) {
      double sum = 0.0;
      for (int64_t h = 0; h < in_h; ++h) {
        for (int64_t w = 0; w < in_w; ++w) {
          sum += x.GetAsDouble(n * xs[l.n] + c * xs[l.c] + h * xs[l.h] + w * xs[l.w]);
        }
      }
      y.SetFromDouble(n * ys[l.n] + c * ys[l.c], sum / static_cast<double>(in_h * in_w));
    }
  }
  return absl::OkStatus();
}

// One addition per input element.
int64_t GlobalAvgPoolFlops(const Node& node, absl::Span<const TensorType> inputs,
                           absl::Span<const TensorType> outputs) {
  if (inputs.empty() || inputs[0].shape.rank() != 4) return 0;
  const Shape& x = inputs[0].shape;
  return SaturatingProduct({x.dim(0), x.dim(1), x.dim(2), x.dim(3)});
}

std::vector<AttrSpec> PoolAttrs() {
  return {{"kernel", AttrType::kInts, std::nullopt},
          {"strides", AttrType::kInts, std::vector<int64_t>{1, 1}},
          {"pads", AttrType::kInts, std::vector<int64_t>{0, 0, 0, 0}},
          {"data_format", AttrType::kString, std::string("NCHW")}};
}

}  // namespace

void RegisterPoolOps(OpRegistry& registry) {
  MustRegister(registry, OpDef{
      .name = "MaxPool",
      .summary =
          "Maximum over each kernel[0] x kernel[1] window of the spatial dimensions, moving by "
          "strides; pads [top,left,bottom,right] (each less than the kernel) add -inf, so "
          "padding never wins; data_format is NCHW or NHWC; NaN propagates.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = PoolAttrs(),
      .dtypes = FloatTypes(),
      .traits = kLayoutSelectable,
      .infer = InferPool,
      .reference = [](KernelContext& ctx) { return RunPool(ctx, PoolKind::kMax); },
      .flops = PoolFlops,
  });

  std::vector<AttrSpec> avg_attrs = PoolAttrs();
  avg_attrs.push_back({"count_include_pad", AttrType::kBool, false});
  MustRegister(registry, OpDef{
      .name = "AvgPool",
      .summary =
          "Mean over each kernel[0] x kernel[1] window of the spatial dimensions, moving by "
          "strides; pads [top,left,bottom,right] (each less than the kernel) are excluded "
          "from the divisor unless count_include_pad, which divides by the full window size; "
          "data_format is NCHW or NHWC.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = std::move(avg_attrs),
      .dtypes = FloatTypes(),
      .traits = kLayoutSelectable,
      .infer = InferPool,
      .reference = [](KernelContext& ctx) { return RunPool(ctx, PoolKind::kAvg); },
      .flops = PoolFlops,
  });

  MustRegister(registry, OpDef{
      .name = "GlobalAvgPool",
      .summary =
          "Mean over the (non-empty) height and width of a rank-4 tensor, kept as size 1: "
          "[N,C,H,W] -> [N,C,1,1] for data_format NCHW, [N,H,W,C] -> [N,1,1,C] for NHWC.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"data_format", AttrType::kString, std::string("NCHW")}},
      .dtypes = FloatTypes(),
      // Not kReduction: its axes follow from data_format, not from an 'axes' attribute.
      .traits = kLayoutSelectable,
      .infer = InferGlobalAvgPool,
      .reference = RunGlobalAvgPool,
      .flops = GlobalAvgPoolFlops,
  });
}

}  // namespace kiln
