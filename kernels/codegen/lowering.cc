// The lowering pipeline, as MLIR pass pipelines on the module (each string wrapped in
// `builtin.module(...)` is what `mlir-opt-16 --pass-pipeline=` takes, so a stage can be
// replayed by hand):
//  1. linalg-fuse-elementwise-ops merges the per-op linalg.generic ops into one loop nest;
//     eliminate-empty-tensors makes the fused op write into the output slices; one-shot
//     bufferization with function boundaries turns tensors into the argument buffers
//     (identity layouts, so arguments stay bare pointers), and canonicalization removes
//     the copy of an output slice onto itself.
//  2. math.log, math.erf and the other math ops left become polynomial approximations
//     (MLIR's math dialect patterns: plain arith, so the loops vectorize), then linalg
//     becomes scf loops.
//  3. scf/cf, affine, memref, arith, math and func to the LLVM dialect, with the
//     bare-pointer calling convention for memrefs of static shape.
// Vectorization happens in LLVM (native.h): the loops have unit-stride innermost
// accesses and no aliasing (llvm.noalias), and LLVM's loop vectorizer picks the host's
// vector width from the target machine's features (AVX-512 or AVX2), never an #ifdef.
#include "kernels/codegen/lowering.h"

#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln::codegen {
namespace {

constexpr char kFuseAndBufferize[] =
    "linalg-fuse-elementwise-ops,eliminate-empty-tensors,"
    "empty-tensor-to-alloc-tensor,"
    "one-shot-bufferize{bufferize-function-boundaries=1 "
    "function-boundary-type-conversion=identity-layout-map},"
    "drop-equivalent-buffer-results,canonicalize,cse";
constexpr char kToLoops[] = "func.func(convert-linalg-to-loops),canonicalize";
constexpr char kToLlvm[] =
    "lower-affine,convert-scf-to-cf,expand-strided-metadata,lower-affine,"
    "convert-math-to-llvm,convert-arith-to-llvm,convert-memref-to-llvm,"
    "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},convert-cf-to-llvm,"
    "reconcile-unrealized-casts,canonicalize";

// Collects MLIR's diagnostics of one context into a string.
class DiagnosticCollector {
 public:
  explicit DiagnosticCollector(mlir::MLIRContext& context)
      : handler_(&context, [this](mlir::Diagnostic& diagnostic) {
          llvm::raw_string_ostream os(text_);
          os << diagnostic << "\n";
          for (const mlir::Diagnostic& note : diagnostic.getNotes()) os << "  " << note << "\n";
          return mlir::success();
        }) {}
  absl::Status Error(absl::string_view what) const {
    return absl::InternalError(absl::StrCat("code generation: ", what, ": ", text_));
  }

 private:
  std::string text_;
  mlir::ScopedDiagnosticHandler handler_;
};

void RegisterPassesOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mlir::registerAllPasses(); });
}

std::unique_ptr<mlir::MLIRContext> CreateContext() {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerLLVMDialectTranslation(registry);
  auto context = std::make_unique<mlir::MLIRContext>(registry,
                                                     mlir::MLIRContext::Threading::DISABLED);
  context->loadAllAvailableDialects();
  return context;
}

std::string Print(mlir::ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  return text;
}

absl::Status RunPipeline(mlir::ModuleOp module, const char* pipeline,
                         const DiagnosticCollector& diagnostics, std::string* trace) {
  mlir::PassManager pm(module->getContext());
  std::string error;
  llvm::raw_string_ostream error_stream(error);
  if (mlir::failed(mlir::parsePassPipeline(pipeline, pm, error_stream))) {
    return absl::InternalError(absl::StrCat("code generation: bad pipeline: ", error));
  }
  std::unique_ptr<llvm::raw_string_ostream> trace_stream;
  if (trace != nullptr) {
    trace_stream = std::make_unique<llvm::raw_string_ostream>(*trace);
    pm.enableIRPrinting([](mlir::Pass*, mlir::Operation*) { return false; },
                        [](mlir::Pass*, mlir::Operation*) { return true; },
                        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false,
                        /*printAfterOnlyOnFailure=*/false, *trace_stream);
  }
  if (mlir::failed(pm.run(module))) return diagnostics.Error(pipeline);
  return absl::OkStatus();
}

