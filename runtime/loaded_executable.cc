#include "runtime/loaded_executable.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace kiln {

absl::StatusOr<std::unique_ptr<LoadedExecutable>> LoadedExecutable::Load(
    Executable executable, ThreadPool* pool, absl::Span<const KernelLibrary* const> libraries) {
  RETURN_IF_ERROR(ResolveKernels(executable, libraries));
  std::unique_ptr<LoadedExecutable> loaded(new LoadedExecutable());
  loaded->executable_ = std::make_shared<const Executable>(std::move(executable));
  ASSIGN_OR_RETURN(loaded->executor_, Executor::Create(loaded->plan(),
                                                       loaded->executable_->weights.get(), pool));
  ASSIGN_OR_RETURN(ExecutionContext * context, loaded->Acquire());
  loaded->Release(context);
  return loaded;
}

std::shared_ptr<const Plan> LoadedExecutable::plan() const {
  return std::shared_ptr<const Plan>(executable_, &executable_->plan);
}

absl::StatusOr<ExecutionContext*> LoadedExecutable::Acquire() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      ExecutionContext* context = idle_.back();
      idle_.pop_back();
      return context;
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<ExecutionContext> context, executor_->NewContext());
  std::lock_guard<std::mutex> lock(mu_);
  if (profiling_) context->EnableProfiling();
  contexts_.push_back(std::move(context));
  idle_.reserve(contexts_.size());  // so Release never allocates
  return contexts_.back().get();
}

void LoadedExecutable::Release(ExecutionContext* context) const {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(context);
}

void LoadedExecutable::EnableProfiling() const {
  std::lock_guard<std::mutex> lock(mu_);
  profiling_ = true;
  for (const std::unique_ptr<ExecutionContext>& context : contexts_) context->EnableProfiling();
}

LoadedExecutable::StepProfile LoadedExecutable::Profile() const {
  StepProfile profile;
  profile.step_nanos.assign(executable_->plan.steps.size(), 0);
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::unique_ptr<ExecutionContext>& context : contexts_) {
    if (!context->profiling()) continue;
    for (size_t s = 0; s < profile.step_nanos.size(); ++s) {
      profile.step_nanos[s] += context->step_nanos()[s];
    }
    profile.runs += context->profiled_runs();
  }
  return profile;
}

absl::Status LoadedExecutable::Run(absl::Span<const void* const> inputs,
                                   absl::Span<void* const> outputs) const {
  ASSIGN_OR_RETURN(ExecutionContext * context, Acquire());
  absl::Status status = executor_->Run(*context, inputs, outputs);
  Release(context);
  return status;
}

absl::StatusOr<std::vector<Tensor>> LoadedExecutable::Run(absl::Span<const Tensor> inputs) const {
  const Executable& exe = *executable_;
  if (inputs.size() != exe.inputs.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(inputs.size(), " inputs given, the executable takes ", exe.inputs.size()));
  }
  std::vector<const void*> input_data;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSignature& want = exe.inputs[i];
    const Tensor& tensor = inputs[i];
    if (!tensor.valid() || tensor.dtype() != want.type.dtype || tensor.shape() != want.type.shape) {
      return absl::InvalidArgumentError(absl::StrCat("input '", want.name, "' is ",
                                                     tensor.TypeString(), ", expected ",
                                                     want.type.ToString()));
    }
    if (tensor.raw_data() == nullptr && tensor.ByteSize() > 0) {
      return absl::InvalidArgumentError(absl::StrCat("input '", want.name, "' has no data"));
    }
    input_data.push_back(tensor.raw_data());
  }
  std::vector<Tensor> outputs;
  std::vector<void*> output_data;
  for (const TensorSignature& out : exe.outputs) {
    ASSIGN_OR_RETURN(Tensor tensor, Tensor::Allocate(out.type.dtype, out.type.shape));
    output_data.push_back(tensor.raw_data());
    outputs.push_back(std::move(tensor));
  }
  RETURN_IF_ERROR(Run(input_data, output_data));
  return outputs;
}

}  // namespace kiln
