#include "kernels/codegen/streaming_stores.h"

#include <utility>
#include <vector>

#include "llvm/Analysis/ValueTracking.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicsX86.h"
#include "llvm/IR/Metadata.h"
#include "llvm/TargetParser/Triple.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"

namespace kiln::codegen {
namespace {

// The store's vector size in bytes when it may become a non-temporal store, else 0: a
// plain store of a 16-, 32- or 64-byte vector to memory other than the stack.
uint64_t StreamableBytes(const llvm::StoreInst& store, const llvm::DataLayout& layout) {
  if (store.isVolatile() || store.isAtomic()) return 0;
  llvm::Type* type = store.getValueOperand()->getType();
  if (!llvm::isa<llvm::FixedVectorType>(type)) return 0;
  if (llvm::isa<llvm::AllocaInst>(llvm::getUnderlyingObject(store.getPointerOperand()))) {
    return 0;
  }
  const uint64_t bytes = layout.getTypeStoreSize(type).getFixedValue();
  return bytes == 16 || bytes == 32 || bytes == 64 ? bytes : 0;
}

void MarkNonTemporal(llvm::StoreInst& store, uint64_t bytes) {
  llvm::LLVMContext& context = store.getContext();
  llvm::Constant* one = llvm::ConstantInt::get(llvm::Type::getInt32Ty(context), 1);
  store.setAlignment(llvm::Align(bytes));
  store.setMetadata(llvm::LLVMContext::MD_nontemporal,
                    llvm::MDNode::get(context, llvm::ConstantAsMetadata::get(one)));
}

}  // namespace

int StreamVectorStores(llvm::Module& module) {
  if (!llvm::Triple(module.getTargetTriple()).isX86()) return 0;
  const llvm::DataLayout& layout = module.getDataLayout();
  int rewritten = 0;
  for (llvm::Function& function : module) {
    if (function.isDeclaration()) continue;
    std::vector<std::pair<llvm::StoreInst*, uint64_t>> stores;  // with their vector bytes
    for (llvm::Instruction& instruction : llvm::instructions(function)) {
      auto* store = llvm::dyn_cast<llvm::StoreInst>(&instruction);
      const uint64_t bytes = store != nullptr ? StreamableBytes(*store, layout) : 0;
      if (bytes > 0) stores.emplace_back(store, bytes);
    }
    if (stores.empty()) continue;
    for (auto [store, bytes] : stores) {
      if (store->getAlign().value() >= bytes) {
        MarkNonTemporal(*store, bytes);
        continue;
      }
      llvm::IRBuilder<> b(store);
      llvm::Value* address = b.CreatePtrToInt(store->getPointerOperand(), b.getInt64Ty());
      llvm::Value* aligned = b.CreateICmpEQ(b.CreateAnd(address, bytes - 1), b.getInt64(0));
      llvm::Instruction* then_end = nullptr;
      llvm::Instruction* else_end = nullptr;
      llvm::SplitBlockAndInsertIfThenElse(aligned, store, &then_end, &else_end);
      auto* streaming = llvm::cast<llvm::StoreInst>(store->clone());
      streaming->insertBefore(then_end);
      MarkNonTemporal(*streaming, bytes);
      store->moveBefore(else_end);
    }
    rewritten += static_cast<int>(stores.size());
    std::vector<llvm::ReturnInst*> returns;
    for (llvm::Instruction& instruction : llvm::instructions(function)) {
      if (auto* ret = llvm::dyn_cast<llvm::ReturnInst>(&instruction)) returns.push_back(ret);
    }
    for (llvm::ReturnInst* ret : returns) {
      llvm::IRBuilder<> b(ret);
      b.CreateIntrinsic(llvm::Intrinsic::x86_sse_sfence, {}, {});
    }
  }
  return rewritten;
}

}  // namespace kiln::codegen