// Copies between buffers (what bufferization makes of a cluster whose value is an input,
// e.g. x * 1 after canonicalization) as linalg loops: memref.copy of a slice with a dynamic
// size would lower to a call into MLIR's runtime library with descriptors on the stack.
void CopiesToLoops(mlir::ModuleOp module) {
  module.walk([](mlir::memref::CopyOp copy) {
    mlir::OpBuilder b(copy);
    const int64_t rank = copy.getTarget().getType().cast<mlir::MemRefType>().getRank();
    const mlir::AffineMap identity = b.getMultiDimIdentityMap(rank);
    llvm::SmallVector<mlir::utils::IteratorType> iterators(rank,
                                                           mlir::utils::IteratorType::parallel);
    b.create<mlir::linalg::GenericOp>(
        copy.getLoc(), mlir::ValueRange{copy.getSource()}, mlir::ValueRange{copy.getTarget()},
        llvm::ArrayRef<mlir::AffineMap>{identity, identity}, iterators,
        [](mlir::OpBuilder& nested, mlir::Location loc, mlir::ValueRange args) {
          nested.create<mlir::linalg::YieldOp>(loc, args[0]);
        });
    copy.erase();
  });
}

// Replaces tanh, exp, log, erf, ... by MLIR's polynomial approximations (f32).
absl::Status ApproximateMath(mlir::ModuleOp module, const DiagnosticCollector& diagnostics,
                             std::string* trace) {
  mlir::RewritePatternSet patterns(module->getContext());
  mlir::populateMathPolynomialApproximationPatterns(patterns);
  if (mlir::failed(mlir::applyPatternsAndFoldGreedily(module, std::move(patterns)))) {
    return diagnostics.Error("math polynomial approximation");
  }
  if (trace != nullptr) {
    absl::StrAppend(trace, "// -----// IR Dump After math polynomial approximation //----- //\n",
                    Print(module), "\n");
  }
  return absl::OkStatus();
}

// Parses and lowers to `stage` in `context`.
absl::StatusOr<mlir::OwningOpRef<mlir::ModuleOp>> Lower(mlir::MLIRContext& context,
                                                        absl::string_view mlir_text,
                                                        LoweringStage stage,
                                                        std::string* trace) {
  RegisterPassesOnce();
  DiagnosticCollector diagnostics(context);
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::parseSourceString<mlir::ModuleOp>(
      llvm::StringRef(mlir_text.data(), mlir_text.size()), &context);
  if (!module) return diagnostics.Error("the generated module does not parse");
  if (stage == LoweringStage::kTensors) return module;
  if (auto status = RunPipeline(*module, kFuseAndBufferize, diagnostics, trace); !status.ok()) {
    return status;
  }
  CopiesToLoops(*module);
  if (auto status = ApproximateMath(*module, diagnostics, trace); !status.ok()) return status;
  if (auto status = RunPipeline(*module, kToLoops, diagnostics, trace); !status.ok()) {
    return status;
  }
  if (stage == LoweringStage::kLoops) return module;
  if (auto status = RunPipeline(*module, kToLlvm, diagnostics, trace); !status.ok()) {
    return status;
  }
  // The memory plan gives a kernel every buffer it needs; a lowered kernel that allocates
  // (a value bufferization could not place) would allocate on every call.
  const std::string text = Print(*module);
  if (absl::StrContains(text, "@malloc") || absl::StrContains(text, "llvm.alloca")) {
    return absl::InternalError(
        "code generation: the lowered kernel allocates memory (a temporary bufferization "
        "could not place in the planned buffers)");
  }
  return module;
}

}  // namespace

absl::StatusOr<std::string> LowerToStage(absl::string_view mlir_text, LoweringStage stage,
                                         std::string* trace) {
  std::unique_ptr<mlir::MLIRContext> context = CreateContext();
  auto module = Lower(*context, mlir_text, stage, trace);
  if (!module.ok()) return module.status();
  return Print(**module);
}

absl::StatusOr<std::unique_ptr<llvm::Module>> LowerToLlvmIr(absl::string_view mlir_text,
                                                            llvm::LLVMContext& llvm_context,
                                                            std::string* trace) {
  std::unique_ptr<mlir::MLIRContext> context = CreateContext();
  auto module = Lower(*context, mlir_text, LoweringStage::kLlvmDialect, trace);
  if (!module.ok()) return module.status();
  std::unique_ptr<llvm::Module> llvm_module =
      mlir::translateModuleToLLVMIR(**module, llvm_context, "kiln_kernel");
  if (llvm_module == nullptr) {
    return absl::InternalError("code generation: translation to LLVM IR failed");
  }
  return llvm_module;
}

}  // namespace kiln::codegen
