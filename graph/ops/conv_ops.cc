// Conv2D: grouped, strided, padded, dilated 2-D convolution over NCHW or NHWC activations
// with OIHW or HWIO filters and an optional per-output-channel bias.
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"
#include "graph/ops/window_internal.h"
#include "base/status_macros.h"

namespace kiln {
namespace {

// Positions of the output-channel, input-channel, height and width dimensions of a filter.
struct FilterLayout {
  int o;
  int i;
  int h;
  int w;
};

absl::StatusOr<FilterLayout> ParseFilterFormat(const Node& node) {
  const std::string& format = node.string_attr("filter_format");
  if (format == "OIHW") return FilterLayout{0, 1, 2, 3};
  if (format == "HWIO") return FilterLayout{3, 2, 0, 1};
  return absl::InvalidArgumentError(absl::StrCat("attribute 'filter_format' is \"", format,
                                                 "\", expected \"OIHW\" or \"HWIO\""));
}

// Every attribute of a Conv2D node, validated.
struct ConvParams {
  ImageLayout layout;
  FilterLayout filter_layout;
  std::vector<int64_t> strides;    // h, w
  std::vector<int64_t> pads;       // top, left, bottom, right
  std::vector<int64_t> dilations;  // h, w
  int64_t groups = 1;
};

absl::StatusOr<ConvParams> GetConvParams(const Node& node) {
  ConvParams p;
  ASSIGN_OR_RETURN(p.layout, ParseDataFormat(node));
  ASSIGN_OR_RETURN(p.filter_layout, ParseFilterFormat(node));
  ASSIGN_OR_RETURN(p.strides, WindowAttr(node, "strides", 2, 1));
  ASSIGN_OR_RETURN(p.pads, WindowAttr(node, "pads", 4, 0));
  ASSIGN_OR_RETURN(p.dilations, WindowAttr(node, "dilations", 2, 1));
  p.groups = node.int_attr("groups");
  if (p.groups < 1 || p.groups > kMaxElements) {
    return absl::InvalidArgumentError(
        absl::StrCat("attribute 'groups' is ", p.groups, ", expected in [1, 2^40]"));
  }
  return p;
}

absl::Status InferConv2D(InferContext& ctx) {
  const Shape& x = ctx.inputs[0].shape;
  const Shape& filter = ctx.inputs[1].shape;
  if (x.rank() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("input 'x' has shape ", x.ToString(), ", expected rank 4"));
  }
  if (filter.rank() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("input 'filter' has shape ", filter.ToString(), ", expected rank 4"));
  }
  RETURN_IF_ERROR(CheckSameDtype(ctx, 1));
  ASSIGN_OR_RETURN(ConvParams p, GetConvParams(ctx.node));
  const ImageLayout& l = p.layout;
  const FilterLayout& fl = p.filter_layout;

