// The code generator's outputs and caches: relocatable objects with the kernel entry,
// stable names, the process cache, the on-disk cache (hit, damaged file replaced),
// streaming stores, and errors that carry MLIR's diagnostics.
#include "kernels/codegen/kernel_compiler.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/kernels/codegen/test_kernels.h"

namespace kiln::codegen {
namespace {

using ::kiln::codegen::testing::ScaleKernel;
using ::testing::HasSubstr;

void ExpectScales(kiln_kernel_fn fn, float scale) {
  float in[8], out[8];
  for (int i = 0; i < 8; ++i) in[i] = static_cast<float>(i) - 3.5f;
  void* buffers[2] = {in, out};
  kiln_kernel_call call{};
  call.buffers = buffers;
  call.num_buffers = 2;
  ASSERT_EQ(fn(&call, 0, 1), KILN_KERNEL_OK);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out[i], in[i] * scale) << i;
}

std::string FreshDir(const std::string& name) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/", name);
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(KernelCompilerTest, ObjectsAreElfWithTheEntry) {
  const KernelSource source = ScaleKernel(2.0f);
  const std::string name = KernelName(source);
  EXPECT_THAT(name, ::testing::StartsWith("gen.loop."));
  EXPECT_EQ(name, KernelName(ScaleKernel(2.0f)));   // stable
  EXPECT_NE(name, KernelName(ScaleKernel(3.0f)));   // keyed by the source
  absl::StatusOr<std::string> object = CompileToObject(source, name);
  ASSERT_TRUE(object.ok()) << object.status();
  ASSERT_GT(object->size(), 4u);
  EXPECT_EQ(object->substr(0, 4), "\x7f" "ELF");
  EXPECT_THAT(*object, HasSubstr(EntrySymbol(name)));
  EXPECT_EQ(EntrySymbol("gen.loop.00ab"), "kiln_gen_loop_00ab");
}

TEST(KernelCompilerTest, StreamingStoresAreNonTemporalAndFenced) {
  KernelSource streaming = ScaleKernel(6.0f);
  streaming.stream_stores = true;
  EXPECT_NE(KernelName(streaming), KernelName(ScaleKernel(6.0f)));
  absl::StatusOr<std::string> ir = EmitKernel(streaming, EmitStage::kLlvmIr);
  ASSERT_TRUE(ir.ok()) << ir.status();
  EXPECT_THAT(*ir, HasSubstr("!nontemporal"));
  EXPECT_THAT(*ir, HasSubstr("@llvm.x86.sse.sfence()"));
  absl::StatusOr<std::string> plain = EmitKernel(ScaleKernel(6.0f), EmitStage::kLlvmIr);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_THAT(*plain, ::testing::Not(HasSubstr("!nontemporal")));

  absl::StatusOr<CompiledKernel> kernel = GetOrCompileKernel(streaming, {});
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  // Into an aligned output (non-temporal stores) and one 4 bytes past it (ordinary ones).
  alignas(64) float in[8], out[9];
  for (int i = 0; i < 8; ++i) in[i] = static_cast<float>(i) - 3.5f;
  for (float* dst : {out, out + 1}) {
    void* buffers[2] = {in, dst};
    kiln_kernel_call call{};
    call.buffers = buffers;
    call.num_buffers = 2;
    ASSERT_EQ(kernel->fn(&call, 0, 1), KILN_KERNEL_OK);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(dst[i], in[i] * 6.0f) << i;
  }
}

TEST(KernelCompilerTest, ProcessCacheCompilesOnce) {
  const CodegenStats before = GetCodegenStats();
  absl::StatusOr<CompiledKernel> first = GetOrCompileKernel(ScaleKernel(5.0f), {});
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<CompiledKernel> second = GetOrCompileKernel(ScaleKernel(5.0f), {});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->fn, second->fn);
  const CodegenStats after = GetCodegenStats();
  EXPECT_EQ(after.compiled, before.compiled + 1);
  EXPECT_EQ(after.memory_hits, before.memory_hits + 1);
  ExpectScales(second->fn, 5.0f);
}

