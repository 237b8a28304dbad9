// ReduceSum, ReduceMean and ReduceMax over a set of axes (empty: all). FLOPs: one per input
// element. Floating types accumulate in double; integer sums wrap modulo 2^bits like Add,
// integer means are exact (128-bit sum, quotient truncated toward zero).
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/strings/str_cat.h"
#include "graph/ops/int_arith_internal.h"
#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"
#include "base/status_macros.h"

namespace kiln {
namespace {

enum class Reduction { kSum, kMean, kMax };

// reduced[d] is true when dimension d is reduced; validates attribute 'axes'.
absl::StatusOr<std::vector<bool>> ReducedDims(const Node& node, int rank) {
  const std::vector<int64_t>& axes = node.ints_attr("axes");
  std::vector<bool> reduced(rank, axes.empty());
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] < -rank || axes[i] >= rank) {
      return absl::InvalidArgumentError(absl::StrCat("attribute 'axes' entry ", i, " (",
                                                     axes[i], ") is out of range for rank ",
                                                     rank));
    }
    const int axis = static_cast<int>(axes[i] < 0 ? axes[i] + rank : axes[i]);
    if (reduced[axis]) {
      return absl::InvalidArgumentError(
          absl::StrCat("attribute 'axes' lists axis ", axis, " twice"));
    }
    reduced[axis] = true;
  }
  return reduced;
}

// ReduceMax has no identity, so reducing an empty set is an error.
absl::Status CheckMaxNotEmpty(const Shape& x, const std::vector<bool>& reduced) {
  for (int d = 0; d < x.rank(); ++d) {
    if (reduced[d] && x.dim(d) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("ReduceMax over an empty set: dimension ", d, " of input 'x' ",
                       x.ToString(), " has size 0"));
    }
  }
  return absl::OkStatus();
}

ShapeFn ReduceInfer(Reduction kind) {
  return [kind](InferContext& ctx) -> absl::Status {
    const Shape& x = ctx.inputs[0].shape;
    ASSIGN_OR_RETURN(std::vector<bool> reduced, ReducedDims(ctx.node, x.rank()));
    // An unknown reduced dim may be bound to 0 later; the kernel checks that case.
    if (kind == Reduction::kMax) RETURN_IF_ERROR(CheckMaxNotEmpty(x, reduced));
    const bool keepdims = ctx.node.bool_attr("keepdims");
    std::vector<int64_t> out;
    for (int d = 0; d < x.rank(); ++d) {
      if (!reduced[d]) {
        out.push_back(x.dim(d));
      } else if (keepdims) {
        out.push_back(1);
      }
    }
    ctx.outputs.push_back({ctx.inputs[0].dtype, Shape(std::move(out))});
    return absl::OkStatus();
  };
}

// Visits the input in row-major order and calls visit(input_index, output_index); the
// output index follows from per-dimension strides (0 on reduced dimensions).
template <typename Visit>
void ForEachInput(const Shape& x, const std::vector<bool>& reduced, Visit visit) {
  const int rank = x.rank();
  std::vector<int64_t> out_stride(rank, 0);
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    if (reduced[d]) continue;
    out_stride[d] = stride;
    stride *= x.dim(d);
  }
  std::vector<int64_t> coord(rank, 0);
  int64_t out_index = 0;
  const int64_t n = x.NumElements();
  for (int64_t i = 0; i < n; ++i) {
    visit(i, out_index);
    for (int d = rank - 1; d >= 0; --d) {
      ++coord[d];
      out_index += out_stride[d];
      if (coord[d] < x.dim(d)) break;
      out_index -= out_stride[d] * coord[d];
      coord[d] = 0;
    }
  }
}

absl::Status FloatReduce(Reduction kind, const Tensor& x, const std::vector<bool>& reduced,
                         int64_t count, Tensor& out) {
  const double init = kind == Reduction::kMax ? -std::numeric_limits<double>::infinity() : 0.0;
  std::vector<double> acc(out.NumElements(), init);
  ForEachInput(x.shape(), reduced, [&](int64_t in, int64_t o) {
    const double v = x.GetAsDouble(in);
    if (kind != Reduction::kMax) {
      acc[o] += v;
    } else if (v > acc[o] || std::isnan(v)) {
      acc[o] = v;  // once NaN, stays NaN: nothing compares greater
    }
  });
  for (int64_t o = 0; o < out.NumElements(); ++o) {
    // The mean of nothing is NaN (0 / 0).
    out.SetFromDouble(o, kind == Reduction::kMean ? acc[o] / static_cast<double>(count) : acc[o]);
  }
  return absl::OkStatus();
}

