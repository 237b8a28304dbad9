#include "tools/cli/step_profile.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"

namespace kiln::cli {
namespace {

// Milliseconds per run.
double PerRunMs(int64_t nanos, int64_t runs) {
  return runs > 0 ? static_cast<double>(nanos) / 1e6 / static_cast<double>(runs) : 0.0;
}

}  // namespace

std::vector<StepTime> ProfileSince(std::vector<StepTime> now,
                                   const std::vector<StepTime>& before) {
  for (StepTime& step : now) {
    for (const StepTime& earlier : before) {
      if (earlier.node == step.node && earlier.kernel == step.kernel &&
          earlier.output == step.output) {
        step.nanos -= earlier.nanos;
        step.runs -= earlier.runs;
        break;
      }
    }
  }
  return now;
}

void PrintStepProfile(const std::vector<StepTime>& steps, int top, std::ostream& out) {
  int64_t total = 0;
  int64_t runs = 0;
  struct OpTotal {
    std::string op;
    int64_t nanos = 0;
    int64_t runs = 0;
    int count = 0;
  };
  std::vector<OpTotal> ops;
  absl::flat_hash_map<std::string, size_t> op_index;
  for (const StepTime& step : steps) {
    total += step.nanos;
    runs = std::max(runs, step.runs);
    auto [it, inserted] = op_index.try_emplace(step.op, ops.size());
    if (inserted) ops.push_back({step.op});
    OpTotal& entry = ops[it->second];
    entry.nanos += step.nanos;
    entry.runs = std::max(entry.runs, step.runs);
    ++entry.count;
  }
  auto share = [total](int64_t nanos) {
    return total > 0 ? 100.0 * static_cast<double>(nanos) / static_cast<double>(total) : 0.0;
  };
  std::stable_sort(ops.begin(), ops.end(),
                   [](const OpTotal& a, const OpTotal& b) { return a.nanos > b.nanos; });
  out << absl::StrFormat("profile: %d steps, %.3f ms per run in steps (%d profiled runs)\n",
                         steps.size(), PerRunMs(total, runs), runs);
  out << "profile by op:      ms/run       %  steps  op\n";
  for (const OpTotal& op : ops) {
    out << absl::StrFormat("profile by op: %11.3f  %5.1f%%  %5d  %s\n", PerRunMs(op.nanos, op.runs),
                           share(op.nanos), op.count, op.op);
  }
  std::vector<const StepTime*> slowest;
  for (const StepTime& step : steps) slowest.push_back(&step);
  std::stable_sort(slowest.begin(), slowest.end(),
                   [](const StepTime* a, const StepTime* b) { return a->nanos > b->nanos; });
  if (static_cast<int>(slowest.size()) > top) slowest.resize(top);
  out << "profile step:      ms/run       %  wgs  node (op) kernel -> output\n";
  for (const StepTime* step : slowest) {
    out << absl::StrFormat("profile step: %11.3f  %5.1f%%  %3d  %s (%s) %s -> %s\n",
                           PerRunMs(step->nanos, step->runs), share(step->nanos),
                           step->workgroups, step->node, step->op, step->kernel, step->output);
  }
}

}  // namespace kiln::cli
