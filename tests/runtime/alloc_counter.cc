#include "tests/runtime/alloc_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
    __has_feature(thread_sanitizer)
#define KILN_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define KILN_SANITIZED 1
#endif

namespace {

std::atomic<bool> g_counting{false};
std::atomic<int64_t> g_count{0};
std::atomic<bool> g_print_stacks{false};

}  // namespace

#ifdef KILN_SANITIZED
#include <sanitizer/allocator_interface.h>
#include <sanitizer/common_interface_defs.h>

#include <cstdio>

namespace {
// The sanitizer owns malloc and operator new; it reports every allocation to this hook.
// With stacks asked for, the first few counted allocations print where they come from
// (the sanitizer's unwinder and stderr writes do not allocate through malloc).
void OnAllocation(const volatile void*, std::size_t size) {
  if (!g_counting.load(std::memory_order_relaxed)) return;
  int64_t n = g_count.fetch_add(1, std::memory_order_relaxed);
  if (g_print_stacks.load(std::memory_order_relaxed) && n < 5) {
    std::fprintf(stderr, "alloc_counter: allocation of %zu bytes while counting:\n", size);
    __sanitizer_print_stack_trace();
  }
}
void OnFree(const volatile void*) {}
}  // namespace
#else
namespace {
inline void Count() {
  if (g_counting.load(std::memory_order_relaxed)) g_count.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

// glibc's own entry points, so the counting versions can forward.
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t n, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
void* __libc_memalign(std::size_t align, std::size_t size);

void* malloc(std::size_t size) {
  Count();
  return __libc_malloc(size);
}
void* calloc(std::size_t n, std::size_t size) {
  Count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t size) {
  Count();
  return __libc_realloc(p, size);
}
void* aligned_alloc(std::size_t align, std::size_t size) {
  Count();
  return __libc_memalign(align, size);
}
int posix_memalign(void** out, std::size_t align, std::size_t size) {
  Count();
  void* p = __libc_memalign(align, size);
  if (p == nullptr) return 12;  // ENOMEM
  *out = p;
  return 0;
}
}  // extern "C"
#endif

#ifndef KILN_SANITIZED
namespace {

// operator new counts once and then allocates without passing through the counting
// malloc, so one `new` is one allocation.
void* RawMalloc(std::size_t size) { return __libc_malloc(size); }

void* RawAligned(std::size_t align, std::size_t size) { return __libc_memalign(align, size); }

void* CountedNew(std::size_t size) {
  Count();
  void* p = RawMalloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* CountedAlignedNew(std::size_t size, std::align_val_t align) {
  Count();
  void* p = RawAligned(static_cast<std::size_t>(align), size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t size) { return CountedNew(size); }
void* operator new[](std::size_t size) { return CountedNew(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return CountedNew(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return CountedNew(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t size, std::align_val_t align) {
  return CountedAlignedNew(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return CountedAlignedNew(size, align);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif  // KILN_SANITIZED

namespace kiln::testing {

AllocationCounter::AllocationCounter(bool print_stacks) {
#ifdef KILN_SANITIZED
  static const bool installed = [] {
    __sanitizer_install_malloc_and_free_hooks(OnAllocation, OnFree);
    return true;
  }();
  (void)installed;
#endif
  g_count.store(0);
  g_print_stacks.store(print_stacks);
  g_counting.store(true);
}

AllocationCounter::~AllocationCounter() {
  if (active_) Stop();
}

int64_t AllocationCounter::Stop() {
  g_counting.store(false);
  active_ = false;
  return g_count.load();
}

}  // namespace kiln::testing
