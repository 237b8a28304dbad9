// The server's Prometheus metrics: requests and errors, request latency and batch sizes
// per model and version, and the depth of each model's batching queue, written in
// Prometheus' text exposition format (version 0.0.4). Thread-safe.
#ifndef KILN_TOOLS_SERVE_METRICS_H_
#define KILN_TOOLS_SERVE_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "absl/strings/string_view.h"

namespace kiln::serve {

class Metrics {
 public:
  // One request to `model` (version as served, "" when none was found) through `api`
  // ("rest" or "grpc") that ended with HTTP-like `code` (200, 400, ...) after `seconds`.
  void CountRequest(absl::string_view model, absl::string_view version, absl::string_view api,
                    int code, double seconds);
  // One run of `rows` request rows, padded to the compiled batch size `padded`.
  void ObserveBatch(absl::string_view model, absl::string_view version, int64_t rows,
                    int64_t padded);
  // Rows waiting in a model version's batching queue, changed by `delta`.
  void AddQueueDepth(absl::string_view model, absl::string_view version, int64_t delta);

  // Every metric, in the text exposition format.
  std::string PrometheusText() const;

 private:
  static constexpr int kLatencyBuckets = 14;  // 0.25 ms .. 2 s, doubling, then +Inf
  static constexpr int kBatchBuckets = 12;    // 1 .. 1024, doubling, then +Inf
  template <int N>
  struct Histogram {
    std::array<int64_t, N + 1> counts{};  // the last: above every bound
    double sum = 0;
    int64_t count = 0;
  };
  using ModelVersion = std::tuple<std::string, std::string>;
  using Request = std::tuple<std::string, std::string, std::string, int>;

  mutable std::mutex mu_;
  std::map<Request, int64_t> requests_;                                  // guarded by mu_
  std::map<ModelVersion, Histogram<kLatencyBuckets>> latency_;           // guarded by mu_
  std::map<ModelVersion, Histogram<kBatchBuckets>> batch_rows_;          // guarded by mu_
  std::map<ModelVersion, int64_t> padded_rows_;                          // guarded by mu_
  std::map<ModelVersion, int64_t> queue_depth_;                          // guarded by mu_
};

}  // namespace kiln::serve

#endif  // KILN_TOOLS_SERVE_METRICS_H_
