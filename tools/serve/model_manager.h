// The models a server holds: every directory MODEL_DIR/NAME with version directories
// NAME/VERSION/model.kiln (TF Serving's layout). A poll loads the versions each model's
// policy wants and unloads the others; a version that fails to load is reported in its
// status and leaves the versions already serving in place; a version is unloaded only
// after its replacement is available, and requests still using it finish first (they
// hold it). Thread-safe.
#ifndef KILN_TOOLS_SERVE_MODEL_MANAGER_H_
#define KILN_TOOLS_SERVE_MODEL_MANAGER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/serve_config.pb.h"
#include "runtime/thread_pool.h"
#include "tools/serve/metrics.h"
#include "tools/serve/servable.h"

namespace kiln::serve {

// TF Serving's version states.
enum class VersionState { kUnknown, kStart, kLoading, kAvailable, kUnloading, kEnd };
absl::string_view VersionStateName(VersionState state);  // "AVAILABLE"

struct VersionStatus {
  int64_t version = 0;
  VersionState state = VersionState::kUnknown;
  absl::Status status;  // why a load failed
};

// Checks a configuration: names unique and non-empty, batching values not negative,
// latest.num_versions and specific.versions sensible. InvalidArgument naming the model.
absl::Status ValidateServeConfig(const proto::ServeConfig& config);

class ModelManager {
 public:
  struct Options {
    std::string model_dir;
    proto::ServeConfig config;  // validated
    ThreadPool* pool = nullptr;  // intra-op threads of every model; null: one thread
    Metrics* metrics = nullptr;
  };
  explicit ModelManager(Options options);
  // Stops polling; the loaded versions go when their last request does.
  ~ModelManager();
  ModelManager(const ModelManager&) = delete;
  ModelManager& operator=(const ModelManager&) = delete;

  // Scans the model directory once, loading and unloading versions (loads run here).
  void Poll();
  // Polls every `interval` on a thread of its own until destruction.
  void StartPolling(std::chrono::milliseconds interval);

  // The version asked for, or the highest available one. NotFound (TF Serving's words)
  // for an unknown model or version, or one that is not available.
  absl::StatusOr<std::shared_ptr<Servable>> Find(absl::string_view name,
                                                 std::optional<int64_t> version) const;
  // The status of every version of `name` known (or of one). NotFound for an unknown model
  // or version.
  absl::StatusOr<std::vector<VersionStatus>> GetStatus(absl::string_view name,
                                                       std::optional<int64_t> version) const;
  // The names of the models found.
  std::vector<std::string> ModelNames() const;
  // True when every model found has a version available (at least one model).
  bool Ready() const;

 private:
  // A version directory's file, as last seen: a failed load is retried when it changes.
  struct FileStamp {
    int64_t size = -1;
    int64_t mtime_ns = -1;
    bool operator==(const FileStamp& o) const { return size == o.size && mtime_ns == o.mtime_ns; }
  };
  struct Version {
    VersionStatus status;
    FileStamp stamp;
    std::shared_ptr<Servable> servable;  // set while available
  };
  struct Model {
    std::map<int64_t, Version> versions;
  };
  void PollModel(const std::string& name, const std::map<int64_t, FileStamp>& on_disk);
  const proto::ModelServeConfig* ConfigOf(const std::string& name) const;

  const Options options_;
  mutable std::mutex mu_;
  std::map<std::string, Model> models_;  // guarded by mu_
  // Unloaded versions that requests still hold: destroyed by a later poll once only this
  // list holds them, so no batching thread ever destroys its own Batcher.
  std::vector<std::shared_ptr<Servable>> retired_;  // guarded by mu_
  std::mutex poll_mu_;                   // one poll at a time

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // guarded by stop_mu_
  std::thread poller_;
};

}  // namespace kiln::serve

#endif  // KILN_TOOLS_SERVE_MODEL_MANAGER_H_
