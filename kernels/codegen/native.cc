#include "kernels/codegen/native.h"

#include <mutex>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

namespace kiln::codegen {
namespace {

void InitializeLlvmOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

struct HostTarget {
  std::string triple, cpu, features;
};

const HostTarget& Host() {
  static const HostTarget* host = [] {
    auto* h = new HostTarget;
    h->triple = llvm::sys::getProcessTriple();
    h->cpu = llvm::sys::getHostCPUName().str();
    llvm::StringMap<bool> features;
    std::vector<std::string> list;
    if (llvm::sys::getHostCPUFeatures(features)) {
      for (const auto& feature : features) {
        list.push_back(absl::StrCat(feature.getValue() ? "+" : "-", feature.getKey().str()));
      }
    }
    std::sort(list.begin(), list.end());
    h->features = absl::StrJoin(list, ",");
    return h;
  }();
  return *host;
}

}  // namespace

const std::string& HostTargetKey() {
  static const std::string* key = new std::string(
      absl::StrCat(Host().triple, "/", Host().cpu, "/", Host().features));
  return *key;
}

absl::StatusOr<std::unique_ptr<llvm::TargetMachine>> CreateHostTargetMachine() {
  InitializeLlvmOnce();
  const HostTarget& host = Host();
  std::string error;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(host.triple, error);
  if (target == nullptr) {
    return absl::InternalError(absl::StrCat("code generation: no LLVM target for '",
                                            host.triple, "': ", error));
  }
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      host.triple, host.cpu, host.features, options, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOpt::Aggressive));
  if (machine == nullptr) {
    return absl::InternalError(absl::StrCat("code generation: cannot create a target machine "
                                            "for ", host.triple, " ", host.cpu));
  }
  return machine;
}

absl::Status AddKernelEntry(llvm::Module& module, absl::string_view function, int num_buffers,
                            absl::string_view entry) {
  llvm::Function* body = module.getFunction(llvm::StringRef(function.data(), function.size()));
  if (body == nullptr) {
    return absl::InternalError(absl::StrCat("code generation: no function '", function, "'"));
  }
  llvm::FunctionType* body_type = body->getFunctionType();
  if (!body_type->getReturnType()->isVoidTy() ||
      body_type->getNumParams() != static_cast<unsigned>(num_buffers + 2)) {
    return absl::InternalError(absl::StrCat("code generation: '", function,
                                            "' does not take ", num_buffers,
                                            " buffers and a workgroup id and count"));
  }
  body->setLinkage(llvm::GlobalValue::InternalLinkage);

  llvm::LLVMContext& context = module.getContext();
  llvm::Type* ptr = llvm::PointerType::get(context, 0);
  llvm::Type* i64 = llvm::Type::getInt64Ty(context);
  llvm::Type* i32 = llvm::Type::getInt32Ty(context);
  auto* entry_type = llvm::FunctionType::get(i32, {ptr, i64, i64}, false);
  llvm::Function* entry_fn = llvm::Function::Create(
      entry_type, llvm::GlobalValue::ExternalLinkage, llvm::StringRef(entry.data(), entry.size()),
      module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "entry", entry_fn));
  // kiln_kernel_call::buffers is its first member.
  llvm::Value* buffers = b.CreateLoad(ptr, entry_fn->getArg(0), "buffers");
  std::vector<llvm::Value*> args;
  for (int i = 0; i < num_buffers; ++i) {
    llvm::Value* slot = b.CreateConstInBoundsGEP1_64(ptr, buffers, i);
    llvm::Value* buffer = b.CreateLoad(ptr, slot);
    args.push_back(b.CreatePointerCast(buffer, body_type->getParamType(i)));
  }
  args.push_back(entry_fn->getArg(1));
  args.push_back(entry_fn->getArg(2));
  b.CreateCall(body_type, body, args);
  b.CreateRet(llvm::ConstantInt::get(i32, 0));

  std::string errors;
  llvm::raw_string_ostream os(errors);
  if (llvm::verifyModule(module, &os)) {
    return absl::InternalError(absl::StrCat("code generation: invalid LLVM IR: ", errors));
  }
  return absl::OkStatus();
}

void OptimizeModule(llvm::Module& module, llvm::TargetMachine& machine) {
  module.setDataLayout(machine.createDataLayout());
  module.setTargetTriple(machine.getTargetTriple().str());
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::PassBuilder builder(&machine, tuning);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager passes =
      builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  passes.run(module, mam);
}

absl::StatusOr<std::string> EmitNative(llvm::Module& module, llvm::TargetMachine& machine,
                                       NativeOutput output) {
  module.setDataLayout(machine.createDataLayout());
  module.setTargetTriple(machine.getTargetTriple().str());
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager passes;
  const auto type = output == NativeOutput::kObject ? llvm::CGFT_ObjectFile
                                                    : llvm::CGFT_AssemblyFile;
  if (machine.addPassesToEmitFile(passes, os, nullptr, type)) {
    return absl::InternalError("code generation: the target cannot emit this file type");
  }
  passes.run(module);
  return std::string(buffer.begin(), buffer.end());
}

std::string PrintLlvmIr(const llvm::Module& module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os, nullptr);
  return text;
}

}  // namespace kiln::codegen
