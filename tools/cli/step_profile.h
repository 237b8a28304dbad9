// The step profile `kiln bench --profile` prints: where a Run's time goes, per op and per
// step of the compiled plan (Session::Profile), like ONNX Runtime's per-node profile.
#ifndef KILN_TOOLS_CLI_STEP_PROFILE_H_
#define KILN_TOOLS_CLI_STEP_PROFILE_H_

#include <ostream>
#include <vector>

#include "runtime/session.h"

namespace kiln::cli {

// The profile of the runs between `before` and `now` (two Session::Profile() results of
// one Session): each step's time and runs less those it had before; steps of a plan
// compiled in between count whole.
std::vector<StepTime> ProfileSince(std::vector<StepTime> now,
                                   const std::vector<StepTime>& before);

// Writes the time per Run of each op (summed over its steps) and of the `top` slowest
// steps, each with its share of the profiled steps' total, slowest first.
void PrintStepProfile(const std::vector<StepTime>& steps, int top, std::ostream& out);

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_STEP_PROFILE_H_
