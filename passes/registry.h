// The one table of passes: name (the flag), summary, description and factory. `kiln opt
// --list-passes` and docs/passes.md are generated from it (a test checks the doc).
#ifndef KILN_PASSES_REGISTRY_H_
#define KILN_PASSES_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "passes/pass.h"

namespace kiln::passes {

struct PassInfo {
  absl::string_view name;         // flag and file name: fold-constants, fold_constants.cc
  absl::string_view summary;      // one line (the pass's description())
  absl::string_view description;  // what it does, when it refuses, what it preserves
  std::unique_ptr<Pass> (*create)(const PassOptions& options);
};

// Every pass, in the order the default pipeline first runs them.
const std::vector<PassInfo>& AllPasses();
// The entry named `name`, or null.
const PassInfo* FindPass(absl::string_view name);
// Passes from a comma-separated list of names; error naming an unknown one.
absl::StatusOr<std::vector<std::unique_ptr<Pass>>> CreatePasses(absl::string_view names,
                                                                const PassOptions& options);
// docs/passes.md.
std::string PassReferenceMarkdown();

}  // namespace kiln::passes

#endif  // KILN_PASSES_REGISTRY_H_
