// Byte sizes and the 64-byte alignment every planned buffer of the runtime has (the
// kernel ABI's KILN_KERNEL_BUFFER_ALIGNMENT).
#ifndef KILN_RUNTIME_ALIGNMENT_H_
#define KILN_RUNTIME_ALIGNMENT_H_

#include <cstdint>

#include "base/tensor_type.h"
#include "kernels/abi/kernel_abi.h"

namespace kiln {

inline constexpr int64_t kBufferAlignment = KILN_KERNEL_BUFFER_ALIGNMENT;

// `bytes` rounded up to a multiple of kBufferAlignment. `bytes` is at most a tensor's
// size (below 2^44), so the sum cannot overflow.
inline int64_t AlignUp(int64_t bytes) {
  return (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
}

inline bool IsAligned(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % kBufferAlignment == 0;
}

// Bytes of a tensor of `type`, whose shape must be fully known (a verified, bound graph).
inline int64_t TensorBytes(const TensorType& type) {
  return type.shape.NumElements() * DataTypeSize(type.dtype);
}

}  // namespace kiln

#endif  // KILN_RUNTIME_ALIGNMENT_H_
