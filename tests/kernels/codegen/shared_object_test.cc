// Generated kernels linked into one shared object (what an artifact carries): the objects
// the process keeps, a shared object exporting only the entry symbols that the runtime
// core loads and runs, and the linker's refusal of a symbol nothing provides.
#include "kernels/codegen/shared_object.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/codegen/kernel_compiler.h"
#include "tests/kernels/codegen/test_kernels.h"
#include "runtime/code_library.h"

namespace kiln::codegen {
namespace {

using ::kiln::codegen::testing::ElementwiseKernel;
using ::kiln::codegen::testing::ScaleKernel;
using ::testing::HasSubstr;


// powf from libm.
KernelSource Power() {
  return ElementwiseKernel(
      "      %c = arith.constant 1.5 : f32\n"
      "      %y = math.powf %v, %c : f32\n"
      "      linalg.yield %y : f32");
}

std::vector<float> RunKernel(kiln_kernel_fn fn) {
  std::vector<float> in(8), out(8, -1.0f);
  for (int i = 0; i < 8; ++i) in[i] = static_cast<float>(i) + 0.25f;
  void* buffers[2] = {in.data(), out.data()};
  kiln_kernel_call call{};
  call.buffers = buffers;
  call.num_buffers = 2;
  EXPECT_EQ(fn(&call, 0, 1), KILN_KERNEL_OK);
  return out;
}

TEST(SharedObjectTest, TheProcessKeepsEachKernelsObject) {
  const KernelSource source = ScaleKernel(3.0f);
  absl::StatusOr<CompiledKernel> kernel = GetOrCompileKernel(source, {});
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  absl::StatusOr<std::string> object = GetKernelObject(kernel->name);
  ASSERT_TRUE(object.ok()) << object.status();
  EXPECT_EQ(*object, CompileToObject(source, kernel->name).value());
  absl::Status absent = GetKernelObject("gen.loop.0000000000000000").status();
  EXPECT_EQ(absent.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(absent.message(), HasSubstr("was not generated in this process"));
}

TEST(SharedObjectTest, LinkedKernelsLoadAndRunAsTheJitsDo) {
  std::vector<std::string> names;
  std::vector<CodeKernel> kernels;
  std::vector<kiln_kernel_fn> jitted;
  for (const KernelSource& source : {ScaleKernel(2.0f), ScaleKernel(-4.0f), Power()}) {
    absl::StatusOr<CompiledKernel> kernel = GetOrCompileKernel(source, {});
    ASSERT_TRUE(kernel.ok()) << kernel.status();
    names.push_back(kernel->name);
    kernels.push_back({kernel->name, EntrySymbol(kernel->name), 0});
    jitted.push_back(kernel->fn);
  }
  absl::StatusOr<std::string> shared_object = LinkKernels(names);
  ASSERT_TRUE(shared_object.ok()) << shared_object.status();
  EXPECT_EQ(shared_object->substr(0, 4), "\x7f" "ELF");
  // libm is a dependency (Power calls powf), by its soname.
  EXPECT_THAT(*shared_object, HasSubstr("libm.so.6"));

  absl::StatusOr<std::shared_ptr<const CodeLibrary>> library =
      CodeLibrary::Load(*shared_object, kernels);
  ASSERT_TRUE(library.ok()) << library.status();
  for (size_t k = 0; k < kernels.size(); ++k) {
    const KernelSymbol* symbol = (*library)->library().Find(names[k]);
    ASSERT_NE(symbol, nullptr) << names[k];
    EXPECT_NE(symbol->fn, jitted[k]);
    EXPECT_EQ(RunKernel(symbol->fn), RunKernel(jitted[k])) << names[k];
  }
  // Only the entry symbols are exported: the kernel bodies are not.
  std::vector<CodeKernel> body = {{"gen.loop.body", "kiln_loop", 0}};
  absl::Status hidden = CodeLibrary::Load(*shared_object, body).status();
  EXPECT_EQ(hidden.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(hidden.message(), HasSubstr("the code has no symbol 'kiln_loop'"));
}

TEST(SharedObjectTest, ASymbolNothingProvidesIsALinkError) {
  const KernelSource source = ElementwiseKernel(
      "      %y = func.call @kiln_test_undefined(%v) : (f32) -> f32\n"
      "      linalg.yield %y : f32",
      "  func.func private @kiln_test_undefined(f32) -> f32\n");
  // The JIT would refuse it too, so its object comes straight from the compiler.
  const std::string name = KernelName(source);
  absl::StatusOr<std::string> object = CompileToObject(source, name);
  ASSERT_TRUE(object.ok()) << object.status();
  absl::Status status = LinkSharedObject({*object}, {EntrySymbol(name)}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("linking generated kernels: ld.lld"));
  EXPECT_THAT(status.message(), HasSubstr("kiln_test_undefined"));

  EXPECT_THAT(LinkSharedObject({"not an object"}, {}).status().message(),
              HasSubstr("linking generated kernels: ld.lld"));
  EXPECT_EQ(LinkKernels({"gen.loop.0000000000000000"}).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kiln::codegen
