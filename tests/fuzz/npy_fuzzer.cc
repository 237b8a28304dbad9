// libFuzzer entry point: ParseNpy on arbitrary bytes must return a tensor or an error,
// never crash, leak or read out of bounds. Build with --config=fuzz.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "tools/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<kiln::Tensor> tensor = kiln::ParseNpy(bytes);
  if (tensor.ok()) {
    // Whatever parses must serialize and parse back to the same bytes.
    absl::StatusOr<std::string> again = kiln::SerializeNpy(*tensor);
    if (!again.ok()) __builtin_trap();
    absl::StatusOr<kiln::Tensor> back = kiln::ParseNpy(*again);
    if (!back.ok() || back->dtype() != tensor->dtype() || back->shape() != tensor->shape() ||
        back->bytes() != tensor->bytes()) {
      __builtin_trap();
    }
  }
  return 0;
}
