// TF Serving's gRPC API over the model manager: PredictionService (Predict,
// GetModelMetadata) and ModelService (GetModelStatus), wire-compatible with TF Serving's
// clients (proto/tensorflow_serving). Requests go through the same batchers as REST.
#ifndef KILN_TOOLS_SERVE_GRPC_SERVER_H_
#define KILN_TOOLS_SERVE_GRPC_SERVER_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tools/serve/metrics.h"
#include "tools/serve/model_manager.h"

namespace kiln::serve {

class GrpcServer {
 public:
  struct Options {
    std::string address = "0.0.0.0";
    int port = 8500;  // 0: any free port (see port())
    int64_t max_message_bytes = int64_t{64} << 20;
  };
  // Starts serving. `models` and `metrics` must outlive the server. Unavailable when the
  // port cannot be bound.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const Options& options,
                                                           const ModelManager* models,
                                                           Metrics* metrics);
  // Shutdown(no wait).
  ~GrpcServer();

  int port() const { return port_; }
  // Stops accepting calls, waits up to `drain` for the calls in flight, then cancels the
  // rest. Idempotent.
  void Shutdown(std::chrono::milliseconds drain);

 private:
  struct Impl;
  explicit GrpcServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace kiln::serve

#endif  // KILN_TOOLS_SERVE_GRPC_SERVER_H_
