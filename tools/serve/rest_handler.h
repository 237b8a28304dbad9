// TF Serving's REST API over the model manager, independent of the HTTP transport:
//   POST /v1/models/NAME[/versions/V]:predict     (instances / inputs JSON)
//   GET  /v1/models/NAME[/versions/V]             (model_version_status)
//   GET  /v1/models/NAME[/versions/V]/metadata    (the signature_def)
// and the server's own: GET /healthz, /readyz, /monitoring/prometheus/metrics (/metrics).
// Errors are {"error": "..."} with TF Serving's status codes.
#ifndef KILN_TOOLS_SERVE_REST_HANDLER_H_
#define KILN_TOOLS_SERVE_REST_HANDLER_H_

#include <atomic>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tools/serve/metrics.h"
#include "tools/serve/model_manager.h"

namespace kiln::serve {

struct HttpReply {
  int code = 200;
  std::string body;
  std::string content_type = "application/json";
};

// TF Serving's HTTP status for a Status code (INVALID_ARGUMENT -> 400, NOT_FOUND -> 404,
// RESOURCE_EXHAUSTED -> 429, UNAVAILABLE -> 503, ...).
int HttpStatusFor(absl::StatusCode code);

class RestHandler {
 public:
  // `models` and `metrics` must outlive the handler.
  RestHandler(const ModelManager* models, Metrics* metrics);

  // Handles one request. `reply` is called exactly once, on this thread or on a model's
  // batching thread; it must not block. Thread-safe.
  void Handle(absl::string_view method, absl::string_view path, std::string body,
              std::function<void(HttpReply)> reply) const;

  // While draining (SIGTERM), /readyz answers 503 so load balancers stop sending.
  void SetDraining() { draining_ = true; }

 private:
  void Predict(absl::string_view name, std::optional<int64_t> version, std::string body,
               std::function<void(HttpReply)> reply) const;

  const ModelManager* models_;
  Metrics* metrics_;
  std::atomic<bool> draining_{false};
};

}  // namespace kiln::serve

#endif  // KILN_TOOLS_SERVE_REST_HANDLER_H_