  int64_t channels = x.dim(l.c);
  int64_t out_channels = filter.dim(fl.o);
  int64_t group_channels = filter.dim(fl.i);
  int64_t kh = filter.dim(fl.h);
  int64_t kw = filter.dim(fl.w);
  if (kh == 0 || kw == 0) {
    return absl::InvalidArgumentError(absl::StrCat("input 'filter' has shape ",
                                                   filter.ToString(),
                                                   ": kernel height and width must be >= 1"));
  }
  if (channels != kUnknownDim && channels % p.groups != 0) {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'groups' (", p.groups,
                                                   ") does not divide the ", channels,
                                                   " input channels of input 'x'"));
  }
  if (out_channels != kUnknownDim && out_channels % p.groups != 0) {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'groups' (", p.groups,
                                                   ") does not divide the ", out_channels,
                                                   " output channels of input 'filter'"));
  }
  if (channels != kUnknownDim && group_channels != kUnknownDim &&
      group_channels != channels / p.groups) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input 'filter' has ", group_channels, " input channels per group, expected ",
        channels / p.groups, " (", channels, " channels of input 'x' / groups ", p.groups, ")"));
  }
  if (ctx.inputs.size() == 3) {
    RETURN_IF_ERROR(CheckSameDtype(ctx, 2));
    const Shape& bias = ctx.inputs[2].shape;
    if (bias.rank() != 1 || (bias.dim(0) != kUnknownDim && out_channels != kUnknownDim &&
                             bias.dim(0) != out_channels)) {
      return absl::InvalidArgumentError(absl::StrCat("input 'bias' has shape ", bias.ToString(),
                                                     ", expected [", out_channels, "]"));
    }
  }

  int64_t out_h = kUnknownDim;
  int64_t out_w = kUnknownDim;
  if (kh != kUnknownDim) {
    ASSIGN_OR_RETURN(out_h, WindowOutputSize(x.dim(l.h), kh, p.strides[0], p.dilations[0],
                                             p.pads[0], p.pads[2], "height"));
  }
  if (kw != kUnknownDim) {
    ASSIGN_OR_RETURN(out_w, WindowOutputSize(x.dim(l.w), kw, p.strides[1], p.dilations[1],
                                             p.pads[1], p.pads[3], "width"));
  }
  Shape out(std::vector<int64_t>(4));
  out.dim(l.n) = x.dim(l.n);
  out.dim(l.c) = out_channels;
  out.dim(l.h) = out_h;
  out.dim(l.w) = out_w;
  ctx.outputs.push_back({ctx.inputs[0].dtype, out});
  return absl::OkStatus();
}

// y[n, o, oh, ow] = bias[o] + sum over the channels c of o's group and the taps (i, j) of
// x[n, c, oh * sh - top + i * dh, ow * sw - left + j * dw] * filter[o, c - group start, i, j],
// reading zero outside x. Layouts are handled through per-dimension strides.
absl::Status RunConv2DUnclamped(KernelContext& ctx) {
  ASSIGN_OR_RETURN(ConvParams p, GetConvParams(ctx.node));
  const Tensor& x = ctx.inputs[0];
  const Tensor& filter = ctx.inputs[1];
  const Tensor* bias = ctx.inputs.size() == 3 ? &ctx.inputs[2] : nullptr;
  Tensor& y = ctx.outputs[0];
  const ImageLayout& l = p.layout;
  const FilterLayout& fl = p.filter_layout;

  if (y.NumElements() == 0) return absl::OkStatus();
  // An empty x or filter may have dimensions whose products overflow int64 (a valid shape
  // bounds only the dimensions before its first 0); the loops below never read them.
  const std::vector<int64_t> xs =
      x.NumElements() > 0 ? RowMajorStrides(x.shape()) : std::vector<int64_t>(4, 0);
  const std::vector<int64_t> fs =
      filter.NumElements() > 0 ? RowMajorStrides(filter.shape()) : std::vector<int64_t>(4, 0);
  const std::vector<int64_t> ys = RowMajorStrides(y.shape());
  const int64_t batch = x.shape().dim(l.n);
  const int64_t in_h = x.shape().dim(l.h);
  const int64_t in_w = x.shape().dim(l.w);
  const int64_t out_channels = y.shape().dim(l.c);
  const int64_t out_h = y.shape().dim(l.h);
  const int64_t out_w = y.shape().dim(l.w);
  const int64_t group_channels = filter.shape().dim(fl.i);
  const int64_t kh = filter.shape().dim(fl.h);
  const int64_t kw = filter.shape().dim(fl.w);
  const int64_t outs_per_group = out_channels / p.groups;

  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t o = 0; o < out_channels; ++o) {
      const int64_t first_channel = (o / outs_per_group) * group_channels;
      for (int64_t oh = 0; oh < out_h; ++oh) {
        for (int64_t ow = 0; ow < out_w; ++ow) {
          double acc = bias != nullptr ? bias->GetAsDouble(o) : 0.0;
          for (int64_t ic = 0; ic < group_channels; ++ic) {
            const int64_t c = first_channel + ic;
            for (int64_t i = 0; i < kh; ++i) {
              const int64_t ih = oh * p.strides[0] - p.pads[0] + i * p.dilations[0];
              if (ih < 0 || ih >= in_h) continue;
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t iw = ow * p.strides[1] - p.pads[1] + j * p.dilations[1];
                if (iw < 0 || iw >= in_w) continue;
                const int64_t xi = n * xs[l.n] + c * xs[l.c] + ih * xs[l.h] + iw * xs[l.w];
                const int64_t fi = o * fs[fl.o] + ic * fs[fl.i] + i * fs[fl.h] + j * fs[fl.w];
                acc += x.GetAsDouble(xi) * filter.GetAsDouble(fi);
              }
            }
          }
          y.SetFromDouble(n * ys[l.n] + o * ys[l.c] + oh * ys[l.h] + ow * ys[l.w], acc);
        }
      }
    }
  }
  return absl::OkStatus();
}

