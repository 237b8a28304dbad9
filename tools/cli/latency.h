// Latency figures of a benchmark's timed runs, shared by `kiln bench` on graphs and on
// artifacts.
#ifndef KILN_TOOLS_CLI_LATENCY_H_
#define KILN_TOOLS_CLI_LATENCY_H_

#include <algorithm>
#include <vector>

namespace kiln::cli {

struct LatencySummary {
  double min = 0;
  double median = 0;  // of an even count, the mean of the middle two
  double p90 = 0;     // the smallest time at or above 90% of the runs
  double max = 0;
};

// `ms` must not be empty.
inline LatencySummary SummarizeLatencies(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  const size_t n = ms.size();
  LatencySummary s;
  s.min = ms.front();
  s.max = ms.back();
  s.median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
  s.p90 = ms[std::min(n - 1, (n * 9 + 9) / 10 - 1)];
  return s;
}

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_LATENCY_H_
