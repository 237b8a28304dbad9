// kiln run --check and --trace: a kernel library with one wrong kernel is caught at that
// node with the worst element; a NaN is caught at the node that made it.
#include "tools/cli/run_debug.h"

#include <sstream>

#include "gmock/gmock.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "gtest/gtest.h"
#include "runtime/default_provider.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

// The CPU library, but Add computes x + y + 0.5 at element 5 of its output.
class OneWrongAdd : public KernelProvider {
 public:
  absl::string_view name() const override { return "cpu-with-a-wrong-add"; }
  absl::StatusOr<PreparedKernel> Prepare(const Graph& graph, const Node& node) const override {
    absl::StatusOr<PreparedKernel> kernel = cpu_->Prepare(graph, node);
    if (!kernel.ok() || node.op != "Add") return kernel;
    kernel->fn = [](const kiln_kernel_call* call, int64_t wg, int64_t count) -> int32_t {
      const float* x = static_cast<const float*>(call->buffers[0]);
      const float* y = static_cast<const float*>(call->buffers[1]);
      float* out = static_cast<float*>(call->buffers[2]);
      const int64_t n = call->buffer_sizes[2] / 4;
      for (int64_t i = n * wg / count; i < n * (wg + 1) / count; ++i) {
        out[i] = x[i] + y[i] + (i == 5 ? 0.5f : 0.0f);
      }
      return KILN_KERNEL_OK;
    };
    kernel->workgroup_count = 1;
    return kernel;
  }

 private:
  std::unique_ptr<KernelProvider> cpu_ = CreateCpuKernelProvider();
};

// The default kernels (generated loops), but every fused kernel's output element 5 is off
// by 0.5 after the kernel ran.
kiln_kernel_fn g_fused_kernel = nullptr;

class OneWrongFusion : public KernelProvider {
 public:
  absl::string_view name() const override { return "generated-with-a-wrong-loop"; }
  bool RunsFusion(const Node& fusion) const override { return default_->RunsFusion(fusion); }
  absl::StatusOr<PreparedKernel> Prepare(const Graph& graph, const Node& node) const override {
    absl::StatusOr<PreparedKernel> kernel = default_->Prepare(graph, node);
    if (!kernel.ok() || node.op != "Fusion") return kernel;
    g_fused_kernel = kernel->fn;
    kernel->fn = [](const kiln_kernel_call* call, int64_t wg, int64_t count) -> int32_t {
      for (int64_t w = 0; w < count; ++w) g_fused_kernel(call, w, count);
      if (wg == 0) static_cast<float*>(call->buffers[call->num_buffers - 1])[5] += 0.5f;
      return KILN_KERNEL_OK;
    };
    kernel->workgroup_count = 1;
    return kernel;
  }

 private:
  std::shared_ptr<const KernelProvider> default_ = DefaultKernelProvider();
};

Graph ReluAddTanh() {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, {-1, 4});
  Value r = ops::Relu(b, x);
  b.Output("y", ops::Tanh(b, ops::Add(b, r, x)));
  return b.BuildGraph().value();
}

TEST(RunDebugTest, CheckPassesOnTheCpuLibrary) {
  SessionOptions options;
  options.compile.optimization_level = 0;
  auto session = Session::Create(ReluAddTanh(), options).value();
  std::ostringstream out;
  Feeds feeds = {{"x", testing::RandomTensor(DataType::kF32, Shape{3, 4}, 1)}};
  absl::Status status = cli::CheckAgainstReference(*session, feeds, out);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(out.str(), "check: 3 tensors within tolerance of the reference interpreter\n");
}

TEST(RunDebugTest, CheckNamesTheFirstDivergingNode) {
  SessionOptions options;
  options.compile.optimization_level = 0;
  options.kernel_provider = std::make_shared<OneWrongAdd>();
  auto session = Session::Create(ReluAddTanh(), options).value();
  std::ostringstream out;
  Feeds feeds = {{"x", testing::RandomTensor(DataType::kF32, Shape{3, 4}, 1)}};
  absl::Status status = cli::CheckAgainstReference(*session, feeds, out);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  // The Add is wrong; the Tanh after it diverges too, but the Add comes first.
  EXPECT_THAT(status.message(), HasSubstr("node 'add' (Add) output 0 diverges"));
  EXPECT_THAT(status.message(), HasSubstr("element [1, 1] of f32[3,4]"));
}

TEST(RunDebugTest, CheckNamesTheOpsOfADivergingFusedKernel) {
  SessionOptions options;  // -O2: relu, add and tanh are one generated loop
  options.kernel_provider = std::make_shared<OneWrongFusion>();
  auto session = Session::Create(ReluAddTanh(), options).value();
  std::ostringstream out;
  Feeds feeds = {{"x", testing::RandomTensor(DataType::kF32, Shape{3, 4}, 1)}};
  absl::Status status = cli::CheckAgainstReference(*session, feeds, out);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("(Fusion) output 0 diverges"));
  EXPECT_THAT(status.message(), HasSubstr("element [1, 1] of f32[3,4]"));
  EXPECT_THAT(status.message(),
              HasSubstr("it is the fused loop cluster of relu (Relu), add (Add), tanh (Tanh), "
                        "whose output 0 is 'tanh' (Tanh)"))
      << status;
}

TEST(RunDebugTest, TraceStopsAtTheFirstNaN) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, {4});
  Value s = ops::Sqrt(b, x);  // NaN for the negative elements
  b.Output("y", ops::Relu(b, s));
  SessionOptions options;
  options.compile.optimization_level = 0;
  auto session = Session::Create(b.BuildGraph().value(), options).value();
  std::ostringstream out;
  Feeds feeds = {{"x", testing::MakeTensor(DataType::kF32, Shape{4}, {4, -1, 9, 0})}};
  absl::Status status = cli::TraceValues(*session, feeds, out);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(),
              HasSubstr("node 'sqrt' (Sqrt) output 0 holds 1 NaN and 0 infinite values"));
  EXPECT_EQ(out.str(), "trace: sqrt Sqrt f32[4] min=0 max=3 mean=1.66667 nan=1 inf=0\n");

  feeds = {{"x", testing::MakeTensor(DataType::kF32, Shape{4}, {4, 1, 9, 0})}};
  out.str("");
  EXPECT_TRUE(cli::TraceValues(*session, feeds, out).ok());
  EXPECT_THAT(out.str(), HasSubstr("trace: 2 tensors, no NaN or Inf\n"));
}

TEST(RunDebugTest, Tolerances) {
  EXPECT_EQ(cli::ToleranceFor(DataType::kF32).rtol, 1e-3);
  EXPECT_EQ(cli::ToleranceFor(DataType::kI32).rtol, 0);
  EXPECT_EQ(cli::ToleranceFor(DataType::kBool).atol, 0);
}

}  // namespace
}  // namespace kiln