// 2 * N * OH * OW * O * (C_in / groups) * KH * KW: one multiply and one add per tap.
int64_t Conv2DFlops(const Node& node, absl::Span<const TensorType> inputs,
                    absl::Span<const TensorType> outputs) {
  absl::StatusOr<ConvParams> p = GetConvParams(node);
  if (!p.ok() || inputs.size() < 2 || outputs.empty()) return 0;
  const Shape& f = inputs[1].shape;
  const Shape& y = outputs[0].shape;
  if (f.rank() != 4 || y.rank() != 4) return 0;
  const ImageLayout& l = p->layout;
  const FilterLayout& fl = p->filter_layout;
  return SaturatingProduct({2, y.dim(l.n), y.dim(l.h), y.dim(l.w), y.dim(l.c), f.dim(fl.i),
                            f.dim(fl.h), f.dim(fl.w)});
}

// Conv2D's reference: the convolution, then its clamp_min / clamp_max (a folded ReLU).
absl::Status RunConv2D(KernelContext& ctx) {
  RETURN_IF_ERROR(RunConv2DUnclamped(ctx));
  ClampOutput(ctx.node, ctx.outputs[0]);
  return absl::OkStatus();
}

// PackedConv2D: an NHWC Conv2D (groups 1) whose constant HWIO filter, read as the
// [KH*KW*C, O] matrix it is, was packed for a kernel library's GEMM (passes/pack_weights.h)
// into column panels [P, KH*KW*C, W]: panel q holds output channels [qW, qW + W), zero past
// O. Everything else is Conv2D's, through the Conv2D node and HWIO filter it stands for.

// The Conv2D node a PackedConv2D stands for.
Node AsConv2D(const Node& packed) {
  Node conv = packed;
  conv.op = "Conv2D";
  conv.attrs.erase("kernel_shape");
  conv.attrs.erase("out_channels");
  conv.attrs["groups"] = int64_t{1};
  conv.attrs["data_format"] = std::string("NHWC");
  conv.attrs["filter_format"] = std::string("HWIO");
  return conv;
}

// The HWIO filter type [KH, KW, C, O] of a PackedConv2D with input x, after checking the
// packed filter against it.
absl::StatusOr<TensorType> LogicalFilter(const Node& node, const TensorType& x,
                                         const TensorType& packed) {
  const std::vector<int64_t>& kernel = node.ints_attr("kernel_shape");
  const int64_t o = node.int_attr("out_channels");
  if (kernel.size() != 2 || kernel[0] < 1 || kernel[1] < 1 || o < 0) {
    return absl::InvalidArgumentError(
        "attributes 'kernel_shape' (two sizes >= 1) and 'out_channels' (>= 0) are required");
  }
  if (x.shape.rank() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("input 'x' has shape ", x.shape.ToString(), ", expected rank 4 (NHWC)"));
  }
  const int64_t c = x.shape.dim(3);
  const Shape& p = packed.shape;
  if (p.rank() != 3 || p.dim(2) < 1 || p.dim(0) != (o + p.dim(2) - 1) / p.dim(2) ||
      (c != kUnknownDim && p.dim(1) != kernel[0] * kernel[1] * c)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input 'filter_packed' ", p.ToString(), " is not [ceil(", o, " / W), ", kernel[0], " * ",
        kernel[1], " * ", c, ", W] for ", o, " output channels"));
  }
  return TensorType{packed.dtype, Shape{kernel[0], kernel[1], c, o}};
}

