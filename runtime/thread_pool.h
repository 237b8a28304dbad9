// A fixed pool of threads that runs the workgroups of one kernel call in parallel, with
// the calling thread taking part. Threads are created once; a dispatch allocates nothing.
// Between calls, idle workers (and a caller waiting for its helpers) spin for a short
// while before they block: a graph's steps follow each other within microseconds, and a
// worker woken through the kernel for every step joins late (as ONNX Runtime's and
// OpenMP's pools, which spin by default).
#ifndef KILN_RUNTIME_THREAD_POOL_H_
#define KILN_RUNTIME_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/abi/kernel_abi.h"

namespace kiln {

class ThreadPool {
 public:
  // A pool of `num_threads` threads in all: the caller of Run plus num_threads - 1
  // workers, started here; returns once every worker is running (so whatever a thread
  // does when it starts happens now, not during a later Run). Values below 1 count as 1
  // (no workers).
  explicit ThreadPool(int num_threads);
  // Joins the workers; no Run may be in progress.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(call, id, count) once for every id in [0, count), spread over the workers
  // and the calling thread, and returns when all have finished. Returns 0, or the first
  // non-zero code a workgroup returned (workgroups not yet started are then skipped).
  // Thread-safe: concurrent calls share the workers (each call is queued and the idle
  // workers help the oldest first), and the caller always makes progress on its own
  // call, so a busy pool only slows a call down. Allocates nothing.
  int32_t Run(kiln_kernel_fn fn, const kiln_kernel_call* call, int64_t count);

  // The number of hardware threads (at least 1).
  static int DefaultThreadCount();

 private:
  // One Run in progress; lives on its caller's stack, linked into the queue.
  struct Job {
    kiln_kernel_fn fn;
    const kiln_kernel_call* call;
    int64_t count;
    std::atomic<int64_t> next{0};      // next workgroup id to claim
    std::atomic<int32_t> error{0};
    // Workers inside Work(); changed under mu_, read by the spinning caller without it.
    std::atomic<int> helpers{0};
    bool queued = false;  // guarded by mu_
    Job* prev = nullptr;  // queue links; guarded by mu_
    Job* after = nullptr;
  };

  // Claims and runs workgroups of `job` until none are left.
  static void Work(Job& job);
  void Unlink(Job& job);  // requires mu_
  void WorkerLoop();

  // How long an idle thread polls before it blocks.
  static constexpr int64_t kSpinNanos = 200 * 1000;
  // Polls `ready` until it returns true or kSpinNanos pass; returns its last answer.
  template <typename Ready>
  static bool SpinUntil(Ready ready);

  std::mutex mu_;
  std::atomic<int> queued_{0};  // jobs in the queue; changed under mu_, polled without
  std::condition_variable work_cv_;  // workers wait for jobs
  std::condition_variable done_cv_;  // callers wait for their helpers
  Job* head_ = nullptr;              // oldest queued job
  Job* tail_ = nullptr;
  bool stop_ = false;
  int started_ = 0;  // workers that reached their loop
  std::vector<std::thread> workers_;
};

}  // namespace kiln

#endif  // KILN_RUNTIME_THREAD_POOL_H_
