// Debug printing of rewrite decisions.
#include "passes/decision.h"

#include <iostream>

namespace kiln::passes {

void LogDecision(const PassOptions& options, absl::string_view pass, absl::string_view subject,
                 const Decision& decision) {
  if (!options.debug) return;
  std::ostream& out = options.debug_stream != nullptr ? *options.debug_stream : std::cerr;
  out << pass << ": " << subject << ": ";
  if (decision.ok()) {
    out << "yes\n";
  } else {
    out << "no: " << decision.reason() << "\n";
  }
}

}  // namespace kiln::passes