absl::Status InferPackedConv2D(InferContext& ctx) {
  ASSIGN_OR_RETURN(TensorType filter, LogicalFilter(ctx.node, ctx.inputs[0], ctx.inputs[1]));
  // The Conv2D's inputs: x, the logical filter and the bias; a residual is added after.
  std::vector<TensorType> inputs(ctx.inputs.begin(),
                                 ctx.inputs.begin() + std::min<size_t>(3, ctx.inputs.size()));
  inputs[1] = filter;
  const Node conv = AsConv2D(ctx.node);
  InferContext as_conv{conv, inputs, ctx.outputs};
  RETURN_IF_ERROR(InferConv2D(as_conv));
  return CheckResidualInput(ctx, 3);
}

// conv(x, filter) + bias, then the residual (input 3), then the clamp: a packed
// convolution's reference once its filter is back in HWIO form.
absl::Status RunAsConv2D(KernelContext& ctx, const Node& conv, Tensor filter) {
  std::vector<Tensor> inputs(ctx.inputs.begin(),
                             ctx.inputs.begin() + std::min<size_t>(3, ctx.inputs.size()));
  inputs[1] = std::move(filter);
  KernelContext as_conv{conv, inputs, ctx.outputs};
  RETURN_IF_ERROR(RunConv2DUnclamped(as_conv));
  if (ctx.inputs.size() == 4) {
    Tensor& y = ctx.outputs[0];
    for (int64_t i = 0; i < y.NumElements(); ++i) {
      y.SetFromDouble(i, y.GetAsDouble(i) + ctx.inputs[3].GetAsDouble(i));
    }
  }
  ClampOutput(ctx.node, ctx.outputs[0]);
  return absl::OkStatus();
}

absl::Status RunPackedConv2D(KernelContext& ctx) {
  ASSIGN_OR_RETURN(TensorType type,
                   LogicalFilter(ctx.node, {ctx.inputs[0].dtype(), ctx.inputs[0].shape()},
                                 {ctx.inputs[1].dtype(), ctx.inputs[1].shape()}));
  ASSIGN_OR_RETURN(Tensor filter, Tensor::Allocate(type.dtype, type.shape));
  const Tensor& packed = ctx.inputs[1];
  const int64_t k = packed.shape().dim(1);
  const int64_t width = packed.shape().dim(2);
  const int64_t o = type.shape.dim(3);
  for (int64_t p = 0; p < k; ++p) {
    for (int64_t j = 0; j < o; ++j) {
      filter.SetFromDouble(p * o + j,
                           packed.GetAsDouble((j / width) * k * width + p * width + j % width));
    }
  }
  return RunAsConv2D(ctx, AsConv2D(ctx.node), std::move(filter));
}

int64_t PackedConv2DFlops(const Node& node, absl::Span<const TensorType> inputs,
                          absl::Span<const TensorType> outputs) {
  absl::StatusOr<TensorType> filter = LogicalFilter(node, inputs[0], inputs[1]);
  if (!filter.ok()) return 0;
  std::vector<TensorType> types(inputs.begin(), inputs.end());
  types[1] = *filter;
  return Conv2DFlops(AsConv2D(node), types, outputs);
}

