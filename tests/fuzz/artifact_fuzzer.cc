// libFuzzer entry point: an artifact from arbitrary bytes must load (Artifact::FromBytes,
// then every Executable verified and its kernels resolved) or give an error, never crash
// or hang. The first byte decides whether checksums are checked: without them mutations
// reach the manifest and the Executables behind it; with them, the header and sections.
// Kernels are not run: an Executable is code, trusted once verified. Generated code is
// loaded (dlopen) only from inputs whose checksums were verified, so mutated bytes never
// reach the dynamic loader; those inputs are the seeds' code unchanged. Build with
// --config=fuzz.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"
#include "runtime/artifact.h"
#include "runtime/loaded_artifact.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1 << 20)) return 0;
  kiln::Artifact::Options options;
  options.verify_checksums = (data[0] & 1) != 0;
  options.load_code = options.verify_checksums;
  absl::StatusOr<std::shared_ptr<const kiln::Artifact>> artifact = kiln::Artifact::FromBytes(
      absl::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), "fuzz.kiln",
      options);
  if (!artifact.ok()) {
    if (artifact.status().message().find("artifact 'fuzz.kiln': ") != 0) __builtin_trap();
    return 0;
  }
  absl::StatusOr<std::unique_ptr<kiln::LoadedArtifact>> loaded =
      kiln::LoadedArtifact::Load(*std::move(artifact), nullptr);
  (void)loaded;
  return 0;
}
