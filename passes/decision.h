// Decision: the answer to "may I fuse / fold / rewrite this?" with the reason when not
// (XLA's FusionDecision, MLIR's notifyMatchFailure), printable under PassOptions::debug.
#ifndef KILN_PASSES_DECISION_H_
#define KILN_PASSES_DECISION_H_

#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "passes/pass.h"

namespace kiln::passes {

class Decision {
 public:
  static Decision Yes() { return Decision(true, ""); }
  static Decision No(std::string reason) { return Decision(false, std::move(reason)); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  // Why not; empty for Yes.
  const std::string& reason() const { return reason_; }

 private:
  Decision(bool ok, std::string reason) : ok_(ok), reason_(std::move(reason)) {}
  bool ok_;
  std::string reason_;
};

// Writes "PASS: SUBJECT: yes" or "PASS: SUBJECT: no: REASON" when options.debug is set.
void LogDecision(const PassOptions& options, absl::string_view pass, absl::string_view subject,
                 const Decision& decision);

}  // namespace kiln::passes

#endif  // KILN_PASSES_DECISION_H_
