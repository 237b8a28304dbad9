// WinogradConv2D (F(4x4, 3x3) and F(2x2, 3x3)) against the reference, which takes the filter back from
// the Winograd domain and runs the plain convolution: partial tiles on every edge, odd
// channel counts (the one-channel transform tail, the GEMM's right-edge panels), padding
// 0 to 2 on each side, batches, one tile and many, blocks split across workgroups and
// output channels split into groups, rows 4 KiB apart, bias, residual and clamps, every
// GEMM microkernel the CPU runs. Also which shapes Compile sends to it.
//
// Tolerance: the transforms add and scale up to 36 terms by factors up to 8 (A^T) and 5
// (B^T) before and after a C-deep dot product, so the error grows like the plain GEMM's
// bound times a constant: |y - y_ref| <= 64 * (9 C + 1) * 2^-23 * max |x| max |g| with
// inputs in [-1, 1] (the largest error measured over these cases is below a tenth of it).
// A wrong transform entry errs by O(1).
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/winograd.h"
#include "tests/kernels/cpu/kernel_harness.h"

namespace kiln::testing {
namespace {

struct WinogradCase {
  int64_t n, c, h, w, o;
  std::vector<int64_t> pads = {1, 1, 1, 1};
  bool bias = true;
};

const std::vector<WinogradCase> kCases = {
    {1, 16, 4, 4, 16},                        // one tile
    {1, 17, 7, 9, 33},                        // partial tiles, odd channels both ways
    {2, 35, 14, 14, 70},                      // batch, many tiles
    {1, 16, 9, 6, 16, {0, 0, 0, 0}, false},   // no padding: 7 x 4 outputs
    {1, 20, 8, 8, 24, {0, 1, 2, 1}},          // asymmetric padding
    {1, 64, 3, 3, 40, {2, 2, 2, 2}},          // padding wider than the filter's reach
    {3, 16, 1, 1, 16, {1, 1, 1, 1}, false},   // 1 x 1 images
    {1, 1024, 4, 5, 16},                      // V's rows padded off 4 KiB
    {1, 64, 40, 40, 96},                      // several tile blocks
    {1, 48, 6, 6, 160},                       // several output-channel chunks
    {0, 16, 5, 5, 16},                        // empty batch
    {1, 16, 5, 5, 0, {1, 1, 1, 1}, false},    // no output channels
};

std::vector<GemmIsa> RunnableIsas() {
  std::vector<GemmIsa> isas = {GemmIsa::kPortable, GemmIsa::kPortableWide};
  for (GemmIsa isa : {GemmIsa::kAvx2, GemmIsa::kAvx512}) {
    if (GemmIsaSupported(isa)) isas.push_back(isa);
  }
  return isas;
}

// The case's HWIO filter transformed as Compile does (cpu::PackWinogradFilter) for output
// tiles of `tile` and `isa`.
Tensor TransformedFilter(const Tensor& hwio, int tile, GemmIsa isa) {
  const int64_t c = hwio.shape().dim(2);
  const int64_t o = hwio.shape().dim(3);
  const int64_t nr = cpu::GetSgemmImpl(isa).blocking.nr;
  Tensor u = *Tensor::Allocate(DataType::kF32,
                               Shape{cpu::WinogradPositions(tile), (o + nr - 1) / nr, c, nr});
  cpu::PackWinogradFilter(tile, hwio.data<float>(), c, o, nr, u.data<float>());
  return u;
}

TEST(WinogradKernelsTest, MatchesTheConvolutionEveryMicrokernel) {
  uint64_t seed = 900;
  int checked = 0;
  for (GemmIsa isa : RunnableIsas()) {
    for (const WinogradCase& wc : kCases) {
      for (int threads : {1, 2, 8}) {
        // Both tile sizes, alternating with the thread counts.
        const int tile = (checked % 2 == 0) ? 4 : 2;
        const Tensor x = Random(DataType::kF32, Shape{wc.n, wc.h, wc.w, wc.c}, seed += 3);
        const Tensor g = Random(DataType::kF32, Shape{3, 3, wc.c, wc.o}, seed + 1);
        KernelCase c{"WinogradConv2D", {x, TransformedFilter(g, tile, isa)}};
        if (wc.bias) c.inputs.push_back(Random(DataType::kF32, Shape{wc.o}, seed + 2));
        c.attrs = {{"pads", wc.pads}, {"out_channels", wc.o}};
        c.options.gemm_isa = isa;
        c.options.threads = threads;
        AddClampVariant(c, checked);
        if (wc.bias && checked % 4 < 2 && wc.n > 0 && wc.o > 0) {
          ASSERT_TRUE(AddOutputShapedInput(c, seed + 5));
        }
        const double atol = 64.0 * (9.0 * wc.c + 1.0) * Ulp(DataType::kF32);
        EXPECT_TRUE(CheckKernel(c, Tolerance{0.0, atol, 0.0}))
            << GemmIsaName(isa) << " " << Describe(c) << " F(" << tile << "x" << tile
            << ") threads " << threads;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 0);
}

// A transformed filter whose panels are not the chosen GEMM's is refused at prepare time.
TEST(WinogradKernelsTest, PanelWidthOfAnotherMicrokernelIsRefused) {
  const Tensor g = Random(DataType::kF32, Shape{3, 3, 16, 16}, 1);
  // The portable GEMM's panels against the 12 x 32 one's (kPortableWide): widths differ.
  ASSERT_NE(cpu::GetSgemmImpl(GemmIsa::kPortable).blocking.nr,
            cpu::GetSgemmImpl(GemmIsa::kPortableWide).blocking.nr);
  KernelCase c{"WinogradConv2D",
               {Random(DataType::kF32, Shape{1, 8, 8, 16}, 2),
                TransformedFilter(g, 4, GemmIsa::kPortable)}};
  c.attrs = {{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"out_channels", int64_t{16}}};
  c.options.gemm_isa = GemmIsa::kPortableWide;
  absl::StatusOr<PreparedKernel> kernel = PrepareCase(c);
  ASSERT_FALSE(kernel.ok());
  EXPECT_NE(kernel.status().message().find("filter_winograd"), std::string::npos)
      << kernel.status();
}

// Which 3x3 convolutions the provider takes to the Winograd domain, and with which tile:
// ResNet-50's stride-1 3x3s with F(4x4) where 12 or more 4x4 tiles amortize the 4x larger
// filter, 7 x 7 images with F(2x2) (4 tiles of 4x4, 16 of 2x2) at batch 1 and F(4x4) at
// batch 16; not tiny images, nor few output channels.
TEST(WinogradKernelsTest, ProviderTransformsWhereItPays) {
  struct Want {
    int64_t n, hw, c, o;
    int tile;  // 0: not transformed
  };
  const std::vector<Want> wants = {
      {1, 56, 64, 64, 4},  {1, 28, 128, 128, 4}, {1, 14, 256, 256, 4}, {1, 7, 512, 512, 2},
      {16, 7, 512, 512, 4}, {1, 2, 64, 64, 0},   {1, 56, 64, 8, 0},
  };
  auto provider = CreateCpuKernelProvider();
  for (const Want& want : wants) {
    Node conv;
    conv.op = "Conv2D";
    conv.attrs = {{"strides", std::vector<int64_t>{1, 1}},
                  {"dilations", std::vector<int64_t>{1, 1}},
                  {"pads", std::vector<int64_t>{1, 1, 1, 1}},
                  {"groups", int64_t{1}},
                  {"data_format", std::string("NHWC")},
                  {"filter_format", std::string("HWIO")}};
    conv.outputs = {TensorType{DataType::kF32, Shape{want.n, want.hw, want.hw, want.o}}};
    const Tensor g = Random(DataType::kF32, Shape{3, 3, want.c, want.o}, 3);
    const std::optional<Tensor> u = provider->PackWinogradFilter(conv, g);
    const std::string what = absl::StrCat(want.n, "x", want.hw, "x", want.hw, " ", want.c,
                                          "->", want.o);
    ASSERT_EQ(u.has_value(), want.tile != 0) << what;
    if (u.has_value()) {
      EXPECT_EQ(u->shape().dim(0), cpu::WinogradPositions(want.tile)) << what;
    }
  }
  CpuKernelOptions off;
  off.winograd = false;
  Node conv;
  conv.op = "Conv2D";
  conv.outputs = {TensorType{DataType::kF32, Shape{1, 56, 56, 64}}};
  EXPECT_FALSE(CreateCpuKernelProvider(off)
                   ->PackWinogradFilter(conv, Random(DataType::kF32, Shape{3, 3, 64, 64}, 4))
                   .has_value());
}

}  // namespace
}  // namespace kiln::testing
