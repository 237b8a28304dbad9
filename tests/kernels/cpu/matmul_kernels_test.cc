// MatMul kernels against the reference: every GEMM microkernel the CPU can run (and the
// portable 12x32 build of the AVX-512 blocking), odd and empty sizes, K and M and N beyond
// one cache block, transposes, broadcast batches, tiles split across workgroups, and the
// generic path for the other dtypes.
//
// Tolerance (f32): |C - C_ref| <= K * 2^-23 * sum_k |a_ik| |b_kj| + 2^-23 |C_ref|, twice
// the classic bound gamma_K = K u (u = 2^-24) for any summation order (blocking and FMA
// change the order, not the bound), plus the final rounding. f64 likewise with 2^-52.
// f16/bf16 accumulate in f32 and round once: 1 ulp of the dtype plus the f32 bound.
// Integers are exact (wrapping).
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "kernels/cpu/matmul_tiling.h"
#include "tests/kernels/cpu/kernel_harness.h"

namespace kiln::testing {
namespace {

struct MatMulShape {
  Shape a;
  Shape b;
  bool ta = false;
  bool tb = false;
};

// Shapes are given as stored (transposes apply to the stored matrices).
const std::vector<MatMulShape> kShapes = {
    {Shape{1, 1}, Shape{1, 1}},
    {Shape{2, 3}, Shape{3, 4}},
    {Shape{7, 5}, Shape{5, 0}},
    {Shape{0, 5}, Shape{5, 7}},
    {Shape{6, 0}, Shape{0, 9}},  // K = 0: zeros
    {Shape{37, 53}, Shape{53, 29}},
    {Shape{53, 37}, Shape{53, 29}, true, false},
    {Shape{37, 53}, Shape{29, 53}, false, true},
    {Shape{53, 37}, Shape{29, 53}, true, true},
    {Shape{13, 600}, Shape{600, 35}},       // K beyond one kc block
    {Shape{301, 17}, Shape{17, 45}},        // M beyond one mc block
    {Shape{5, 9}, Shape{9, 1100}},          // N beyond the portable nc block
    {Shape{250, 33}, Shape{33, 3100}},      // N beyond the 12x32 nc block
    {Shape{3, 7, 5}, Shape{5, 4}},          // batch of A only: one taller GEMM
    {Shape{3, 5, 7}, Shape{5, 4}, true},    // ... but not when A is transposed
    {Shape{2, 3, 4, 5}, Shape{5, 6}},
    {Shape{3, 1, 4, 5}, Shape{2, 5, 6}},    // both sides broadcast
    {Shape{4, 5}, Shape{2, 3, 5, 6}},
    {Shape{2, 1, 6, 5}, Shape{1, 3, 6, 5}, false, true},
    {Shape{0, 4, 5}, Shape{5, 6}},
    {Shape{26, 1024}, Shape{1024, 40}},     // rows of A 4 KiB apart: packed even when indirect
};

std::vector<GemmIsa> RunnableIsas() {
  std::vector<GemmIsa> isas = {GemmIsa::kAuto, GemmIsa::kPortable, GemmIsa::kPortableWide};
  for (GemmIsa isa : {GemmIsa::kAvx2, GemmIsa::kAvx512}) {
    if (GemmIsaSupported(isa)) isas.push_back(isa);
  }
  return isas;
}

int64_t KOf(const MatMulShape& s) {
  return s.ta ? s.a.dim(s.a.rank() - 2) : s.a.dim(s.a.rank() - 1);
}

KernelCase MakeCase(const MatMulShape& s, DataType dtype, uint64_t seed) {
  const bool integer = !IsFloating(dtype);
  KernelCase c{"MatMul",
               {Random(dtype, s.a, seed, integer ? -1e19 : -1, integer ? 1e19 : 1),
                Random(dtype, s.b, seed + 1, integer ? -1e19 : -1, integer ? 1e19 : 1)},
               {{"transpose_a", s.ta}, {"transpose_b", s.tb}}};
  return c;
}

TEST(MatMulKernelsTest, F32EveryMicrokernel) {
  uint64_t seed = 1;
  for (GemmIsa isa : RunnableIsas()) {
    for (const MatMulShape& s : kShapes) {
      for (double tile_flops : {0.0, 2000.0}) {  // default tiles, and many small tiles
        KernelCase c = MakeCase(s, DataType::kF32, seed += 2);
        c.options.gemm_isa = isa;
        c.options.gemm_tile_flops = tile_flops;
        c.options.threads = 8;
        const double k = static_cast<double>(KOf(s));
        CheckKernel(c, Tolerance{Ulp(DataType::kF32), 0.0, k * Ulp(DataType::kF32)});
      }
    }
  }
}

// PackedMatMul: b packed by the provider itself (PackGemmWeight, what Compile does for a
// constant b), run through the harness against the reference, which reads the panels.
TEST(MatMulKernelsTest, F32PrepackedWeightsEveryMicrokernel) {
  uint64_t seed = 1000;
  int cases = 0;
  for (GemmIsa isa : RunnableIsas()) {
    for (const MatMulShape& s : kShapes) {
      if (s.b.rank() != 2) continue;  // only a 2-D constant b is packed
      for (double tile_flops : {0.0, 2000.0}) {
        for (bool indirect : {true, false}) {
          KernelCase matmul = MakeCase(s, DataType::kF32, seed += 2);
          CpuKernelOptions options;
          options.gemm_isa = isa;
          options.gemm_tile_flops = tile_flops;
          options.threads = 8;
          options.indirect_gemm = indirect;
          std::optional<Tensor> packed = PackedWeightOf(matmul, options);
          ASSERT_TRUE(packed.has_value()) << GemmIsaName(isa);
          const int64_t n = s.tb ? s.b.dim(0) : s.b.dim(1);
          KernelCase c{"PackedMatMul",
                       {matmul.inputs[0], *packed},
                       {{"transpose_a", s.ta}, {"n", n}},
                       options};
          AddClampVariant(c, ++cases);
          // A folded bias on 3 cases in 5, a residual after it on 2 of those (5 is prime to
          // the 2 paths x 2 tilings the cases cycle through, so every path gets each).
          if (cases % 5 < 3) {
            c.inputs.push_back(Random(DataType::kF32, Shape{n}, seed + 5));
            if (cases % 5 < 2) ASSERT_TRUE(AddOutputShapedInput(c, seed + 7));
          }
          const double k = static_cast<double>(KOf(s));
          EXPECT_TRUE(CheckKernel(c, Tolerance{Ulp(DataType::kF32), 0.0, k * Ulp(DataType::kF32)}))
              << GemmIsaName(isa) << " " << s.a.ToString() << " x " << s.b.ToString()
              << (indirect ? " indirect" : " packing");
        }
      }
    }
  }
}

// The indirect GEMM reads A in place and asks for no scratch; rows 4 KiB apart (which
// would share one L1 set) and transposed A keep the packing GEMM and its scratch.
TEST(MatMulKernelsTest, PrepackedWeightsChooseTheIndirectGemm) {
  auto scratch_of = [](const Shape& a, const Shape& b, bool ta, bool indirect) -> int64_t {
    CpuKernelOptions options;
    options.indirect_gemm = indirect;
    KernelCase matmul = MakeCase({a, b, ta}, DataType::kF32, 5);
    std::optional<Tensor> packed = PackedWeightOf(matmul, options);
    EXPECT_TRUE(packed.has_value());
    if (!packed.has_value()) return -1;
    KernelCase c{"PackedMatMul", {matmul.inputs[0], *packed},
                 {{"transpose_a", ta}, {"n", b.dim(1)}}, options};
    absl::StatusOr<PreparedKernel> kernel = PrepareCase(c);
    EXPECT_TRUE(kernel.ok()) << kernel.status();
    return kernel.ok() ? kernel->scratch_bytes : -1;
  };
  EXPECT_EQ(scratch_of(Shape{64, 768}, Shape{768, 96}, false, true), 0);
  EXPECT_GT(scratch_of(Shape{64, 768}, Shape{768, 96}, false, false), 0);
  EXPECT_GT(scratch_of(Shape{64, 1024}, Shape{1024, 96}, false, true), 0);
  EXPECT_GT(scratch_of(Shape{768, 64}, Shape{768, 96}, true, true), 0);
}

// A weight that would leave a quarter or more of the AVX-512 GEMM's 32-wide panels as
// padding is packed in the AVX2 GEMM's 16-wide panels, and the prepared kernel is the AVX2
// one; asked for by name, each ISA keeps its own panels; panels no GEMM reads are refused.
TEST(MatMulKernelsTest, NarrowWeightsTakeTheNarrowerPanels) {
  if (!GemmIsaSupported(GemmIsa::kAvx512) || !GemmIsaSupported(GemmIsa::kAvx2)) {
    GTEST_SKIP() << "needs a CPU with AVX-512 and AVX2";
  }
  EXPECT_EQ(cpu::PackedWeightIsa(GemmIsa::kAuto, 16), GemmIsa::kAvx2);
  EXPECT_EQ(cpu::PackedWeightIsa(GemmIsa::kAuto, 3), GemmIsa::kAvx2);
  EXPECT_EQ(cpu::PackedWeightIsa(GemmIsa::kAuto, 48), GemmIsa::kAvx2);
  EXPECT_EQ(cpu::PackedWeightIsa(GemmIsa::kAuto, 24), GemmIsa::kAvx512);
  EXPECT_EQ(cpu::PackedWeightIsa(GemmIsa::kAuto, 32), GemmIsa::kAvx512);
  EXPECT_EQ(cpu::PackedWeightIsa(GemmIsa::kAuto, 1000), GemmIsa::kAvx512);
  EXPECT_EQ(cpu::PackedWeightIsa(GemmIsa::kAvx512, 16), GemmIsa::kAvx512);

  auto prepared = [](int64_t n, GemmIsa isa) -> absl::StatusOr<PreparedKernel> {
    CpuKernelOptions options;
    options.gemm_isa = isa;
    KernelCase matmul = MakeCase({Shape{20, 40}, Shape{40, n}, false}, DataType::kF32, 9);
    std::optional<Tensor> packed = PackedWeightOf(matmul, options);
    if (!packed.has_value()) return absl::InternalError("not packed");
    KernelCase c{"PackedMatMul", {matmul.inputs[0], *packed}, {{"n", n}}, options};
    return PrepareCase(c);
  };
  absl::StatusOr<PreparedKernel> narrow = prepared(16, GemmIsa::kAuto);
  ASSERT_TRUE(narrow.ok()) << narrow.status();
  EXPECT_EQ(narrow->name, "cpu.packed_mat_mul.f32.avx2");
  absl::StatusOr<PreparedKernel> wide = prepared(24, GemmIsa::kAuto);
  ASSERT_TRUE(wide.ok()) << wide.status();
  EXPECT_EQ(wide->name, "cpu.packed_mat_mul.f32.avx512");

  // 16-wide panels handed to a kernel asked for AVX-512 by name.
  CpuKernelOptions auto_options;
  KernelCase matmul = MakeCase({Shape{20, 40}, Shape{40, 16}, false}, DataType::kF32, 9);
  std::optional<Tensor> packed = PackedWeightOf(matmul, auto_options);
  ASSERT_TRUE(packed.has_value());
  CpuKernelOptions avx512;
  avx512.gemm_isa = GemmIsa::kAvx512;
  KernelCase c{"PackedMatMul", {matmul.inputs[0], *packed}, {{"n", int64_t{16}}}, avx512};
  absl::StatusOr<PreparedKernel> refused = PrepareCase(c);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("input 'b_packed' has panels of 16 columns"),
            std::string::npos)
      << refused.status();
}

TEST(MatMulKernelsTest, F32LargerThanOneTileAtTheDefaultSize) {
  // 2 * 300 * 350 * 400 = 84 MFLOP: two tiles at the default 32 MFLOP per tile.
  KernelCase c = MakeCase({Shape{300, 350}, Shape{350, 400}}, DataType::kF32, 77);
  absl::StatusOr<PreparedKernel> kernel = PrepareCase(c);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_GE(kernel->workgroup_count, 2);
  EXPECT_GT(kernel->scratch_bytes, 0);
  CheckKernel(c, Tolerance{Ulp(DataType::kF32), 0.0, 350 * Ulp(DataType::kF32)});
}

TEST(MatMulKernelsTest, F32PropagatesNaNAndInf) {
  Tensor a = FromSet(DataType::kF32, Shape{9, 20}, 5, {1.0, -2.0, 0.5});
  Tensor b = FromSet(DataType::kF32, Shape{20, 17}, 6, {1.0, 3.0, -0.25});
  a.SetFromDouble(3 * 20 + 4, std::numeric_limits<double>::quiet_NaN());
  b.SetFromDouble(7 * 17 + 2, std::numeric_limits<double>::infinity());
  for (GemmIsa isa : RunnableIsas()) {
    KernelCase c{"MatMul", {a, b}};
    c.options.gemm_isa = isa;
    CheckKernel(c, Tolerance{Ulp(DataType::kF32), 0.0, 20 * Ulp(DataType::kF32)});
  }
}

TEST(MatMulKernelsTest, OtherDtypes) {
  uint64_t seed = 1000;
  for (DataType dtype : {DataType::kF64, DataType::kF16, DataType::kBF16, DataType::kI8,
                         DataType::kU8, DataType::kI32, DataType::kI64}) {
    for (const MatMulShape& s : kShapes) {
      if (s.a.NumElements() * s.b.NumElements() > 2000000) continue;  // keep the reference fast
      KernelCase c = MakeCase(s, dtype, seed += 2);
      const double k = static_cast<double>(KOf(s));
      Tolerance tol;
      if (dtype == DataType::kF64) {
        tol = {Ulp(dtype), 0.0, k * Ulp(dtype)};
      } else if (IsFloating(dtype)) {
        tol = {Ulp(dtype), std::ldexp(1.0, -24), k * Ulp(DataType::kF32)};
      }
      CheckKernel(c, tol);
    }
  }
}

}  // namespace
}  // namespace kiln::testing