// WinogradConv2D: a 3x3, stride-1, undilated NHWC Conv2D (groups 1) whose constant HWIO
// filter g was taken to Winograd's F(m x m, 3x3) domain by the compiler, m = 4 or 2:
// U = G g G^T ((m + 2)^2 per input and output channel, G below), position
// xi = (m + 2) i + j of U as a [C, O] matrix in column panels [P, C, W] like
// PackedConv2D's: filter_winograd [36 or 16, P, C, W]. The reference takes g back exactly
// (L G = I for the L below) and runs Conv2D, so it checks a kernel's Winograd arithmetic
// against the plain convolution.

// The left inverse of F(4x4)'s G = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6],
// [1/24, 1/12, 1/6], [1/24, -1/12, 1/6], [0, 0, 1]]: rows 0 and 5 of G g are g's first and
// last rows (times 1/4 and 1), and row 2 minus row 1 is a third of its middle row.
constexpr double kWinograd4LeftInverse[3][6] = {
    {4, 0, 0, 0, 0, 0},
    {0, -3, 3, 0, 0, 0},
    {0, 0, 0, 0, 0, 1},
};
// And of F(2x2)'s G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]: rows 0
// and 3 are g's first and last rows, row 1 minus row 2 its middle one.
constexpr double kWinograd2LeftInverse[3][6] = {
    {1, 0, 0, 0, 0, 0},
    {0, 1, -1, 0, 0, 0},
    {0, 0, 0, 1, 0, 0},
};

// The input tile edge m + 2 of a transformed filter with this many positions, or 0.
int WinogradInputEdge(int64_t positions) {
  return positions == 36 ? 6 : positions == 16 ? 4 : 0;
}

Node WinogradAsConv2D(const Node& winograd) {
  Node conv = winograd;
  conv.op = "Conv2D";
  conv.attrs.erase("out_channels");
  conv.attrs["strides"] = std::vector<int64_t>{1, 1};
  conv.attrs["dilations"] = std::vector<int64_t>{1, 1};
  conv.attrs["groups"] = int64_t{1};
  conv.attrs["data_format"] = std::string("NHWC");
  conv.attrs["filter_format"] = std::string("HWIO");
  return conv;
}

// The HWIO filter type [3, 3, C, O] of a WinogradConv2D with input x, after checking the
// transformed filter against it.
absl::StatusOr<TensorType> WinogradLogicalFilter(const Node& node, const TensorType& x,
                                                 const TensorType& transformed) {
  const int64_t o = node.int_attr("out_channels");
  if (o < 0) return absl::InvalidArgumentError("attribute 'out_channels' must be >= 0");
  if (x.shape.rank() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("input 'x' has shape ", x.shape.ToString(), ", expected rank 4 (NHWC)"));
  }
  const int64_t c = x.shape.dim(3);
  const Shape& u = transformed.shape;
  if (u.rank() != 4 || WinogradInputEdge(u.dim(0)) == 0 || u.dim(3) < 1 ||
      u.dim(1) != (o + u.dim(3) - 1) / u.dim(3) || (c != kUnknownDim && u.dim(2) != c)) {
    return absl::InvalidArgumentError(
        absl::StrCat("input 'filter_winograd' ", u.ToString(), " is not [36 or 16, ceil(", o,
                     " / W), ", c, ", W] for ", o, " output channels"));
  }
  return TensorType{transformed.dtype, Shape{3, 3, c, o}};
}

absl::Status InferWinogradConv2D(InferContext& ctx) {
  ASSIGN_OR_RETURN(TensorType filter,
                   WinogradLogicalFilter(ctx.node, ctx.inputs[0], ctx.inputs[1]));
  std::vector<TensorType> inputs(ctx.inputs.begin(),
                                 ctx.inputs.begin() + std::min<size_t>(3, ctx.inputs.size()));
  inputs[1] = filter;
  const Node conv = WinogradAsConv2D(ctx.node);
  InferContext as_conv{conv, inputs, ctx.outputs};
  RETURN_IF_ERROR(InferConv2D(as_conv));
  return CheckResidualInput(ctx, 3);
}

