#include "runtime/thread_pool.h"

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace kiln {

ThreadPool::ThreadPool(int num_threads) {
  for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return started_ == static_cast<int>(workers_.size()); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

template <typename Ready>
bool ThreadPool::SpinUntil(Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(kSpinNanos);
  while (true) {
    // The clock is read once per 64 polls.
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
      _mm_pause();
#endif
    }
    if (std::chrono::steady_clock::now() >= deadline) return ready();
  }
}

int ThreadPool::DefaultThreadCount() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void ThreadPool::Work(Job& job) {
  while (true) {
    int64_t id = job.next.fetch_add(1, std::memory_order_relaxed);
    if (id >= job.count) return;
    // After a failure the remaining workgroups are skipped, not run.
    if (job.error.load(std::memory_order_relaxed) == 0) {
      int32_t code = job.fn(job.call, id, job.count);
      if (code != 0) {
        int32_t none = 0;
        job.error.compare_exchange_strong(none, code, std::memory_order_relaxed);
      }
    }
  }
}

void ThreadPool::Unlink(Job& job) {
  if (job.prev != nullptr) job.prev->after = job.after;
  if (job.after != nullptr) job.after->prev = job.prev;
  if (head_ == &job) head_ = job.after;
  if (tail_ == &job) tail_ = job.prev;
  job.prev = job.after = nullptr;
  job.queued = false;
  queued_.fetch_sub(1, std::memory_order_relaxed);
}

int32_t ThreadPool::Run(kiln_kernel_fn fn, const kiln_kernel_call* call, int64_t count) {
  if (workers_.empty() || count <= 1) {
    for (int64_t id = 0; id < count; ++id) {
      int32_t code = fn(call, id, count);
      if (code != 0) return code;
    }
    return 0;
  }
  Job job;
  job.fn = fn;
  job.call = call;
  job.count = count;
  {
    std::lock_guard<std::mutex> lock(mu_);
    job.prev = tail_;
    if (tail_ != nullptr) tail_->after = &job;
    tail_ = &job;
    if (head_ == nullptr) head_ = &job;
    job.queued = true;
    queued_.fetch_add(1, std::memory_order_release);
  }
  work_cv_.notify_all();
  Work(job);
  // Every workgroup is claimed; wait for the workers still running theirs. A worker
  // joins a job only while it is queued, so once it is unlinked no new helper comes.
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (job.queued) Unlink(job);
  }
  // The acquire pairs with the helper's release, so its writes are visible here.
  auto done = [&] { return job.helpers.load(std::memory_order_acquire) == 0; };
  if (!SpinUntil(done)) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, done);
  }
  return job.error.load(std::memory_order_relaxed);
}

void ThreadPool::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  ++started_;
  done_cv_.notify_all();
  while (true) {
    if (!stop_ && head_ == nullptr) {
      // Poll for the next job before blocking (a stop is noticed at the wait below).
      lock.unlock();
      SpinUntil([&] { return queued_.load(std::memory_order_acquire) > 0; });
      lock.lock();
    }
    work_cv_.wait(lock, [&] { return stop_ || head_ != nullptr; });
    if (stop_) return;
    Job* job = head_;
    job->helpers.fetch_add(1, std::memory_order_relaxed);
    lock.unlock();
    Work(*job);
    lock.lock();
    // Work returned, so no workgroup of the job is left to claim: take it off the queue
    // so idle workers move on to the next one.
    if (job->queued) Unlink(*job);
    // The caller may destroy the job as soon as it sees no helpers; touch it no more.
    if (job->helpers.fetch_sub(1, std::memory_order_acq_rel) == 1) done_cv_.notify_all();
  }
}

}  // namespace kiln
