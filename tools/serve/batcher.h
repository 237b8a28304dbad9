// Dynamic batching for one loaded model version: concurrent requests are merged along
// their first dimension up to a maximum batch or a maximum wait, padded to the smallest
// compiled batch size that holds them, run once, and the outputs split back per request.
// A model without a batch dimension runs each request alone, in arrival order.
#ifndef KILN_TOOLS_SERVE_BATCHER_H_
#define KILN_TOOLS_SERVE_BATCHER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/tensor.h"
#include "runtime/loaded_artifact.h"
#include "tools/serve/metrics.h"

namespace kiln::serve {

struct BatchingOptions {
  // Most rows merged into one run; 0: the largest compiled batch size (also the cap).
  int64_t max_batch_size = 0;
  // How long the first request of a batch waits for others.
  int64_t batch_timeout_micros = 1000;
  // Rows that may wait; a request beyond them is refused (ResourceExhausted).
  int64_t max_enqueued_rows = 1 << 14;
};

class Batcher {
 public:
  // Called once per request from the batching thread, with the request's outputs (one per
  // declared output: batched ones hold its rows only) or the error. It must not block.
  using Done = std::function<void(absl::Status status, std::vector<Tensor> outputs)>;

  // `model` must outlive the Batcher. `labels` name the model and version in `metrics`
  // (null: none kept).
  Batcher(const LoadedArtifact* model, const BatchingOptions& options, Metrics* metrics,
          std::string model_name, std::string version);
  // Runs every request still queued, then stops the thread. Must not run on the batching
  // thread (a Done callback must not drop the last reference to the Batcher's owner).
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues a request: `inputs` one per declared input, of the declared type with `rows` as
  // the first dimension of the batched ones (the codecs check this). Never blocks; `done`
  // may be called before Submit returns (errors found at once). Thread-safe.
  void Submit(std::vector<Tensor> inputs, int64_t rows, Done done);

  // A request for this model is on its way (being read or parsed). While any is, a batch
  // waits for it (up to the timeout); with none expected a batch runs at once, so a lone
  // client pays no batching delay. Each Expect() is followed by one Arrived(), after the
  // request's Submit or instead of it. Thread-safe.
  void Expect();
  void Arrived();

  // The largest number of rows one request may have.
  int64_t max_rows() const { return max_rows_; }

 private:
  struct Request {
    std::vector<Tensor> inputs;
    int64_t rows = 0;
    Done done;
  };
  void Loop();
  // Runs `batch` (their rows sum to at most the largest compiled batch) as one call.
  void RunBatch(std::vector<Request>& batch, int64_t rows);

  const LoadedArtifact* model_;
  const BatchingOptions options_;
  Metrics* metrics_;
  const std::string model_name_;
  const std::string version_;
  const bool batched_;
  int64_t max_rows_ = 0;

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Request> queue_;  // guarded by mu_
  int64_t queued_rows_ = 0;    // guarded by mu_
  int64_t expected_ = 0;       // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::thread thread_;
};

}  // namespace kiln::serve

#endif  // KILN_TOOLS_SERVE_BATCHER_H_
