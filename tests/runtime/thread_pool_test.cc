// The thread pool: every workgroup runs exactly once, on several threads, for one caller
// or many at once; the first failure code comes back.
#include "runtime/thread_pool.h"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace kiln {
namespace {

// Counts calls per workgroup id and records which threads ran them.
struct Tally {
  std::vector<std::atomic<int>> calls;
  std::mutex mu;
  std::set<std::thread::id> threads;
  explicit Tally(int64_t n) : calls(n) {}
};

int32_t Count(const kiln_kernel_call* call, int64_t id, int64_t count) {
  auto* tally = static_cast<Tally*>(const_cast<void*>(call->params));
  if (count != static_cast<int64_t>(tally->calls.size())) return 3;
  tally->calls[id].fetch_add(1);
  {
    std::lock_guard<std::mutex> lock(tally->mu);
    tally->threads.insert(std::this_thread::get_id());
  }
  // Long enough for the workers to wake and take a share.
  std::this_thread::sleep_for(std::chrono::microseconds(200));
  return 0;
}

kiln_kernel_call CallFor(Tally& tally) {
  kiln_kernel_call call{};
  call.params = &tally;
  return call;
}

TEST(ThreadPoolTest, RunsEveryWorkgroupOnceAcrossThreads) {
  ThreadPool pool(4);
  EXPECT_EQ(pool.num_threads(), 4);
  Tally tally(64);
  kiln_kernel_call call = CallFor(tally);
  EXPECT_EQ(pool.Run(Count, &call, 64), 0);
  for (const auto& c : tally.calls) EXPECT_EQ(c.load(), 1);
  // The caller takes part, and with 64 sleeping workgroups the workers do too.
  EXPECT_TRUE(tally.threads.count(std::this_thread::get_id()));
  EXPECT_GT(tally.threads.size(), 1u);
}

TEST(ThreadPoolTest, OneThreadRunsInlineInOrder) {
  ThreadPool pool(1);
  EXPECT_EQ(pool.num_threads(), 1);
  Tally tally(5);
  kiln_kernel_call call = CallFor(tally);
  EXPECT_EQ(pool.Run(Count, &call, 5), 0);
  for (const auto& c : tally.calls) EXPECT_EQ(c.load(), 1);
  EXPECT_EQ(tally.threads.size(), 1u);
  EXPECT_EQ(ThreadPool(0).num_threads(), 1);
  EXPECT_EQ(pool.Run(Count, &call, 0), 0);  // nothing to run
}

TEST(ThreadPoolTest, ConcurrentCallersShareThePool) {
  ThreadPool pool(3);
  constexpr int kCallers = 6;
  std::vector<std::unique_ptr<Tally>> tallies;
  for (int i = 0; i < kCallers; ++i) tallies.push_back(std::make_unique<Tally>(16 + i));
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      kiln_kernel_call call = CallFor(*tallies[i]);
      for (int round = 0; round < 5; ++round) {
        if (pool.Run(Count, &call, 16 + i) != 0) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (const auto& tally : tallies) {
    for (const auto& c : tally->calls) EXPECT_EQ(c.load(), 5);
  }
}

int32_t FailOnSeven(const kiln_kernel_call* call, int64_t id, int64_t) {
  static_cast<std::atomic<int>*>(const_cast<void*>(call->params))->fetch_add(1);
  return id == 7 ? 42 : 0;
}

TEST(ThreadPoolTest, ReturnsTheFailureCode) {
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    std::atomic<int> calls{0};
    kiln_kernel_call call{};
    call.params = &calls;
    EXPECT_EQ(pool.Run(FailOnSeven, &call, 100), 42) << threads << " threads";
    EXPECT_GE(calls.load(), 8);
    EXPECT_LE(calls.load(), 100);
    // The pool is still usable.
    std::atomic<int> more{0};
    kiln_kernel_call ok{};
    ok.params = &more;
    EXPECT_EQ(pool.Run(FailOnSeven, &ok, 5), 0);
    EXPECT_EQ(more.load(), 5);
  }
}

}  // namespace
}  // namespace kiln
