// Counts heap allocations of the whole process while a counter is active. Linking this
// library replaces the global operator new (every form) and malloc, calloc, realloc,
// aligned_alloc and posix_memalign with versions that count and forward to glibc; under
// a sanitizer, which owns the allocator, it counts through the sanitizer's allocation
// hook instead.
#ifndef KILN_TESTS_RUNTIME_ALLOC_COUNTER_H_
#define KILN_TESTS_RUNTIME_ALLOC_COUNTER_H_

#include <cstdint>

namespace kiln::testing {

// Counts allocations made on any thread between construction and Stop() (or
// destruction). One counter at a time.
class AllocationCounter {
 public:
  // With `print_stacks`, sanitizer builds print the stack of the first 5 allocations
  // counted, to stderr (other builds ignore it).
  explicit AllocationCounter(bool print_stacks = false);
  ~AllocationCounter();
  // Stops counting and returns the allocations seen.
  int64_t Stop();

 private:
  bool active_ = true;
};

}  // namespace kiln::testing

#endif  // KILN_TESTS_RUNTIME_ALLOC_COUNTER_H_
