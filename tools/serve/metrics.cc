#include "tools/serve/metrics.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kiln::serve {
namespace {

double LatencyBound(int i) { return 0.00025 * std::ldexp(1.0, i); }
double BatchBound(int i) { return std::ldexp(1.0, i); }

// A label value escaped as the exposition format asks (backslash, quote, newline).
std::string Escape(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string Labels(const std::string& model, const std::string& version) {
  return absl::StrCat("model=\"", Escape(model), "\",version=\"", Escape(version), "\"");
}

template <typename H>
void Observe(H& histogram, int buckets, double value, double (*bound)(int)) {
  int i = 0;
  while (i < buckets && value > bound(i)) ++i;
  ++histogram.counts[i];
  histogram.sum += value;
  ++histogram.count;
}

template <typename Map>
void WriteHistogram(std::string& out, absl::string_view name, absl::string_view help,
                    const Map& histograms, int buckets, double (*bound)(int)) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " histogram\n");
  for (const auto& [key, h] : histograms) {
    const std::string labels = Labels(std::get<0>(key), std::get<1>(key));
    int64_t cumulative = 0;
    for (int i = 0; i <= buckets; ++i) {
      cumulative += h.counts[i];
      const std::string le = i < buckets ? absl::StrFormat("%g", bound(i)) : "+Inf";
      absl::StrAppend(&out, name, "_bucket{", labels, ",le=\"", le, "\"} ", cumulative, "\n");
    }
    absl::StrAppend(&out, name, "_sum{", labels, "} ", absl::StrFormat("%.9g", h.sum), "\n");
    absl::StrAppend(&out, name, "_count{", labels, "} ", h.count, "\n");
  }
}

}  // namespace

void Metrics::CountRequest(absl::string_view model, absl::string_view version,
                           absl::string_view api, int code, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[Request(std::string(model), std::string(version), std::string(api), code)];
  Observe(latency_[ModelVersion(std::string(model), std::string(version))], kLatencyBuckets,
          seconds, LatencyBound);
}

void Metrics::ObserveBatch(absl::string_view model, absl::string_view version, int64_t rows,
                           int64_t padded) {
  std::lock_guard<std::mutex> lock(mu_);
  const ModelVersion key{std::string(model), std::string(version)};
  Observe(batch_rows_[key], kBatchBuckets, static_cast<double>(rows), BatchBound);
  padded_rows_[key] += padded - rows;
}

void Metrics::AddQueueDepth(absl::string_view model, absl::string_view version,
                            int64_t delta) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_depth_[ModelVersion(std::string(model), std::string(version))] += delta;
}

std::string Metrics::PrometheusText() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  absl::StrAppend(&out,
                  "# HELP kiln_requests_total Predict requests by model, version, "
                  "API and status code.\n# TYPE kiln_requests_total counter\n");
  for (const auto& [key, count] : requests_) {
    const auto& [model, version, api, code] = key;
    absl::StrAppend(&out, "kiln_requests_total{", Labels(model, version), ",api=\"",
                    Escape(api), "\",code=\"", code, "\"} ", count, "\n");
  }
  WriteHistogram(out, "kiln_request_latency_seconds",
                 "Time from a request's arrival to its reply.", latency_, kLatencyBuckets,
                 LatencyBound);
  WriteHistogram(out, "kiln_batch_rows", "Request rows per run of a model.", batch_rows_,
                 kBatchBuckets, BatchBound);
  absl::StrAppend(&out,
                  "# HELP kiln_batch_padding_rows_total Rows added to reach a compiled batch "
                  "size.\n# TYPE kiln_batch_padding_rows_total counter\n");
  for (const auto& [key, rows] : padded_rows_) {
    absl::StrAppend(&out, "kiln_batch_padding_rows_total{",
                    Labels(std::get<0>(key), std::get<1>(key)), "} ", rows, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP kiln_queue_rows Request rows waiting in a model's batching queue.\n"
                  "# TYPE kiln_queue_rows gauge\n");
  for (const auto& [key, rows] : queue_depth_) {
    absl::StrAppend(&out, "kiln_queue_rows{", Labels(std::get<0>(key), std::get<1>(key)),
                    "} ", rows, "\n");
  }
  return out;
}

}  // namespace kiln::serve
