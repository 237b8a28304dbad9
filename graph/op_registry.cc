#include "graph/op_registry.h"

#include "absl/strings/str_cat.h"
#include "graph/ops/register_ops.h"

namespace kiln {

const AttrSpec* OpDef::FindAttr(absl::string_view attr) const {
  for (const AttrSpec& spec : attrs) {
    if (spec.name == attr) return &spec;
  }
  return nullptr;
}

const OpRegistry& OpRegistry::Global() {
  static const OpRegistry* registry = [] {
    auto* r = new OpRegistry;
    RegisterAllOps(*r);
    return r;
  }();
  return *registry;
}

absl::Status OpRegistry::Register(OpDef def) {
  if (def.name.empty() || (!def.structural && (!def.infer || !def.reference))) {
    return absl::InvalidArgumentError(
        absl::StrCat("op '", def.name, "' needs a name, a shape function and a reference kernel"));
  }
  if (ops_.count(def.name)) {
    return absl::AlreadyExistsError(absl::StrCat("op '", def.name, "' is already registered"));
  }
  std::string name = def.name;
  ops_[name] = std::make_unique<OpDef>(std::move(def));
  return absl::OkStatus();
}

const OpDef* OpRegistry::Find(absl::string_view name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : it->second.get();
}

std::vector<const OpDef*> OpRegistry::ops() const {
  std::vector<const OpDef*> all;
  for (const auto& [name, def] : ops_) all.push_back(def.get());
  return all;
}

const std::vector<DataType>& FloatTypes() {
  static const auto* types = new std::vector<DataType>{DataType::kF16, DataType::kBF16,
                                                       DataType::kF32, DataType::kF64};
  return *types;
}

const std::vector<DataType>& NumericTypes() {
  static const auto* types = new std::vector<DataType>{
      DataType::kF16, DataType::kBF16, DataType::kF32, DataType::kF64,
      DataType::kI8,  DataType::kU8,   DataType::kI32, DataType::kI64};
  return *types;
}

const std::vector<DataType>& AllTypes() {
  static const auto* types = new std::vector<DataType>{
      DataType::kF16, DataType::kBF16, DataType::kF32, DataType::kF64, DataType::kI8,
      DataType::kU8,  DataType::kI32,  DataType::kI64, DataType::kBool};
  return *types;
}

}  // namespace kiln
