// Conv2D kernels against the reference: both data formats and filter formats, strides,
// asymmetric pads, dilations, groups, depthwise, pointwise (no im2col), bias, batches,
// empty outputs, every GEMM microkernel the CPU runs, tiles split across workgroups, and
// the direct path for f64, f16 and bf16.
//
// Tolerance: the GEMM bound of matmul_kernels_test with K = C_g * KH * KW + 1 (the bias is
// one more term): |y - y_ref| <= K 2^-23 sum |x| |w| (+ |bias|) + 1 ulp of the dtype;
// f16/bf16 accumulate in f32, f64 uses 2^-52.
#include <cmath>
#include <string>
#include <optional>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "tests/kernels/cpu/kernel_harness.h"

namespace kiln::testing {
namespace {

struct ConvCase {
  int64_t n, c, h, w, o, kh, kw;
  std::vector<int64_t> strides = {1, 1};
  std::vector<int64_t> pads = {0, 0, 0, 0};
  std::vector<int64_t> dilations = {1, 1};
  int64_t groups = 1;
  bool bias = false;
};

const std::vector<ConvCase> kCases = {
    {1, 3, 7, 7, 4, 3, 3, {1, 1}, {1, 1, 1, 1}},
    {2, 5, 9, 8, 6, 3, 2, {2, 1}, {0, 1, 1, 0}, {1, 1}, 1, true},
    {1, 4, 11, 10, 6, 3, 3, {1, 2}, {2, 2, 2, 2}, {2, 2}, 2, true},  // dilated, grouped
    {2, 6, 8, 8, 6, 3, 3, {2, 2}, {1, 1, 1, 1}, {1, 1}, 6, true},    // depthwise
    {1, 4, 6, 6, 8, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 4},          // depthwise, 2 per group
    {1, 70, 6, 5, 70, 3, 3, {2, 1}, {1, 0, 1, 1}, {1, 2}, 70, true}, // depthwise, 2 channel blocks
    {2, 16, 5, 7, 24, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, true},  // pointwise
    {1, 16, 5, 7, 24, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2},        // pointwise, grouped
    {1, 8, 9, 9, 8, 1, 1, {2, 2}},                                   // 1x1 strided: im2col
    {1, 3, 32, 32, 16, 7, 7, {2, 2}, {3, 3, 3, 3}, {1, 1}, 1, true}, // conv1-like
    {1, 40, 14, 14, 36, 3, 3, {1, 1}, {1, 1, 1, 1}},                 // K = 360 > kc
    {0, 3, 5, 5, 4, 3, 3},                                           // empty batch
    {1, 3, 5, 5, 0, 3, 3},                                           // no output channels
    {1, 2, 1, 1, 3, 1, 1},
    // Indirect GEMM (packed filter): odd channels, strided, dilated,
    // asymmetric pads, 9 taps of 33 crossing the kc boundary, edge columns.
    {1, 33, 9, 11, 37, 3, 3, {2, 1}, {1, 2, 0, 1}, {2, 1}, 1, true},
    {1, 300, 4, 5, 20, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, true},  // one tap deeper than kc
    // The indirect GEMM's k blocks (3 kc = 768): 9 taps of 100 with the block boundary
    // inside the eighth tap, and one tap of 1000 split across two blocks.
    {1, 100, 6, 7, 40, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, true},
    {1, 1000, 3, 4, 20, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, true},
    {1, 1024, 3, 4, 40, 1, 1},  // pixels 4 KiB apart: the packing GEMM even when indirect
    // Few channels (merged filter-row taps on the indirect path): dilated rows, asymmetric
    // pads wider on the right, a column stride.
    {1, 4, 10, 9, 8, 3, 3, {1, 2}, {2, 0, 1, 2}, {2, 1}, 1, true},
    // Groups of 2, 4 and 8 channels in and out (NHWC with HWIO: the small-group kernel, or
    // the grouped indirect GEMM): a full and a partial channel block, dilated rows with
    // asymmetric pads on both sides, a stride over rows wide enough for 4-pixel runs.
    {1, 24, 7, 11, 24, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 3, true},
    {2, 12, 6, 13, 12, 3, 3, {1, 2}, {0, 1, 2, 1}, {2, 1}, 6, true},
    {1, 64, 5, 17, 64, 3, 3, {2, 1}, {1, 1, 1, 1}, {1, 1}, 16},
    // Grouped (NHWC with HWIO: the indirect GEMM, the group's columns packed per tile):
    // ResNeXt's 4 channels per group, 16 per group strided, and 40 outputs per group.
    {1, 32, 9, 9, 32, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 8, true},
    {1, 64, 6, 7, 64, 3, 3, {2, 2}, {1, 0, 1, 1}, {1, 1}, 4},
    {2, 48, 5, 5, 80, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2, true},
};

KernelCase MakeCase(const ConvCase& cc, bool nhwc, bool hwio, DataType dtype, uint64_t seed) {
  const Shape x = nhwc ? Shape{cc.n, cc.h, cc.w, cc.c} : Shape{cc.n, cc.c, cc.h, cc.w};
  const int64_t cg = cc.c / cc.groups;
  const Shape f = hwio ? Shape{cc.kh, cc.kw, cg, cc.o} : Shape{cc.o, cg, cc.kh, cc.kw};
  KernelCase c{"Conv2D", {Random(dtype, x, seed), Random(dtype, f, seed + 1)}};
  if (cc.bias) c.inputs.push_back(Random(dtype, Shape{cc.o}, seed + 2));
  c.attrs = {{"strides", cc.strides},
             {"pads", cc.pads},
             {"dilations", cc.dilations},
             {"groups", cc.groups},
             {"data_format", std::string(nhwc ? "NHWC" : "NCHW")},
             {"filter_format", std::string(hwio ? "HWIO" : "OIHW")}};
  return c;
}

Tolerance ConvTol(const ConvCase& cc, DataType dtype) {
  const double k = static_cast<double>(cc.c / cc.groups * cc.kh * cc.kw + 1);
  const double acc = dtype == DataType::kF64 ? Ulp(DataType::kF64) : Ulp(DataType::kF32);
  return Tolerance{Ulp(dtype), dtype == DataType::kF16 ? std::ldexp(1.0, -24) : 0.0, k * acc};
}

std::vector<GemmIsa> RunnableIsas() {
  std::vector<GemmIsa> isas = {GemmIsa::kAuto, GemmIsa::kPortable, GemmIsa::kPortableWide};
  for (GemmIsa isa : {GemmIsa::kAvx2, GemmIsa::kAvx512}) {
    if (GemmIsaSupported(isa)) isas.push_back(isa);
  }
  return isas;
}

TEST(ConvKernelsTest, F32AllLayoutsAndMicrokernels) {
  uint64_t seed = 1;
  int variant = 0;
  for (GemmIsa isa : RunnableIsas()) {
    for (bool nhwc : {false, true}) {
      for (bool hwio : {false, true}) {
        for (const ConvCase& cc : kCases) {
          for (double tile_flops : {0.0, 3000.0}) {
            KernelCase c = MakeCase(cc, nhwc, hwio, DataType::kF32, seed += 3);
            AddClampVariant(c, variant++);
            c.options.gemm_isa = isa;
            c.options.gemm_tile_flops = tile_flops;
            c.options.threads = 8;
            // Small groups through both of their paths.
            c.options.small_group_conv = (variant / 2) % 2 == 0;
            CheckKernel(c, ConvTol(cc, DataType::kF32));
          }
        }
      }
    }
  }
}

// PackedConv2D: the HWIO filter packed by the provider itself (what Compile does for a
// constant filter of an NHWC, ungrouped Conv2D), against the reference.
TEST(ConvKernelsTest, F32PrepackedFiltersEveryMicrokernel) {
  uint64_t seed = 500;
  int checked = 0;
  for (GemmIsa isa : RunnableIsas()) {
    for (const ConvCase& cc : kCases) {
      if (cc.groups != 1) continue;
      for (double tile_flops : {0.0, 2000.0}) {
        for (bool indirect : {true, false}) {
          KernelCase conv = MakeCase(cc, true, true, DataType::kF32, seed += 3);
          CpuKernelOptions options;
          options.gemm_isa = isa;
          options.gemm_tile_flops = tile_flops;
          options.threads = 8;
          options.indirect_gemm = indirect;
          std::optional<Tensor> packed = PackedWeightOf(conv, options);
          ASSERT_TRUE(packed.has_value()) << GemmIsaName(isa);
          KernelCase c{"PackedConv2D", conv.inputs, {}, options};
          c.inputs[1] = *packed;
          c.attrs = {{"strides", cc.strides},
                     {"pads", cc.pads},
                     {"dilations", cc.dilations},
                     {"kernel_shape", std::vector<int64_t>{cc.kh, cc.kw}},
                     {"out_channels", cc.o}};
          AddClampVariant(c, checked);
          // A residual (after the bias, before the clamp) on 3 in 5 cases with a bias (5 is
          // prime to the 2 paths x 2 tilings the cases cycle through).
          if (cc.bias && checked % 5 < 3 && cc.n > 0 && cc.o > 0) {
            ASSERT_TRUE(AddOutputShapedInput(c, seed + 7));
          }
          EXPECT_TRUE(CheckKernel(c, ConvTol(cc, DataType::kF32)))
              << GemmIsaName(isa) << " case " << cc.c << "->" << cc.o << " " << cc.kh << "x" << cc.kw
              << (indirect ? " indirect" : " packing");
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 0);
}

// Depthwise f32 with channels innermost (NHWC, HWIO) takes the channel-vectorized kernel,
// which F32AllLayoutsAndMicrokernels checks against the reference; other layouts do not.
TEST(ConvKernelsTest, DepthwiseNhwcKernelIsChosen) {
  const ConvCase& depthwise = kCases[3];
  ASSERT_EQ(depthwise.groups, depthwise.c);
  for (bool nhwc : {false, true}) {
    absl::StatusOr<Graph> graph =
        SingleOpGraph(MakeCase(depthwise, nhwc, nhwc, DataType::kF32, 1));
    ASSERT_TRUE(graph.ok()) << graph.status();
    const Node& conv = graph->node(graph->num_nodes() - 1);
    absl::StatusOr<PreparedKernel> kernel = CreateCpuKernelProvider()->Prepare(*graph, conv);
    ASSERT_TRUE(kernel.ok()) << kernel.status();
    EXPECT_EQ(kernel->name.rfind("cpu.depthwise_conv2d_nhwc.f32", 0) == 0, nhwc) << kernel->name;
  }
}

// Groups of 2, 4 or 8 channels in and out, f32 NHWC with an HWIO filter, take the
// small-group kernel unless the option turns it off; 16 per group, unequal in and out
// counts, and NCHW keep the GEMM paths.
TEST(ConvKernelsTest, SmallGroupNhwcKernelIsChosen) {
  auto kernel_of = [](const ConvCase& cc, bool nhwc, bool small_groups) -> std::string {
    absl::StatusOr<Graph> graph = SingleOpGraph(MakeCase(cc, nhwc, nhwc, DataType::kF32, 1));
    EXPECT_TRUE(graph.ok()) << graph.status();
    if (!graph.ok()) return "";
    CpuKernelOptions options;
    options.small_group_conv = small_groups;
    const Node& conv = graph->node(graph->num_nodes() - 1);
    absl::StatusOr<PreparedKernel> kernel =
        CreateCpuKernelProvider(options)->Prepare(*graph, conv);
    EXPECT_TRUE(kernel.ok()) << kernel.status();
    return kernel.ok() ? kernel->name : "";
  };
  const std::string small = "cpu.small_group_conv2d_nhwc.f32";
  for (int64_t per_group : {2, 4, 8}) {
    const ConvCase cc{1, 8 * per_group, 6, 6, 8 * per_group, 3, 3, {1, 1}, {1, 1, 1, 1},
                      {1, 1}, 8};
    EXPECT_EQ(kernel_of(cc, true, true).rfind(small, 0), 0u) << per_group;
    EXPECT_NE(kernel_of(cc, true, false).rfind(small, 0), 0u) << per_group;
    EXPECT_NE(kernel_of(cc, false, true).rfind(small, 0), 0u) << per_group;
  }
  const ConvCase sixteen{1, 32, 6, 6, 32, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 2};
  EXPECT_NE(kernel_of(sixteen, true, true).rfind(small, 0), 0u);
  const ConvCase unequal{1, 16, 6, 6, 32, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 4};
  EXPECT_NE(kernel_of(unequal, true, true).rfind(small, 0), 0u);
}

TEST(ConvKernelsTest, OtherFloatDtypes) {
  uint64_t seed = 5000;
  int variant = 0;
  for (DataType dtype : {DataType::kF64, DataType::kF16, DataType::kBF16}) {
    for (bool nhwc : {false, true}) {
      for (const ConvCase& cc : kCases) {
        KernelCase c = MakeCase(cc, nhwc, nhwc, dtype, seed += 3);
        AddClampVariant(c, variant++);
        CheckKernel(c, ConvTol(cc, dtype));
      }
    }
  }
}

}  // namespace
}  // namespace kiln::testing
