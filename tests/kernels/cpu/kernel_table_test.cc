// The kernel table covers the registry, and Prepare's validation errors name the node.
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "graph/op_registry.h"
#include "gtest/gtest.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "kernels/cpu/kernel_table.h"
#include "tests/kernels/cpu/kernel_harness.h"

namespace kiln::testing {
namespace {

using ::testing::HasSubstr;

TEST(KernelTableTest, SortedAndUnique) {
  absl::Span<const cpu::KernelTableEntry> table = cpu::CpuKernelTable();
  for (size_t i = 1; i < table.size(); ++i) {
    EXPECT_LT(table[i - 1].op, table[i].op) << "entry " << i;
  }
}

// Ops the portable library does not implement: Input is fed, never computed; the rest run
// on the reference kernels through Session's fallback provider. The list is exact, so an
// op that gains a kernel must leave it and a new op must either get a kernel or join it.
const absl::flat_hash_set<std::string>& OpsWithoutCpuKernel() {
  static const auto* ops = new absl::flat_hash_set<std::string>{
      "Input",
      // Added for ONNX import; reference kernels until CPU kernels are written.
      "Acos",
      "Acosh",
      "And",
      "ArgMax",
      "ArgMin",
      "Asin",
      "Asinh",
      "Atan",
      "Atanh",
      "BitShift",
      "Ceil",
      "Cos",
      "Cosh",
      "Det",
      "CumSum",
      "Expand",
      "Floor",
      "GatherElements",
      "GatherND",
      "IsInf",
      "IsNaN",
      "Mod",
      "Not",
      "Or",
      "ReduceMin",
      "ReduceProd",
      "Resize",
      "Round",
      "ScatterElements",
      "ScatterND",
      "Sign",
      "Sin",
      "Sinh",
      "Softplus",
      "Tan",
      "Tile",
      "TopK",
      "Trilu",
      "Xor",
  };
  return *ops;
}

TEST(KernelTableTest, EveryRegisteredOpHasAKernelOrIsListed) {
  for (const OpDef* def : OpRegistry::Global().ops()) {
    const cpu::KernelTableEntry* entry = cpu::FindCpuKernel(def->name);
    if (OpsWithoutCpuKernel().contains(def->name)) {
      EXPECT_EQ(entry, nullptr) << def->name << " has a CPU kernel now: remove it from the list";
    } else {
      EXPECT_NE(entry, nullptr) << def->name << " has no CPU kernel and is not listed";
    }
  }
}

TEST(KernelTableTest, EveryEntryNamesARegisteredOp) {
  for (const cpu::KernelTableEntry& entry : cpu::CpuKernelTable()) {
    EXPECT_NE(OpRegistry::Global().Find(entry.op), nullptr) << entry.op;
  }
}

TEST(KernelTableTest, FindMissesUnknownOps) {
  EXPECT_EQ(cpu::FindCpuKernel("NoSuchOp"), nullptr);
  EXPECT_EQ(cpu::FindCpuKernel(""), nullptr);
  ASSERT_NE(cpu::FindCpuKernel("MatMul"), nullptr);
  EXPECT_EQ(cpu::FindCpuKernel("MatMul")->op, "MatMul");
}

TEST(ProviderTest, NameAndErrorMessages) {
  EXPECT_EQ(CreateCpuKernelProvider()->name(), "cpu-portable");
  EXPECT_STREQ(kiln_kernel_status_message(KILN_KERNEL_DIVISION_BY_ZERO), "integer division by zero");
  EXPECT_STREQ(kiln_kernel_status_message(12345), "unknown kernel status");
  EXPECT_TRUE(kiln_kernel_status_is_data_error(KILN_KERNEL_INDEX_OUT_OF_RANGE));
  EXPECT_FALSE(kiln_kernel_status_is_data_error(KILN_KERNEL_INTERNAL));
}

TEST(ProviderTest, RankAboveEightIsUnimplementedNamingTheNode) {
  Shape nine(std::vector<int64_t>(9, 1));
  KernelCase c{"Add", {Random(DataType::kF32, nine, 1), Random(DataType::kF32, nine, 2)}};
  absl::StatusOr<PreparedKernel> kernel = PrepareCase(c);
  ASSERT_FALSE(kernel.ok());
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(kernel.status().message(), HasSubstr("node 'op' (Add)"));
  EXPECT_THAT(kernel.status().message(), HasSubstr("rank 9"));
}

TEST(ProviderTest, UnknownDimensionsAreRejected) {
  KernelCase c{"Relu", {Random(DataType::kF32, Shape{2, 3}, 1)}};
  absl::StatusOr<Graph> g = SingleOpGraph(c);
  ASSERT_TRUE(g.ok());
  // Pretend the input's first dimension is still unbound.
  g->node(0).outputs[0].shape = Shape{-1, 3};
  g->node(1).outputs[0].shape = Shape{-1, 3};
  absl::StatusOr<PreparedKernel> kernel = CreateCpuKernelProvider()->Prepare(*g, g->node(1));
  ASSERT_FALSE(kernel.ok());
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(kernel.status().message(), HasSubstr("node 'op' (Relu)"));
  EXPECT_THAT(kernel.status().message(), HasSubstr("unknown dimensions"));
}

TEST(ProviderTest, InputNodesHaveNoKernel) {
  KernelCase c{"Relu", {Random(DataType::kF32, Shape{2}, 1)}};
  absl::StatusOr<Graph> g = SingleOpGraph(c);
  ASSERT_TRUE(g.ok());
  absl::StatusOr<PreparedKernel> kernel = CreateCpuKernelProvider()->Prepare(*g, g->node(0));
  ASSERT_FALSE(kernel.ok());
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(kernel.status().message(), HasSubstr("fed by the runtime"));
}

TEST(ProviderTest, OutputTypesThatDisagreeWithInferenceAreRejected) {
  KernelCase c{"Relu", {Random(DataType::kF32, Shape{2, 3}, 1)}};
  absl::StatusOr<Graph> g = SingleOpGraph(c);
  ASSERT_TRUE(g.ok());
  g->node(1).outputs[0].shape = Shape{3, 3};  // a planner would overrun the input
  absl::StatusOr<PreparedKernel> kernel = CreateCpuKernelProvider()->Prepare(*g, g->node(1));
  ASSERT_FALSE(kernel.ok());
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(kernel.status().message(), HasSubstr("differ from shape inference"));
}

TEST(ProviderTest, UnverifiedNodesAreRejected) {
  KernelCase c{"Relu", {Random(DataType::kF32, Shape{2}, 1)}};
  absl::StatusOr<Graph> g = SingleOpGraph(c);
  ASSERT_TRUE(g.ok());
  g->node(1).def = nullptr;
  absl::StatusOr<PreparedKernel> kernel = CreateCpuKernelProvider()->Prepare(*g, g->node(1));
  ASSERT_FALSE(kernel.ok());
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ProviderTest, UnsupportedDtypeIsUnimplementedNamingNodeAndDtype) {
  // Every dtype a verified graph can give an op has a kernel, so retype a verified Relu to
  // bool (its shape function passes the type through, so re-inference agrees).
  KernelCase c{"Relu", {Random(DataType::kF32, Shape{4}, 1)}};
  absl::StatusOr<Graph> g = SingleOpGraph(c);
  ASSERT_TRUE(g.ok());
  g->node(0).outputs[0].dtype = DataType::kBool;
  g->node(1).outputs[0].dtype = DataType::kBool;
  absl::StatusOr<PreparedKernel> kernel = CreateCpuKernelProvider()->Prepare(*g, g->node(1));
  ASSERT_FALSE(kernel.ok());
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(kernel.status().message(), HasSubstr("node 'op' (Relu)"));
  EXPECT_THAT(kernel.status().message(), HasSubstr("dtype bool"));
}

TEST(ProviderTest, GemmIsaDetection) {
  EXPECT_TRUE(GemmIsaSupported(GemmIsa::kPortable));
  EXPECT_TRUE(GemmIsaSupported(GemmIsa::kPortableWide));
  EXPECT_TRUE(GemmIsaSupported(DetectGemmIsa()));
  EXPECT_NE(DetectGemmIsa(), GemmIsa::kAuto);
}

TEST(ProviderTest, UnsupportedGemmIsaIsUnimplemented) {
  if (GemmIsaSupported(GemmIsa::kAvx512)) GTEST_SKIP() << "this CPU has AVX-512";
  KernelCase c{"MatMul",
               {Random(DataType::kF32, Shape{2, 3}, 1), Random(DataType::kF32, Shape{3, 4}, 2)}};
  c.options.gemm_isa = GemmIsa::kAvx512;
  absl::StatusOr<PreparedKernel> kernel = PrepareCase(c);
  ASSERT_FALSE(kernel.ok());
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(kernel.status().message(), HasSubstr("avx512"));
}

}  // namespace
}  // namespace kiln::testing
