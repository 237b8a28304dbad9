// KernelEnv: the environment (kernels/abi/kernel_abi.h) the runtime lends every kernel
// call of one run context. It keeps the first failure a kernel reports, with its message,
// without allocating, so a data error becomes a Status naming the node and the values.
#ifndef KILN_RUNTIME_KERNEL_ENV_H_
#define KILN_RUNTIME_KERNEL_ENV_H_

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "kernels/abi/kernel_abi.h"

namespace kiln {

class KernelEnv {
 public:
  KernelEnv();
  KernelEnv(const KernelEnv&) = delete;
  KernelEnv& operator=(const KernelEnv&) = delete;

  // The table kernels see; valid while this object lives.
  const kiln_kernel_env* env() const { return &env_; }

  // Forgets the last report (call before a run that follows a failed one).
  void Reset();

  // The Status for a kernel that returned `status` (non-zero): InvalidArgument for the
  // caller's data errors, Internal or Unimplemented for Kiln's; the message is `prefix`
  // followed by the kernel's report when it made one for this status, else the generic
  // text of the status.
  absl::Status ToStatus(int32_t status, absl::string_view prefix) const;

 private:
  static void Report(const kiln_kernel_env* env, int32_t status, const char* message);

  kiln_kernel_env env_;
  std::atomic<bool> reported_{false};
  int32_t reported_status_ = 0;
  char message_[256] = {};
};

}  // namespace kiln

#endif  // KILN_RUNTIME_KERNEL_ENV_H_