TEST(KernelCompilerTest, DiskCacheIsReadAndDamagedFilesAreReplaced) {
  const std::string dir = FreshDir("kernel_cache");
  CodegenOptions options;
  options.cache_dir = dir;
  // As another process would have left it: the object of a kernel this process has not
  // loaded yet.
  const KernelSource cached = ScaleKernel(7.0f);
  const std::string name = KernelName(cached);
  std::filesystem::create_directories(dir);
  {
    std::ofstream file(absl::StrCat(dir, "/", name, ".o"), std::ios::binary);
    file << CompileToObject(cached, name).value();
  }
  CodegenStats before = GetCodegenStats();
  absl::StatusOr<CompiledKernel> hit = GetOrCompileKernel(cached, options);
  ASSERT_TRUE(hit.ok()) << hit.status();
  EXPECT_EQ(GetCodegenStats().disk_hits, before.disk_hits + 1);
  EXPECT_EQ(GetCodegenStats().compiled, before.compiled);
  ExpectScales(hit->fn, 7.0f);

  // A truncated file is compiled afresh and rewritten whole.
  const KernelSource damaged = ScaleKernel(9.0f);
  const std::string path = absl::StrCat(dir, "/", KernelName(damaged), ".o");
  const std::string object = CompileToObject(damaged, KernelName(damaged)).value();
  std::ofstream(path, std::ios::binary) << object.substr(0, object.size() / 3);
  before = GetCodegenStats();
  absl::StatusOr<CompiledKernel> rebuilt = GetOrCompileKernel(damaged, options);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(GetCodegenStats().compiled, before.compiled + 1);
  ExpectScales(rebuilt->fn, 9.0f);
  std::ifstream file(path, std::ios::binary);
  std::stringstream rewritten;
  rewritten << file.rdbuf();
  EXPECT_EQ(rewritten.str().size(), object.size());

  // A miss writes the object for the next process.
  const KernelSource fresh = ScaleKernel(11.0f);
  ASSERT_TRUE(GetOrCompileKernel(fresh, options).ok());
  EXPECT_TRUE(std::filesystem::exists(absl::StrCat(dir, "/", KernelName(fresh), ".o")));
}

TEST(KernelCompilerTest, UnwritableCacheDirectoryIsAnError) {
  const std::string file = FreshDir("not_a_dir");
  std::ofstream(file) << "x";
  CodegenOptions options;
  options.cache_dir = file + "/sub";
  absl::StatusOr<CompiledKernel> kernel = GetOrCompileKernel(ScaleKernel(13.0f), options);
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(kernel.status().message(), HasSubstr("kernel cache directory"));
}

TEST(KernelCompilerTest, BadModulesCarryMlirDiagnostics) {
  KernelSource bad = ScaleKernel(1.0f);
  bad.mlir = "module { func.func @kiln_loop(%a: f32) -> i32 { return %a : f32 } }";
  absl::StatusOr<CompiledKernel> kernel = GetOrCompileKernel(bad, {});
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(kernel.status().message(), HasSubstr("does not parse"));
  EXPECT_THAT(kernel.status().message(), HasSubstr("return"));
  // A function that is not (buffers..., workgroup id, count).
  KernelSource wrong = ScaleKernel(2.0f);
  wrong.num_buffers = 3;
  EXPECT_THAT(CompileToObject(wrong, "gen.loop.x").status().message(),
              HasSubstr("does not take 3 buffers"));
}

TEST(KernelCompilerTest, EmitStages) {
  EXPECT_EQ(ParseEmitStage("asm").value(), EmitStage::kAssembly);
  EXPECT_FALSE(ParseEmitStage("ptx").ok());
  std::string trace;
  absl::StatusOr<std::string> loops = EmitKernel(ScaleKernel(2.0f), EmitStage::kLoops, &trace);
  ASSERT_TRUE(loops.ok()) << loops.status();
  EXPECT_THAT(*loops, HasSubstr("scf.for"));
  EXPECT_THAT(*loops, HasSubstr("memref<8xf32>"));
  EXPECT_THAT(trace, HasSubstr("IR Dump After OneShotBufferize"));
  absl::StatusOr<std::string> llvm_ir = EmitKernel(ScaleKernel(2.0f), EmitStage::kLlvmIr);
  ASSERT_TRUE(llvm_ir.ok()) << llvm_ir.status();
  EXPECT_THAT(*llvm_ir, HasSubstr("define i32 @kiln_gen_loop_"));
}

}  // namespace
}  // namespace kiln::codegen
