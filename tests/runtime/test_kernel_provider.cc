#include "tests/runtime/test_kernel_provider.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "graph/shape_inference.h"

namespace kiln::testing {
namespace {

enum class Kind : int32_t { kAdd, kSub, kMul, kRelu, kNeg, kTanh, kIdentity, kMatMul };

struct Params {
  Kind kind;
  int32_t fail_code;  // 0: succeed
  int64_t n;          // output elements (MatMul: rows m)
  int64_t ny;         // elements of y (binary ops)
  int64_t k;          // MatMul inner dimension
  int64_t cols;       // MatMul output columns
  int64_t scratch;    // scratch bytes
  int32_t num_operands_before_scratch;
};

// [begin, end) of workgroup `id` of `count` over `n` items.
void Range(int64_t n, int64_t id, int64_t count, int64_t* begin, int64_t* end) {
  *begin = n * id / count;
  *end = n * (id + 1) / count;
}

int32_t Run(const kiln_kernel_call* call, int64_t id, int64_t count) {
  const Params& p = *static_cast<const Params*>(call->params);
  if (p.fail_code != 0) {
    // Data errors come with a detail, as a real kernel's would; every workgroup reports.
    if (kiln_kernel_status_is_data_error(p.fail_code)) {
      call->env->report(call->env, p.fail_code, "index 70000 out of range [0, 30522)");
    }
    return p.fail_code;
  }
  if (p.scratch > 0 && id == 0) {
    std::memset(call->buffers[p.num_operands_before_scratch], 0xFF, p.scratch);
  }
  int64_t begin, end;
  Range(p.n, id, count, &begin, &end);
  const float* x = static_cast<const float*>(call->buffers[0]);
  switch (p.kind) {
    case Kind::kAdd:
    case Kind::kSub:
    case Kind::kMul: {
      const float* y = static_cast<const float*>(call->buffers[1]);
      float* out = static_cast<float*>(call->buffers[2]);
      if (p.ny == p.n) {  // same shape: no index arithmetic, so the loop vectorizes
        if (p.kind == Kind::kAdd) {
          for (int64_t i = begin; i < end; ++i) out[i] = x[i] + y[i];
        } else if (p.kind == Kind::kSub) {
          for (int64_t i = begin; i < end; ++i) out[i] = x[i] - y[i];
        } else {
          for (int64_t i = begin; i < end; ++i) out[i] = x[i] * y[i];
        }
        return 0;
      }
      for (int64_t i = begin; i < end; ++i) {
        float a = x[i];
        float b = y[i % p.ny];
        out[i] = p.kind == Kind::kAdd ? a + b : p.kind == Kind::kSub ? a - b : a * b;
      }
      return 0;
    }
    case Kind::kRelu:
    case Kind::kNeg:
    case Kind::kTanh:
    case Kind::kIdentity: {
      float* out = static_cast<float*>(call->buffers[1]);
      if (p.kind == Kind::kRelu) {
        for (int64_t i = begin; i < end; ++i) out[i] = x[i] < 0 ? 0.0f : x[i];
      } else if (p.kind == Kind::kNeg) {
        for (int64_t i = begin; i < end; ++i) out[i] = -x[i];
      } else if (p.kind == Kind::kTanh) {
        for (int64_t i = begin; i < end; ++i) out[i] = std::tanh(x[i]);
      } else {
        for (int64_t i = begin; i < end; ++i) out[i] = x[i];
      }
      return 0;
    }
    case Kind::kMatMul: {
      const float* w = static_cast<const float*>(call->buffers[1]);
      float* out = static_cast<float*>(call->buffers[2]);
      for (int64_t r = begin; r < end; ++r) {
        for (int64_t c = 0; c < p.cols; ++c) {
          double sum = 0;
          for (int64_t j = 0; j < p.k; ++j) sum += double{x[r * p.k + j]} * w[j * p.cols + c];
          out[r * p.cols + c] = static_cast<float>(sum);
        }
      }
      return 0;
    }
  }
  return 99;
}

bool IsSuffix(const Shape& y, const Shape& x) {
  if (y.rank() > x.rank()) return false;
  for (int i = 0; i < y.rank(); ++i) {
    if (y.dim(y.rank() - 1 - i) != x.dim(x.rank() - 1 - i)) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<PreparedKernel> TestKernelProvider::Prepare(const Graph& graph,
                                                           const Node& node) const {
  auto unimplemented = [&](absl::string_view why) {
    return absl::UnimplementedError(absl::StrCat(NodeErrorPrefix(node), "test provider: ", why));
  };
  for (const TensorRef& in : node.inputs) {
    if (graph.type(in).dtype != DataType::kF32) return unimplemented("f32 only");
  }
  if (node.outputs.size() != 1 || node.outputs[0].dtype != DataType::kF32) {
    return unimplemented("f32 only");
  }
  const Shape& out_shape = node.outputs[0].shape;
  Params p{};
  p.n = out_shape.NumElements();
  bool elementwise = true;
  if (node.op == "Add" || node.op == "Sub" || node.op == "Mul") {
    p.kind = node.op == "Add" ? Kind::kAdd : node.op == "Sub" ? Kind::kSub : Kind::kMul;
    const Shape& x = graph.type(node.inputs[0]).shape;
    const Shape& y = graph.type(node.inputs[1]).shape;
    if (x != out_shape || !IsSuffix(y, x)) return unimplemented("y must be a suffix of x");
    p.ny = std::max<int64_t>(1, y.NumElements());
  } else if (node.op == "Relu" || node.op == "Neg" || node.op == "Tanh" || node.op == "Identity") {
    p.kind = node.op == "Relu"  ? Kind::kRelu
             : node.op == "Neg" ? Kind::kNeg
             : node.op == "Tanh" ? Kind::kTanh
                                 : Kind::kIdentity;
  } else if (node.op == "MatMul") {
    const Shape& x = graph.type(node.inputs[0]).shape;
    const Shape& w = graph.type(node.inputs[1]).shape;
    if (x.rank() != 2 || w.rank() != 2 || node.bool_attr("transpose_a") ||
        node.bool_attr("transpose_b")) {
      return unimplemented("2-D MatMul without transposes only");
    }
    p.kind = Kind::kMatMul;
    p.n = x.dim(0);
    p.k = x.dim(1);
    p.cols = w.dim(1);
    elementwise = false;
  } else {
    return unimplemented("no kernel");
  }
  p.fail_code = node.op == options_.fail_op ? options_.fail_code : 0;
  p.scratch = options_.scratch_bytes;
  p.num_operands_before_scratch = static_cast<int32_t>(node.inputs.size() + 1);

  PreparedKernel kernel;
  kernel.fn = Run;
  kernel.params = PackParams(p);
  kernel.name = absl::StrCat("test.", node.op);
  kernel.workgroup_count = std::max<int64_t>(1, std::min(options_.workgroups, p.n));
  kernel.scratch_bytes = options_.scratch_bytes;
  if (options_.inplace && elementwise && graph.type(node.inputs[0]).shape == out_shape) {
    kernel.inplace_input = 0;
  }
  return kernel;
}

}  // namespace kiln::testing
