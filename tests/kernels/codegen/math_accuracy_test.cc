// The accuracy of generated math (MLIR's polynomial approximations, f32) over dense sweeps
// of each function's useful range, in units in the last place of the correctly rounded
// result (the double-precision value rounded to f32). The bounds asserted here are the
// ones docs/codegen.md states; the test prints the measured maximum of each.
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/fusion.h"
#include "gtest/gtest.h"
#include "kernels/codegen/generated_kernel_provider.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "runtime/kernel_env.h"
#include "tests/kernels/cpu/kernel_harness.h"

namespace kiln {
namespace {

struct MathCase {
  std::string op;
  AttrMap attrs;
  double lo, hi;
  bool log_spaced;  // sample |x| log-uniformly (Log over many decades)
  std::function<double(double)> exact;
  double max_ulp;   // the stated bound
};

// One ulp of the f32 value nearest `v` (FLT_MIN's for tiny values).
double UlpOf(double v) {
  const float f = std::fabs(static_cast<float>(v));
  const float base = std::max(f, FLT_MIN);
  return std::nextafter(base, INFINITY) - base;
}

// Runs `c` as a one-op loop Fusion over `n` sweep points; returns the worst ulp error.
double MeasureUlp(const MathCase& c, int n, double* worst_x) {
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / (n - 1);
    x[i] = c.log_spaced ? static_cast<float>(std::exp(std::log(c.lo) + t * (std::log(c.hi) - std::log(c.lo))))
                        : static_cast<float>(c.lo + t * (c.hi - c.lo));
  }
  testing::KernelCase kc;
  kc.op = std::string(kFusionOp);
  kc.inputs = {Tensor::F32({n}, x)};
  // The body: the op alone over one input, its output the fusion's.
  Graph body = testing::SingleOpGraph({c.op, kc.inputs, c.attrs}).value();
  body.outputs().push_back({"y", TensorRef{body.num_nodes() - 1, 0}});
  kc.attrs[std::string(kFusionKindAttr)] = std::string("loop");
  kc.attrs[std::string(kFusionBodyAttr)] = std::make_shared<const Graph>(body);
  kc.provider = CreateGeneratedKernelProvider(CreateCpuKernelProvider());
  absl::StatusOr<PreparedKernel> kernel = testing::PrepareCase(kc);
  EXPECT_TRUE(kernel.ok()) << kernel.status();
  if (!kernel.ok()) return INFINITY;
  std::vector<float> y(n);
  void* buffers[2] = {x.data(), y.data()};
  KernelEnv env;
  kiln_kernel_call call{};
  call.buffers = buffers;
  call.num_buffers = 2;
  call.env = env.env();
  for (int64_t w = 0; w < kernel->workgroup_count; ++w) {
    EXPECT_EQ(kernel->fn(&call, w, kernel->workgroup_count), KILN_KERNEL_OK);
  }
  double worst = 0;
  for (int i = 0; i < n; ++i) {
    const double want = c.exact(x[i]);
    const float rounded = static_cast<float>(want);
    // Exact agreement (infinities included) is no error.
    const double err = y[i] == rounded ? 0 : std::fabs(y[i] - static_cast<double>(rounded));
    if (err == 0) continue;
    // A NaN where a number is due (or the reverse) compares false and counts as infinite.
    const double ulps = err / UlpOf(want);
    if (!(ulps <= worst)) {
      worst = std::isnan(ulps) ? INFINITY : ulps;
      *worst_x = x[i];
    }
  }
  return worst;
}

// With erfc, which does not cancel on the negative side even in double.
double Gelu(double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }

TEST(MathAccuracyTest, PolynomialApproximationsStayWithinTheirStatedBounds) {
  const std::vector<MathCase> cases = {
      {"Exp", {}, -104, 89, false, [](double x) { return std::exp(x); }, 2},
      {"Tanh", {}, -20, 20, false, [](double x) { return std::tanh(x); }, 8},
      // Down to subnormals, where tanh(x) rounds to x.
      {"Tanh", {}, 1e-44, 1e-2, true, [](double x) { return std::tanh(x); }, 8},
      {"Sigmoid", {}, -104, 89, false, [](double x) { return 1 / (1 + std::exp(-x)); }, 4},
      {"Log", {}, 1e-30, 1e30, true, [](double x) { return std::log(x); }, 4},
      {"Erf", {}, -6, 6, false, [](double x) { return std::erf(x); }, 8},
      // On the negative side the f32 rounding of x/sqrt2 is amplified by erfc's slope
      // (relative error ~ 2 t^2 eps at t = -x/sqrt2): 23 ulp measured down to x = -5, growing as
      // x^2 below (177 ulp at -11.9), as in the CPU library, which computes the same.
      {"Gelu", {}, -5, 14, false, Gelu, 32},
  };

  for (const MathCase& c : cases) {
    double worst_x = 0;
    const double ulp = MeasureUlp(c, 1 << 20, &worst_x);
    std::printf("%-8s max %.2f ulp (at x = %.9g), bound %.0f\n", c.op.c_str(), ulp, worst_x,
                c.max_ulp);
    EXPECT_LE(ulp, c.max_ulp) << c.op << " at x = " << worst_x;
  }
}

}  // namespace
}  // namespace kiln
