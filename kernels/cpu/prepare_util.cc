#include "kernels/cpu/prepare_util.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "graph/shape_inference.h"

namespace kiln::cpu {

absl::Status NodeError(absl::StatusCode code, const Node& node, absl::string_view message) {
  return absl::Status(code, absl::StrCat(NodeErrorPrefix(node), message));
}

absl::Status UnsupportedDtype(const Node& node, DataType dtype) {
  return NodeError(absl::StatusCode::kUnimplemented, node,
                   absl::StrCat("the CPU kernel library has no ", node.op, " kernel for dtype ",
                                DataTypeName(dtype)));
}

int64_t WorkgroupsFor(int64_t units, int64_t min_units, int64_t max_groups) {
  if (units <= 0 || min_units <= 0) return 1;
  const int64_t groups = units / min_units + (units % min_units != 0 ? 1 : 0);
  return std::clamp<int64_t>(groups, 1, max_groups);
}

int64_t ElementwiseWorkgroups(int64_t elements, int64_t element_bytes) {
  const int64_t per_group = std::max<int64_t>(1, kMinWorkgroupBytes / element_bytes);
  return WorkgroupsFor(elements, per_group);
}

std::vector<int64_t> Strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.rank(), 1);
  // A zero dimension makes the tensor empty; its strides are never used, and the products
  // of the dimensions after it may be huge, so they stop at zero.
  int64_t stride = 1;
  for (int d = shape.rank() - 1; d >= 0; --d) {
    strides[d] = stride;
    stride = shape.dim(d) == 0 ? 0 : stride * shape.dim(d);
  }
  return strides;
}

CollapsedBroadcast CollapseBroadcast(const Shape& out, absl::Span<const Shape> inputs) {
  const int rank = out.rank();
  const size_t n = inputs.size();
  // Aligned strides per input over the output's dimensions (0 where broadcast).
  std::vector<std::vector<int64_t>> aligned(n, std::vector<int64_t>(rank, 0));
  for (size_t i = 0; i < n; ++i) {
    const Shape& in = inputs[i];
    const std::vector<int64_t> in_strides = Strides(in);
    const int offset = rank - in.rank();
    for (int d = offset; d < rank; ++d) {
      const int64_t size = in.dim(d - offset);
      aligned[i][d] = size == 1 ? 0 : in_strides[d - offset];
    }
  }
  CollapsedBroadcast result;
  result.strides.assign(n, std::vector<int64_t>());
  std::vector<int64_t> dims;
  for (int d = 0; d < rank; ++d) {
    if (out.dim(d) == 1) continue;
    bool merge = !dims.empty();
    for (size_t i = 0; merge && i < n; ++i) {
      merge = result.strides[i].back() == aligned[i][d] * out.dim(d);
    }
    if (merge) {
      dims.back() *= out.dim(d);
      for (size_t i = 0; i < n; ++i) result.strides[i].back() = aligned[i][d];
    } else {
      dims.push_back(out.dim(d));
      for (size_t i = 0; i < n; ++i) result.strides[i].push_back(aligned[i][d]);
    }
  }
  if (dims.empty()) {
    dims.push_back(1);
    for (size_t i = 0; i < n; ++i) result.strides[i].push_back(0);
  }
  result.rank = static_cast<int>(dims.size());
  for (int d = 0; d < result.rank; ++d) result.dims[d] = dims[d];
  return result;
}

absl::StatusOr<PreparedKernel> MakeKernelFromBytes(const PrepareContext& ctx,
                                                   const std::string& symbol,
                                                   std::vector<uint8_t> params,
                                                   int64_t workgroups, DataType dtype) {
  const KernelSymbol* found = CpuKernelLibrary().Find(symbol);
  if (found == nullptr) {
    if (dtype != DataType::kInvalid) return UnsupportedDtype(ctx.node, dtype);
    return NodeError(absl::StatusCode::kUnimplemented, ctx.node,
                     absl::StrCat("the CPU kernel library has no kernel '", symbol, "'"));
  }
  PreparedKernel kernel;
  kernel.fn = found->fn;
  kernel.name = found->name;
  kernel.params_version = found->params_version;
  kernel.params = std::move(params);
  kernel.workgroup_count = workgroups < 1 ? 1 : workgroups;
  return kernel;
}

void ClampOf(const Node& node, int32_t* clamp, float* lo, float* hi) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const double min = node.HasAttr("clamp_min") ? node.float_attr("clamp_min") : -kInf;
  const double max = node.HasAttr("clamp_max") ? node.float_attr("clamp_max") : kInf;
  *lo = static_cast<float>(min);
  *hi = static_cast<float>(max);
  *clamp = min != -kInf || max != kInf;
}

std::string F32Avx2SymbolName(absl::string_view op, DataType dtype) {
  std::string symbol = SymbolName(op, dtype);
  if (dtype == DataType::kF32 && (HostCpuFeatures() & kCpuAvx2Fma) != 0) symbol += ".avx2";
  return symbol;
}

}  // namespace kiln::cpu
