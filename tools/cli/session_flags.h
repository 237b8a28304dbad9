// The flags `kiln run` and `kiln bench` share to configure their Session: the
// optimization level (-O0, -O1, -O2), disabled passes and the kernel backend.
#ifndef KILN_TOOLS_CLI_SESSION_FLAGS_H_
#define KILN_TOOLS_CLI_SESSION_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/session.h"
#include "tools/cli/flags.h"

namespace kiln::cli {

struct SessionFlags {
  std::string level;                  // "0", "1", "2" or empty (the default, 2)
  std::string backend = "cpu";        // "cpu" or "reference"
  std::string kernels = "generated";  // with the cpu backend: "generated" or "library"
  std::string cache_dir;              // generated kernels' object cache (empty: none)
  std::vector<std::string> disabled;  // --disable NAME
};

// Removes -O0, -O1 and -O2 from `args` (FlagSet parses long flags only) into `level`.
// Error when more than one level is given.
absl::StatusOr<std::vector<std::string>> TakeOptimizationLevel(absl::Span<const std::string> args,
                                                               std::string* level);

// Declares --backend, --kernels, --cache-dir and --disable on `flags`, bound to `session`.
void AddSessionFlags(FlagSet& flags, SessionFlags* session);

// The help text of -O, --backend, --kernels, --cache-dir and --disable.
extern const char kSessionFlagsHelp[];

// SessionOptions for the flags with `threads` threads (0: one per core). Error naming an
// unknown backend or kernel source.
absl::StatusOr<SessionOptions> SessionOptionsFromFlags(const SessionFlags& flags, int threads);

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_SESSION_FLAGS_H_
