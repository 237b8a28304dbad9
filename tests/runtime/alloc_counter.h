// Counts heap allocations of the whole process while a counter is active: linking this
// library replaces the global operator new (every form) and, outside sanitizer builds,
// malloc/calloc/realloc, with versions that count and forward.
#ifndef KILN_TESTS_RUNTIME_ALLOC_COUNTER_H_
#define KILN_TESTS_RUNTIME_ALLOC_COUNTER_H_

#include <cstdint>

namespace kiln::testing {

// Counts allocations made on any thread between construction and Stop() (or
// destruction). One counter at a time.
class AllocationCounter {
 public:
  AllocationCounter();
  ~AllocationCounter();
  // Stops counting and returns the allocations seen.
  int64_t Stop();

 private:
  bool active_ = true;
};

// True when malloc itself is counted (false under ASan, whose malloc is not replaced:
// then only operator new is).
bool CountsMalloc();

}  // namespace kiln::testing

#endif  // KILN_TESTS_RUNTIME_ALLOC_COUNTER_H_
