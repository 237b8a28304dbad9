// The CPU library's exported names: well formed and unique, the ones the provider picks
// resolvable, and the checks a loader makes on a kernel call.
#include "kernels/cpu/cpu_kernel_library.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/cpu/params.h"
#include "kernels/kernel_library.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

TEST(CpuKernelLibraryTest, NamesAreUniqueAndWellFormed) {
  const KernelLibrary& library = CpuKernelLibrary();
  EXPECT_EQ(library.name(), "cpu");
  EXPECT_TRUE(library.Check().ok()) << library.Check();
  EXPECT_GT(library.symbols().size(), 300u);
}

TEST(CpuKernelLibraryTest, FindsKernelsByName) {
  const KernelLibrary& library = CpuKernelLibrary();
  const KernelSymbol* add = library.Find("cpu.add.f32");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->params_size, static_cast<int64_t>(sizeof(cpu::BinaryParams)));
  EXPECT_EQ(add->params_version, cpu::BinaryParams::kVersion);
  EXPECT_EQ(add->cpu_features, 0u);
  const KernelSymbol* avx512 = library.Find("cpu.mat_mul.f32.avx512");
  ASSERT_NE(avx512, nullptr);
  EXPECT_EQ(avx512->cpu_features, kCpuAvx512);
  EXPECT_NE(library.Find("cpu.mat_mul.f32.portable_wide"), nullptr);
  EXPECT_NE(library.Find("cpu.cast.bool.f16"), nullptr);
  EXPECT_NE(library.Find("cpu.equal.bool"), nullptr);
  EXPECT_TRUE(library.Find("cpu.concat")->params_trailing);
  // Names an op has no kernel for.
  EXPECT_EQ(library.Find("cpu.add.bool"), nullptr);
  EXPECT_EQ(library.Find("cpu.exp.i32"), nullptr);
  EXPECT_EQ(library.Find("cpu.add"), nullptr);
  EXPECT_EQ(library.Find(""), nullptr);
}

TEST(KernelLibraryTest, CheckKernelCallNamesTheMismatch) {
  KernelSymbol symbol;
  symbol.name = "cpu.test.f32";
  symbol.fn = [](const kiln_kernel_call*, int64_t, int64_t) -> int32_t { return 0; };
  symbol.params_version = 3;
  symbol.params_size = 24;
  symbol.cpu_features = kCpuAvx512;
  EXPECT_TRUE(CheckKernelCall(symbol, 3, 24, kCpuAvx512 | kCpuAvx2Fma).ok());
  absl::Status version = CheckKernelCall(symbol, 2, 24, kCpuAvx512);
  EXPECT_THAT(version.message(), HasSubstr("version 2"));
  EXPECT_THAT(version.message(), HasSubstr("reads version 3"));
  absl::Status size = CheckKernelCall(symbol, 3, 16, kCpuAvx512);
  EXPECT_THAT(size.message(), HasSubstr("16 bytes"));
  EXPECT_THAT(size.message(), HasSubstr("reads 24"));
  absl::Status cpu = CheckKernelCall(symbol, 3, 24, kCpuAvx2Fma);
  EXPECT_THAT(cpu.message(), HasSubstr("needs avx512"));
  symbol.params_trailing = true;
  EXPECT_TRUE(CheckKernelCall(symbol, 3, 40, kCpuAvx512).ok());
  EXPECT_FALSE(CheckKernelCall(symbol, 3, 16, kCpuAvx512).ok());
}

TEST(KernelLibraryTest, CheckRejectsDuplicatesAndBadNames) {
  auto fn = [](const kiln_kernel_call*, int64_t, int64_t) -> int32_t { return 0; };
  KernelSymbol a{"lib.a.f32", fn, 1, 8, false, 0};
  EXPECT_TRUE(KernelLibrary("lib", {a}).Check().ok());
  EXPECT_THAT(KernelLibrary("lib", {a, a}).Check().message(), HasSubstr("exported twice"));
  KernelSymbol upper{"lib.Add", fn, 1, 8, false, 0};
  EXPECT_THAT(KernelLibrary("lib", {upper}).Check().message(), HasSubstr("not 'lib."));
  KernelSymbol other{"cpu.a", fn, 1, 8, false, 0};
  EXPECT_FALSE(KernelLibrary("lib", {other}).Check().ok());
  KernelSymbol no_fn{"lib.b", nullptr, 1, 8, false, 0};
  EXPECT_FALSE(KernelLibrary("lib", {no_fn}).Check().ok());
}

TEST(KernelLibraryTest, CpuFeatureNames) {
  EXPECT_EQ(CpuFeatureNames(0), "none");
  EXPECT_EQ(CpuFeatureNames(kCpuAvx2Fma | kCpuAvx512), "avx2+fma,avx512");
}

}  // namespace
}  // namespace kiln
