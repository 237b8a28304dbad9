#include "runtime/region.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kiln {
namespace {

constexpr int64_t kHugePage = int64_t{2} << 20;

int64_t RoundUp(int64_t n, int64_t to) { return (n + to - 1) / to * to; }

}  // namespace

absl::StatusOr<MappedRegion> MappedRegion::Create(int64_t bytes, bool touch) {
  if (bytes < 0) return absl::InvalidArgumentError(absl::StrCat("region of ", bytes, " bytes"));
  MappedRegion region;
  region.size_ = bytes;
  if (bytes == 0) return region;
  const int64_t page = sysconf(_SC_PAGESIZE);
  const bool huge = bytes >= kHugePage;
  const int64_t size = RoundUp(bytes, huge ? kHugePage : page);
  // For huge pages, map one extra huge page and trim both ends to a 2 MiB boundary.
  const int64_t extra = huge ? kHugePage : 0;
  void* p = mmap(nullptr, size + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
  if (p == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot map ", bytes, " bytes: ", std::strerror(errno)));
  }
  uint8_t* base = static_cast<uint8_t*>(p);
  uint8_t* start = base;
  if (huge) {
    start = reinterpret_cast<uint8_t*>(RoundUp(reinterpret_cast<intptr_t>(base), kHugePage));
    if (start > base) munmap(base, start - base);
    uint8_t* end = start + size;
    if (base + size + extra > end) munmap(end, base + size + extra - end);
    // Advice only: without transparent huge pages the region still works.
    madvise(start, size, MADV_HUGEPAGE);
  }
  region.data_ = start;
  region.mapped_ = size;
  if (touch) std::memset(start, 0, size);
  return region;
}

MappedRegion::~MappedRegion() {
  if (data_ != nullptr) munmap(data_, mapped_);
}

MappedRegion::MappedRegion(MappedRegion&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

MappedRegion& MappedRegion::operator=(MappedRegion&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) munmap(data_, mapped_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
  }
  return *this;
}

absl::Status MappedRegion::MakeReadOnly() {
  if (data_ == nullptr) return absl::OkStatus();
  if (mprotect(data_, mapped_, PROT_READ) != 0) {
    return absl::InternalError(absl::StrCat("mprotect: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace kiln
