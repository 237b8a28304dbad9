#include "tools/serve/batcher.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kiln::serve {
namespace {

bool BatchedType(const TensorType& declared) {
  return declared.shape.rank() > 0 && declared.shape.dim(0) == kUnknownDim;
}

// Bytes of one row of a tensor whose first dimension is the batch.
int64_t RowBytes(const Tensor& t) {
  const int64_t rows = t.shape().dim(0);
  return rows > 0 ? t.ByteSize() / rows : 0;
}

}  // namespace

Batcher::Batcher(const LoadedArtifact* model, const BatchingOptions& options, Metrics* metrics,
                 std::string model_name, std::string version)
    : model_(model),
      options_(options),
      metrics_(metrics),
      model_name_(std::move(model_name)),
      version_(std::move(version)),
      batched_(model->batch_sizes().back() > 0) {
  const int64_t largest = model->batch_sizes().back();
  max_rows_ = options.max_batch_size > 0 ? std::min(options.max_batch_size, largest) : largest;
  thread_ = std::thread([this] { Loop(); });
}

Batcher::~Batcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Batcher::Submit(std::vector<Tensor> inputs, int64_t rows, Done done) {
  if (batched_ && (rows < 1 || rows > max_rows_)) {
    done(absl::InvalidArgumentError(absl::StrCat(
             "the request has ", rows, " rows; model '", model_name_, "' version ", version_,
             " takes 1 to ", max_rows_, " per request")),
         {});
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_rows_ + rows > options_.max_enqueued_rows) {
      done(absl::ResourceExhaustedError(absl::StrCat(
               "model '", model_name_, "' has ", queued_rows_,
               " rows queued already; try again later")),
           {});
      return;
    }
    queue_.push_back({std::move(inputs), rows, std::move(done)});
    queued_rows_ += rows;
  }
  if (metrics_ != nullptr) metrics_->AddQueueDepth(model_name_, version_, rows);
  wake_.notify_one();
}

void Batcher::Expect() {
  std::lock_guard<std::mutex> lock(mu_);
  ++expected_;
}

void Batcher::Arrived() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --expected_;
  }
  wake_.notify_one();
}

void Batcher::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to run
    if (batched_ && !stopping_) {
      // The first request waits up to the timeout for others to fill the batch, as long
      // as more are on their way.
      const auto deadline = std::chrono::steady_clock::now() +
                            std::chrono::microseconds(options_.batch_timeout_micros);
      wake_.wait_until(lock, deadline, [&] {
        return stopping_ || queued_rows_ >= max_rows_ || expected_ <= 0;
      });
    }
    std::vector<Request> batch;
    int64_t rows = 0;
    while (!queue_.empty() &&
           (batch.empty() || (batched_ && rows + queue_.front().rows <= max_rows_))) {
      rows += queue_.front().rows;
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_rows_ -= rows;
    lock.unlock();
    if (metrics_ != nullptr) metrics_->AddQueueDepth(model_name_, version_, -rows);
    RunBatch(batch, rows);
    batch.clear();  // callbacks and their captures go before the lock is taken again
    lock.lock();
  }
}

void Batcher::RunBatch(std::vector<Request>& batch, int64_t rows) {
  if (!batched_) {
    for (Request& request : batch) {
      absl::StatusOr<std::vector<Tensor>> outputs = model_->Run(request.inputs);
      if (metrics_ != nullptr) metrics_->ObserveBatch(model_name_, version_, 1, 1);
      Done done = std::move(request.done);
      if (outputs.ok()) {
        done(absl::OkStatus(), *std::move(outputs));
      } else {
        done(outputs.status(), {});
      }
    }
    return;
  }
  const int64_t padded = model_->BatchFor(rows);
  const LoadedExecutable* executable = padded > 0 ? model_->ForBatch(padded) : nullptr;
  auto fail = [&](const absl::Status& status) {
    for (Request& request : batch) {
      if (!request.done) continue;  // answered already
      Done done = std::move(request.done);
      done(status, {});
    }
  };
  if (executable == nullptr) {
    fail(absl::InternalError(absl::StrCat("no compiled batch size holds ", rows, " rows")));
    return;
  }
  if (metrics_ != nullptr) metrics_->ObserveBatch(model_name_, version_, rows, padded);
  const std::vector<TensorSignature>& declared = model_->artifact().inputs();
  const std::vector<TensorSignature>& compiled = executable->executable().inputs;
  std::vector<Tensor> inputs;
  if (batch.size() == 1 && rows == padded) {
    inputs = std::move(batch[0].inputs);
  } else {
    for (size_t i = 0; i < compiled.size(); ++i) {
      if (!BatchedType(declared[i].type)) {
        inputs.push_back(batch[0].inputs[i]);  // unbatched inputs: the first request's
        continue;
      }
      absl::StatusOr<Tensor> merged =
          Tensor::Allocate(compiled[i].type.dtype, compiled[i].type.shape);
      if (!merged.ok()) return fail(merged.status());
      uint8_t* out = merged->data<uint8_t>();
      for (const Request& request : batch) {
        const Tensor& part = request.inputs[i];
        std::memcpy(out, part.raw_data(), part.ByteSize());
        out += part.ByteSize();
      }
      // Padding rows are zeros, whose outputs are dropped.
      std::memset(out, 0, merged->data<uint8_t>() + merged->ByteSize() - out);
      inputs.push_back(*std::move(merged));
    }
  }
  absl::StatusOr<std::vector<Tensor>> outputs = executable->Run(inputs);
  if (!outputs.ok()) return fail(outputs.status());
  if (batch.size() == 1 && rows == padded) {
    Done done = std::move(batch[0].done);
    done(absl::OkStatus(), *std::move(outputs));
    return;
  }
  const std::vector<TensorSignature>& declared_outputs = model_->artifact().outputs();
  int64_t first_row = 0;
  for (Request& request : batch) {
    std::vector<Tensor> mine;
    for (size_t o = 0; o < outputs->size(); ++o) {
      const Tensor& all = (*outputs)[o];
      if (!BatchedType(declared_outputs[o].type)) {
        mine.push_back(all.Clone());
        continue;
      }
      Shape shape = all.shape();
      shape.dims()[0] = request.rows;
      absl::StatusOr<Tensor> part = Tensor::Allocate(all.dtype(), shape);
      if (!part.ok()) return fail(part.status());
      const int64_t row_bytes = RowBytes(all);
      std::memcpy(part->data<uint8_t>(), all.data<uint8_t>() + first_row * row_bytes,
                  request.rows * row_bytes);
      mine.push_back(*std::move(part));
    }
    first_row += request.rows;
    Done done = std::move(request.done);
    done(absl::OkStatus(), std::move(mine));
  }
}

}  // namespace kiln::serve