absl::Status IntReduce(Reduction kind, const Tensor& x, const std::vector<bool>& reduced,
                       int64_t count, Tensor& out) {
  const int64_t n = out.NumElements();
  if (kind == Reduction::kMean) {
    // At most 2^40 terms of at most 2^63 each: 128 bits cannot overflow.
    std::vector<absl::int128> sum(n, 0);
    ForEachInput(x.shape(), reduced,
                 [&](int64_t in, int64_t o) { sum[o] += x.GetAsInt64(in); });
    for (int64_t o = 0; o < n; ++o) {
      // The mean of nothing is NaN, stored in an integer dtype as 0 (as Cast does).
      out.SetFromInt64(o, count == 0 ? 0 : static_cast<int64_t>(sum[o] / count));
    }
    return absl::OkStatus();
  }
  const int64_t init = kind == Reduction::kMax ? std::numeric_limits<int64_t>::min() : 0;
  std::vector<int64_t> acc(n, init);
  ForEachInput(x.shape(), reduced, [&](int64_t in, int64_t o) {
    const int64_t v = x.GetAsInt64(in);
    acc[o] = kind == Reduction::kSum ? WrapAdd(acc[o], v) : (v > acc[o] ? v : acc[o]);
  });
  for (int64_t o = 0; o < n; ++o) out.SetFromInt64(o, acc[o]);
  return absl::OkStatus();
}

ReferenceKernel ReduceKernel(Reduction kind) {
  return [kind](KernelContext& ctx) -> absl::Status {
    const Tensor& x = ctx.inputs[0];
    Tensor& out = ctx.outputs[0];
    ASSIGN_OR_RETURN(std::vector<bool> reduced, ReducedDims(ctx.node, x.shape().rank()));
    if (kind == Reduction::kMax) RETURN_IF_ERROR(CheckMaxNotEmpty(x.shape(), reduced));
    int64_t count = 1;
    for (int d = 0; d < x.shape().rank(); ++d) {
      if (reduced[d]) count *= x.shape().dim(d);
    }
    return IsFloating(x.dtype()) ? FloatReduce(kind, x, reduced, count, out)
                                 : IntReduce(kind, x, reduced, count, out);
  };
}

int64_t InputElements(const Node&, absl::Span<const TensorType> inputs,
                      absl::Span<const TensorType>) {
  const Shape& x = inputs[0].shape;
  return x.IsFullyKnown() ? x.NumElements() : 0;  // unknown until shapes are bound
}

void RegisterReduction(OpRegistry& registry, const char* name, const char* summary,
                       Reduction kind) {
  MustRegister(registry, OpDef{
      .name = name,
      .summary = summary,
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"axes", AttrType::kInts, std::vector<int64_t>{}},
                {"keepdims", AttrType::kBool, false}},
      .dtypes = NumericTypes(),
      .traits = kReduction,
      .infer = ReduceInfer(kind),
      .reference = ReduceKernel(kind),
      .flops = InputElements,
  });
}

}  // namespace

void RegisterReductionOps(OpRegistry& registry) {
  RegisterReduction(registry, "ReduceSum",
                    "Sum over `axes` (distinct, negative counts from the end; empty: all), "
                    "kept as size 1 when `keepdims`; an empty sum is 0 and integers wrap.",
                    Reduction::kSum);
  RegisterReduction(registry, "ReduceMean",
                    "Mean over `axes` (distinct, negative counts from the end; empty: all), "
                    "kept as size 1 when `keepdims`; an empty mean is NaN (0 for integer "
                    "dtypes) and integer means truncate toward zero.",
                    Reduction::kMean);
  RegisterReduction(registry, "ReduceMax",
                    "Maximum over `axes` (distinct, negative counts from the end; empty: all), "
                    "kept as size 1 when `keepdims`; NaN if any element is NaN, and an error "
                    "over an empty set.",
                    Reduction::kMax);
}

}  // namespace kiln
