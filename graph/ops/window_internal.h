// Shared by Conv2D (conv_ops.cc) and the pooling ops (pool_ops.cc): the NCHW/NHWC layouts,
// validated window attributes, the output size of a sliding window, and saturating FLOP
// products. Internal to graph/ops.
#ifndef KILN_GRAPH_OPS_WINDOW_INTERNAL_H_
#define KILN_GRAPH_OPS_WINDOW_INTERNAL_H_

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "graph/graph.h"
#include "base/shape.h"

namespace kiln {

// Positions of the batch, channel, height and width dimensions in a rank-4 activation.
struct ImageLayout {
  int n;
  int c;
  int h;
  int w;
};

// The layout named by the node's "data_format" attribute ("NCHW" or "NHWC").
inline absl::StatusOr<ImageLayout> ParseDataFormat(const Node& node) {
  const std::string& format = node.string_attr("data_format");
  if (format == "NCHW") return ImageLayout{0, 1, 2, 3};
  if (format == "NHWC") return ImageLayout{0, 3, 1, 2};
  return absl::InvalidArgumentError(absl::StrCat("attribute 'data_format' is \"", format,
                                                 "\", expected \"NCHW\" or \"NHWC\""));
}

// The ints attribute `name` of `node`, which must have `count` entries, each in
// [min_value, kMaxElements]. The upper bound keeps every later window sum and product
// within int64.
inline absl::StatusOr<std::vector<int64_t>> WindowAttr(const Node& node, absl::string_view name,
                                                       size_t count, int64_t min_value) {
  const std::vector<int64_t>& values = node.ints_attr(name);
  if (values.size() != count) {
    return absl::InvalidArgumentError(absl::StrCat("attribute '", name, "' has ", values.size(),
                                                   " entries, expected ", count));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < min_value) {
      return absl::InvalidArgumentError(absl::StrCat("attribute '", name, "' entry ", i, " is ",
                                                     values[i], ", expected >= ", min_value));
    }
    if (values[i] > kMaxElements) {
      return absl::InvalidArgumentError(absl::StrCat("attribute '", name, "' entry ", i, " is ",
                                                     values[i], ", which exceeds 2^40"));
    }
  }
  return values;
}

// Length of the output of a window of `kernel` taps spaced `dilation` apart, sliding by
// `stride` over `in` elements padded by `pad_begin` and `pad_end`: the number of window
// positions that lie wholly inside the padded input. `in` may be kUnknownDim (the result is
// then unknown); every other argument is in [0, kMaxElements], with kernel, stride and
// dilation >= 1. Error naming `what` ("height", "width") when the window does not fit.
inline absl::StatusOr<int64_t> WindowOutputSize(int64_t in, int64_t kernel, int64_t stride,
                                                int64_t dilation, int64_t pad_begin,
                                                int64_t pad_end, absl::string_view what) {
  // (kernel - 1) * dilation can reach 2^80; any extent above this bound cannot fit an input
  // (at most 2^40 plus two pads of at most 2^40), known or not.
  constexpr int64_t kExtentLimit = 4 * kMaxElements;
  if (kernel > 1 && dilation > kExtentLimit / (kernel - 1)) {
    return absl::InvalidArgumentError(absl::StrCat("kernel ", what, " ", kernel, " with dilation ",
                                                   dilation, " spans more than 2^42 elements"));
  }
  int64_t extent = (kernel - 1) * dilation + 1;
  if (in == kUnknownDim) return kUnknownDim;
  int64_t padded = in + pad_begin + pad_end;
  if (extent > padded) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kernel ", what, " ", kernel, " (dilation ", dilation, ", extent ", extent,
        ") is larger than the padded input ", what, " ", padded, " (", in, " + pads ",
        pad_begin, " + ", pad_end, ")"));
  }
  return (padded - extent) / stride + 1;
}

// Product of `factors` for FLOP counts: 0 when any factor is unknown (negative), and
// saturated at INT64_MAX instead of overflowing.
inline int64_t SaturatingProduct(std::initializer_list<int64_t> factors) {
  for (int64_t f : factors) {
    if (f <= 0) return 0;
  }
  int64_t product = 1;
  for (int64_t f : factors) {
    if (product > std::numeric_limits<int64_t>::max() / f) {
      return std::numeric_limits<int64_t>::max();
    }
    product *= f;
  }
  return product;
}

}  // namespace kiln

#endif  // KILN_GRAPH_OPS_WINDOW_INTERNAL_H_