absl::Status RunWinogradConv2D(KernelContext& ctx) {
  ASSIGN_OR_RETURN(TensorType type, WinogradLogicalFilter(
                                        ctx.node, {ctx.inputs[0].dtype(), ctx.inputs[0].shape()},
                                        {ctx.inputs[1].dtype(), ctx.inputs[1].shape()}));
  ASSIGN_OR_RETURN(Tensor filter, Tensor::Allocate(type.dtype, type.shape));
  const Tensor& u = ctx.inputs[1];
  const int64_t panels = u.shape().dim(1);
  const int64_t c = u.shape().dim(2);
  const int64_t width = u.shape().dim(3);
  const int64_t o = type.shape.dim(3);
  const int edge = WinogradInputEdge(u.shape().dim(0));
  const double(&left_inverse)[3][6] = edge == 6 ? kWinograd4LeftInverse : kWinograd2LeftInverse;
  for (int64_t ci = 0; ci < c; ++ci) {
    for (int64_t j = 0; j < o; ++j) {
      // U's edge x edge for (ci, j), then g = L U L^T.
      double tile[6][6];
      for (int xi = 0; xi < edge * edge; ++xi) {
        tile[xi / edge][xi % edge] =
            u.GetAsDouble(((xi * panels + j / width) * c + ci) * width + j % width);
      }
      for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) {
          double sum = 0;
          for (int i = 0; i < edge; ++i) {
            for (int k = 0; k < edge; ++k) {
              sum += left_inverse[a][i] * tile[i][k] * left_inverse[b][k];
            }
          }
          filter.SetFromDouble(((a * 3 + b) * c + ci) * o + j, sum);
        }
      }
    }
  }
  return RunAsConv2D(ctx, WinogradAsConv2D(ctx.node), std::move(filter));
}

// The FLOPs of the convolution it computes (a multiplication and an addition per filter
// tap), not of the fewer it performs: rates stay comparable with direct convolutions'.
int64_t WinogradConv2DFlops(const Node& node, absl::Span<const TensorType> inputs,
                            absl::Span<const TensorType> outputs) {
  absl::StatusOr<TensorType> filter = WinogradLogicalFilter(node, inputs[0], inputs[1]);
  if (!filter.ok()) return 0;
  std::vector<TensorType> types(inputs.begin(), inputs.end());
  types[1] = *filter;
  return Conv2DFlops(WinogradAsConv2D(node), types, outputs);
}

}  // namespace

