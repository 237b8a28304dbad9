// Session configuration from the command line.
#include "tools/cli/session_flags.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "runtime/default_provider.h"
#include "runtime/reference_kernel_provider.h"

namespace kiln::cli {

const char kSessionFlagsHelp[] = R"help(Compilation:
  -O0, -O1, -O2          graph optimization before planning: none,
                         canonicalization only, or the default pipeline
                         (default -O2; fused clusters without a fused kernel run
                         as their ops)
  --disable NAME         skip pass NAME (may be repeated)
  --backend cpu|reference
                         the CPU kernels (default) or the reference
                         interpreter's kernels (the numerical oracle; slow)
  --kernels generated|library
                         with the cpu backend: fused loops compiled through
                         MLIR for this CPU plus the hand-written library for
                         the rest (generated, the default), or the library
                         alone (fused loops run as their ops)
  --cache-dir DIR        keep generated kernels' object code in DIR, so the
                         next process compiles only what is new
)help";

absl::StatusOr<std::vector<std::string>> TakeOptimizationLevel(absl::Span<const std::string> args,
                                                               std::string* level) {
  std::vector<std::string> rest;
  for (const std::string& arg : args) {
    if (arg == "--") {
      // Everything after "--" is positional.
      rest.insert(rest.end(), &arg, args.data() + args.size());
      break;
    }
    if (arg == "-O0" || arg == "-O1" || arg == "-O2") {
      if (!level->empty()) return absl::InvalidArgumentError("only one -O level may be given");
      *level = arg.substr(2);
    } else {
      rest.push_back(arg);
    }
  }
  return rest;
}

void AddSessionFlags(FlagSet& flags, SessionFlags* session) {
  flags.AddString("backend", &session->backend);
  flags.AddString("kernels", &session->kernels);
  flags.AddString("cache-dir", &session->cache_dir);
  flags.AddStringList("disable", &session->disabled);
}

absl::StatusOr<SessionOptions> SessionOptionsFromFlags(const SessionFlags& flags, int threads) {
  SessionOptions options;
  options.num_threads = threads;
  options.compile.optimization_level = flags.level.empty() ? 2 : flags.level[0] - '0';
  options.compile.disabled_passes = flags.disabled;
  if (flags.kernels != "generated" && flags.kernels != "library") {
    return absl::InvalidArgumentError(
        absl::StrCat("--kernels '", flags.kernels, "' is not generated or library"));
  }
  if (!flags.cache_dir.empty() && (flags.backend == "reference" || flags.kernels == "library")) {
    return absl::InvalidArgumentError("--cache-dir applies to generated kernels only");
  }
  if (flags.backend == "reference") {
    options.kernel_provider = std::make_shared<ReferenceKernelProvider>();
  } else if (flags.backend != "cpu") {
    return absl::InvalidArgumentError(
        absl::StrCat("--backend '", flags.backend, "' is not cpu or reference"));
  } else if (flags.kernels == "library") {
    options.kernel_provider = LibraryKernelProvider();
  } else if (!flags.cache_dir.empty()) {
    // A provider rather than SessionOptions::kernel_cache_dir: `kiln compile` passes it
    // to Compile, which takes no cache directory of its own.
    options.kernel_provider = GeneratedKernelProviderWithCache(flags.cache_dir);
  }
  return options;
}

}  // namespace kiln::cli
