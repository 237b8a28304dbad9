// Page-backed memory for arenas, staging buffers and the weights region: mapped once,
// advised to use transparent huge pages, and touched when made, so no run pays for the
// first touch of fresh pages (very slow with 4 KiB pages on these VMs).
#ifndef KILN_RUNTIME_REGION_H_
#define KILN_RUNTIME_REGION_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace kiln {

// Owns one anonymous mapping. Movable, not copyable. The data is 64-byte aligned (2 MiB
// aligned when the region is at least 2 MiB, so it can be backed by huge pages).
class MappedRegion {
 public:
  MappedRegion() = default;
  // Maps at least `bytes` zeroed bytes; with `touch`, writes every page now. An empty
  // region (bytes == 0) maps nothing and has a null data(). Error: ResourceExhausted
  // when the mapping fails, InvalidArgument for a negative size.
  static absl::StatusOr<MappedRegion> Create(int64_t bytes, bool touch = true);
  ~MappedRegion();
  MappedRegion(MappedRegion&& other) noexcept;
  MappedRegion& operator=(MappedRegion&& other) noexcept;
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;

  uint8_t* data() const { return data_; }
  int64_t size() const { return size_; }  // the bytes asked for

  // Makes the region read-only; a later write faults.
  absl::Status MakeReadOnly();

 private:
  uint8_t* data_ = nullptr;
  int64_t size_ = 0;
  int64_t mapped_ = 0;  // bytes of the mapping, a multiple of the page size
};

}  // namespace kiln

#endif  // KILN_RUNTIME_REGION_H_
