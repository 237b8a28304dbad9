#include "runtime/executable.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "kernels/cpu/cpu_kernel_library.h"

namespace kiln {
namespace {

absl::Status Invalid(absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat("executable: ", what));
}

absl::Status CheckSignature(const std::vector<TensorSignature>& side, absl::string_view what,
                            absl::Span<const TensorType> expected) {
  if (side.size() != expected.size()) {
    return Invalid(absl::StrCat(side.size(), " ", what, "s in the signature, ", expected.size(),
                                " in the plan"));
  }
  absl::flat_hash_set<std::string> names;
  for (size_t i = 0; i < side.size(); ++i) {
    const TensorSignature& t = side[i];
    if (t.name.empty()) return Invalid(absl::StrCat(what, " ", i, " has no name"));
    if (!names.insert(t.name).second) {
      return Invalid(absl::StrCat(what, " '", t.name, "' appears twice"));
    }
    if (!(t.type == expected[i])) {
      return Invalid(absl::StrCat(what, " '", t.name, "' is ", t.type.ToString(),
                                  " in the signature, ", expected[i].ToString(), " in the plan"));
    }
  }
  return absl::OkStatus();
}

// The library kernel step `s` names, checked against its parameter block.
absl::StatusOr<const KernelSymbol*> FindStepKernel(
    const Plan& plan, int s, absl::Span<const KernelLibrary* const> libraries,
    uint32_t host_features) {
  const PlanStep& step = plan.steps[s];
  auto error = [&](absl::string_view what) {
    return Invalid(absl::StrCat("step ", s, " (node '", step.node_name, "', ", step.op,
                                "): ", what));
  };
  for (const KernelLibrary* library : libraries) {
    if (const KernelSymbol* symbol = library->Find(step.kernel)) {
      absl::Status status =
          CheckKernelCall(*symbol, step.params_version, step.params_size, host_features);
      if (!status.ok()) return error(status.message());
      return symbol;
    }
  }
  std::string linked;
  for (const KernelLibrary* library : libraries) {
    absl::StrAppend(&linked, linked.empty() ? "" : ", ", library->name());
  }
  return error(absl::StrCat("kernel '", step.kernel, "' is in no linked kernel library (",
                            linked.empty() ? "none" : linked, ")"));
}

}  // namespace

absl::Span<const KernelLibrary* const> LinkedKernelLibraries() {
  static const KernelLibrary* const libraries[] = {&CpuKernelLibrary()};
  return libraries;
}

absl::Status VerifyExecutable(const Executable& executable,
                              absl::Span<const KernelLibrary* const> libraries) {
  if (executable.abi_version != KILN_KERNEL_ABI_VERSION) {
    return Invalid(absl::StrCat("made for kernel ABI version ", executable.abi_version,
                                "; this runtime has version ", KILN_KERNEL_ABI_VERSION));
  }
  const Plan& plan = executable.plan;
  absl::Status status = VerifyPlan(plan);
  if (!status.ok()) return Invalid(status.message());
  RETURN_IF_ERROR(CheckSignature(executable.inputs, "input", plan.input_types));
  std::vector<TensorType> fetch_types;
  for (int v : plan.fetches) fetch_types.push_back(plan.value(v).type);
  RETURN_IF_ERROR(CheckSignature(executable.outputs, "output", fetch_types));
  if (plan.memory.weights_bytes > 0 && executable.weights == nullptr) {
    return Invalid(absl::StrCat("the plan reads ", plan.memory.weights_bytes,
                                " bytes of weights, and the executable has none"));
  }
  const uint32_t host = HostCpuFeatures();
  for (int s = 0; s < static_cast<int>(plan.steps.size()); ++s) {
    if (plan.steps[s].dispatch.fn != nullptr) continue;  // prepared in this process
    RETURN_IF_ERROR(FindStepKernel(plan, s, libraries, host).status());
  }
  return absl::OkStatus();
}

absl::Status ResolveKernels(Executable& executable,
                            absl::Span<const KernelLibrary* const> libraries) {
  RETURN_IF_ERROR(VerifyExecutable(executable, libraries));
  Plan& plan = executable.plan;
  const uint32_t host = HostCpuFeatures();
  for (int s = 0; s < static_cast<int>(plan.steps.size()); ++s) {
    if (plan.steps[s].dispatch.fn != nullptr) continue;
    ASSIGN_OR_RETURN(const KernelSymbol* symbol, FindStepKernel(plan, s, libraries, host));
    plan.steps[s].dispatch.fn = symbol->fn;
  }
  return absl::OkStatus();
}

}  // namespace kiln