void RegisterConvOps(OpRegistry& registry) {
  MustRegister(registry, OpDef{
      .name = "Conv2D",
      .summary =
          "2-D cross-correlation: y[n,o,oh,ow] = bias[o] + sum over c in o's group and taps "
          "(i,j) of x[n,c,oh*strides[0]-pads[0]+i*dilations[0],ow*strides[1]-pads[1]+"
          "j*dilations[1]] * filter[o,c mod (C/groups),i,j], with zeros outside x; "
          "data_format (NCHW or NHWC) lays out x and y, filter_format is OIHW "
          "([O,C/groups,KH,KW]) or HWIO ([KH,KW,C/groups,O]), pads are [top,left,bottom,"
          "right], groups splits C and O into independent convolutions, bias is [O]; the "
          "result is clamped to [clamp_min, clamp_max] (NaN stays NaN), which the compiler "
          "sets when it folds a following ReLU or ReLU6.",
      .input_names = {"x", "filter", "bias"},
      .min_inputs = 2,
      .max_inputs = 3,
      .attrs = {{"strides", AttrType::kInts, std::vector<int64_t>{1, 1}},
                {"pads", AttrType::kInts, std::vector<int64_t>{0, 0, 0, 0}},
                {"dilations", AttrType::kInts, std::vector<int64_t>{1, 1}},
                {"groups", AttrType::kInt, int64_t{1}},
                {"data_format", AttrType::kString, std::string("NCHW")},
                {"filter_format", AttrType::kString, std::string("OIHW")},
                {"clamp_min", AttrType::kFloat, -std::numeric_limits<double>::infinity()},
                {"clamp_max", AttrType::kFloat, std::numeric_limits<double>::infinity()}},
      .dtypes = FloatTypes(),
      .traits = kContraction | kLayoutSelectable | kClampedOutput,
      .infer = InferConv2D,
      .reference = RunConv2D,
      .flops = Conv2DFlops,
  });
  MustRegister(registry, OpDef{
      .name = "PackedConv2D",
      .summary =
          "Conv2D of NHWC x (groups 1) with a constant filter packed for a kernel library's "
          "GEMM: the HWIO filter as a [KH*KW*C, O] matrix in filter_packed[P, KH*KW*C, W], "
          "panel q holding output channels [qW, qW + W) (zero past O). kernel_shape is "
          "[KH, KW], out_channels O; strides, pads and dilations as Conv2D's; an optional "
          "residual (the output's type, with a bias given) is added, then the result is "
          "clamped to [clamp_min, clamp_max] (NaN stays NaN: a folded residual Add and ReLU "
          "or ReLU6). Made by the compiler from Conv2D with a constant filter; f32.",
      .input_names = {"x", "filter_packed", "bias", "residual"},
      .min_inputs = 2,
      .max_inputs = 4,
      .attrs = {{"strides", AttrType::kInts, std::vector<int64_t>{1, 1}},
                {"pads", AttrType::kInts, std::vector<int64_t>{0, 0, 0, 0}},
                {"dilations", AttrType::kInts, std::vector<int64_t>{1, 1}},
                {"kernel_shape", AttrType::kInts, std::nullopt},
                {"out_channels", AttrType::kInt, std::nullopt},
                {"clamp_min", AttrType::kFloat, -std::numeric_limits<double>::infinity()},
                {"clamp_max", AttrType::kFloat, std::numeric_limits<double>::infinity()}},
      .dtypes = {DataType::kF32},
      .traits = kClampedOutput | kEpilogueInputs,
      .infer = InferPackedConv2D,
      .reference = RunPackedConv2D,
      .flops = PackedConv2DFlops,
  });
  MustRegister(registry, OpDef{
      .name = "WinogradConv2D",
      .summary =
          "Conv2D of NHWC x (groups 1) with a constant 3x3 filter, stride 1 and no dilation, "
          "the filter taken by the compiler to Winograd's F(m x m, 3x3) domain, m = 4 or 2: "
          "U = G g G^T for each input and output channel, with G = [[1/4, 0, 0], [-1/6, "
          "-1/6, -1/6], [-1/6, 1/6, -1/6], [1/24, 1/12, 1/6], [1/24, -1/12, 1/6], [0, 0, 1]] "
          "(m = 4) or [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]] (m = 2), "
          "position (m + 2)i + j of U as a [C, O] matrix in column panels: "
          "filter_winograd[(m + 2)^2, P, C, W], panel q holding output channels [qW, qW + W) "
          "(zero past O). out_channels is O, pads as Conv2D's; an optional residual (the "
          "output's type, with a bias given) is added, then the result is clamped to "
          "[clamp_min, clamp_max] (NaN stays NaN). The result is the convolution's up to the "
          "rounding of the transforms; an infinite input makes its whole m x m output tile "
          "NaN. f32.",
      .input_names = {"x", "filter_winograd", "bias", "residual"},
      .min_inputs = 2,
      .max_inputs = 4,
      .attrs = {{"pads", AttrType::kInts, std::vector<int64_t>{0, 0, 0, 0}},
                {"out_channels", AttrType::kInt, std::nullopt},
                {"clamp_min", AttrType::kFloat, -std::numeric_limits<double>::infinity()},
                {"clamp_max", AttrType::kFloat, std::numeric_limits<double>::infinity()}},
      .dtypes = {DataType::kF32},
      .traits = kClampedOutput | kEpilogueInputs,
      .infer = InferWinogradConv2D,
      .reference = RunWinogradConv2D,
      .flops = WinogradConv2DFlops,
  });
}

}  // namespace kiln
