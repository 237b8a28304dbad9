// The compiler's toolchain links: MLIR 16 parses and verifies a module, and LLVM 16
// knows the host and NVPTX targets Kiln generates code for.
#include "gtest/gtest.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

namespace {

TEST(ToolchainTest, MlirParsesAndVerifiesAModule) {
  mlir::MLIRContext context;
  context.loadDialect<mlir::func::FuncDialect, mlir::arith::ArithDialect>();
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::parseSourceString<mlir::ModuleOp>(
      "func.func @add(%a: f32, %b: f32) -> f32 {\n"
      "  %c = arith.addf %a, %b : f32\n"
      "  return %c : f32\n"
      "}\n",
      &context);
  ASSERT_TRUE(module);
  EXPECT_TRUE(mlir::succeeded(mlir::verify(*module)));
  // A type error must be caught.
  mlir::OwningOpRef<mlir::ModuleOp> bad = mlir::parseSourceString<mlir::ModuleOp>(
      "func.func @bad(%a: f32) -> i32 { return %a : f32 }", &context);
  EXPECT_FALSE(bad && mlir::succeeded(mlir::verify(*bad)));
}

TEST(ToolchainTest, LlvmHasHostAndNvptxTargets) {
  llvm::InitializeAllTargetInfos();
  std::string error;
  EXPECT_NE(llvm::TargetRegistry::lookupTarget("x86_64-unknown-linux-gnu", error), nullptr)
      << error;
  EXPECT_NE(llvm::TargetRegistry::lookupTarget("nvptx64-nvidia-cuda", error), nullptr) << error;
}

}  // namespace
