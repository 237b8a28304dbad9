// The HTTP/1.1 transport of kiln-serve, on libevent's evhttp (TF Serving's choice): one
// event loop thread accepts connections and reads requests, a small pool of workers runs
// the RestHandler (parsing JSON, submitting to a model's batcher), and every reply is
// posted back to the loop, which alone touches evhttp. Bodies over the limit get 413 from
// evhttp itself; keep-alive connections are kept.
#ifndef KILN_TOOLS_SERVE_HTTP_SERVER_H_
#define KILN_TOOLS_SERVE_HTTP_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tools/serve/rest_handler.h"

namespace kiln::serve {

class HttpServer {
 public:
  struct Options {
    std::string address = "0.0.0.0";
    int port = 8501;  // 0: any free port (see port())
    int64_t max_body_bytes = int64_t{64} << 20;
    int workers = 2;
    int timeout_seconds = 60;  // idle connections and slow clients
  };

  // Binds the port and starts the loop and the workers. `handler` must outlive the server.
  // Error: Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const Options& options,
                                                           const RestHandler* handler);
  // Stop().
  ~HttpServer();

  int port() const { return port_; }
  // Closes the listening socket: new connections are refused, requests in flight and open
  // connections go on. Thread-safe.
  void StopAccepting();
  // Requests read and not yet answered.
  int64_t in_flight() const { return in_flight_; }
  // Stops the loop and the workers (requests not answered yet are dropped). Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace kiln::serve

#endif  // KILN_TOOLS_SERVE_HTTP_SERVER_H_
