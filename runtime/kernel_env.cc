#include "runtime/kernel_env.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace kiln {

KernelEnv::KernelEnv() {
  env_.abi_version = KILN_KERNEL_ABI_VERSION;
  env_.report = &KernelEnv::Report;
  env_.imports = nullptr;
  env_.num_imports = 0;
  env_.runtime = this;
}

void KernelEnv::Reset() { reported_.store(false, std::memory_order_relaxed); }

void KernelEnv::Report(const kiln_kernel_env* env, int32_t status, const char* message) {
  auto* self = static_cast<KernelEnv*>(env->runtime);
  // Workgroups of one step may fail at once: the first report is kept whole.
  bool expected = false;
  if (!self->reported_.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) return;
  self->reported_status_ = status;
  std::strncpy(self->message_, message != nullptr ? message : "", sizeof(self->message_) - 1);
  self->message_[sizeof(self->message_) - 1] = '\0';
}

absl::Status KernelEnv::ToStatus(int32_t status, absl::string_view prefix) const {
  const bool detailed = reported_.load(std::memory_order_acquire) &&
                        reported_status_ == status && message_[0] != '\0';
  std::string message =
      absl::StrCat(prefix, detailed ? message_ : kiln_kernel_status_message(status));
  if (kiln_kernel_status_is_data_error(status)) return absl::InvalidArgumentError(message);
  if (status == KILN_KERNEL_UNIMPLEMENTED) return absl::UnimplementedError(message);
  if (status >= KILN_KERNEL_STATUS_COUNT || status < 0) {
    return absl::InternalError(absl::StrCat(message, " (status ", status, ")"));
  }
  return absl::InternalError(message);
}

}  // namespace kiln
