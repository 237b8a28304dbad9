#include "tools/serve/model_manager.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kiln::serve {
namespace {

namespace fs = std::filesystem;

constexpr char kArtifactName[] = "model.kiln";

BatchingOptions BatchingFrom(const proto::BatchingConfig& config, const BatchingOptions& base) {
  BatchingOptions options = base;
  if (config.max_batch_size() > 0) options.max_batch_size = config.max_batch_size();
  if (config.batch_timeout_micros() > 0) {
    options.batch_timeout_micros = config.batch_timeout_micros();
  }
  if (config.max_enqueued_rows() > 0) options.max_enqueued_rows = config.max_enqueued_rows();
  return options;
}

std::string Request(absl::string_view name, std::optional<int64_t> version) {
  return version ? absl::StrCat("Specific(", name, ", ", *version, ")")
                 : absl::StrCat("Latest(", name, ")");
}

}  // namespace

absl::string_view VersionStateName(VersionState state) {
  switch (state) {
    case VersionState::kUnknown: return "UNKNOWN";
    case VersionState::kStart: return "START";
    case VersionState::kLoading: return "LOADING";
    case VersionState::kAvailable: return "AVAILABLE";
    case VersionState::kUnloading: return "UNLOADING";
    case VersionState::kEnd: return "END";
  }
  return "UNKNOWN";
}

absl::Status ValidateServeConfig(const proto::ServeConfig& config) {
  absl::flat_hash_set<std::string> names;
  auto batching_ok = [](const proto::BatchingConfig& b) {
    return b.max_batch_size() >= 0 && b.batch_timeout_micros() >= 0 &&
           b.batch_timeout_micros() <= 10'000'000 && b.max_enqueued_rows() >= 0;
  };
  if (!batching_ok(config.default_batching())) {
    return absl::InvalidArgumentError(
        "default_batching: values must be >= 0 (batch_timeout_micros at most 10 s)");
  }
  for (const proto::ModelServeConfig& model : config.models()) {
    const std::string where = absl::StrCat("model '", model.name(), "': ");
    if (model.name().empty() || model.name().find('/') != std::string::npos ||
        model.name() == "." || model.name() == "..") {
      return absl::InvalidArgumentError(absl::StrCat(where, "not a directory name"));
    }
    if (!names.insert(model.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, "configured twice"));
    }
    if (!batching_ok(model.batching())) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "batching values must be >= 0 (batch_timeout_micros at most 10 s)"));
    }
    const proto::VersionPolicy& policy = model.version_policy();
    if (policy.has_specific()) {
      if (policy.specific().versions().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(where, "specific lists no versions"));
      }
      for (int64_t v : policy.specific().versions()) {
        if (v < 0) {
          return absl::InvalidArgumentError(absl::StrCat(where, "version ", v, " is negative"));
        }
      }
    }
  }
  return absl::OkStatus();
}

ModelManager::ModelManager(Options options) : options_(std::move(options)) {}

ModelManager::~ModelManager() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
  // Requests answered a moment ago may still hold a version on its batching thread: wait
  // until only this manager does, so that thread never destroys its own Batcher.
  std::vector<std::shared_ptr<Servable>> all = std::move(retired_);
  for (auto& [name, model] : models_) {
    for (auto& [number, version] : model.versions) {
      if (version.servable != nullptr) all.push_back(std::move(version.servable));
    }
  }
  for (const std::shared_ptr<Servable>& servable : all) {
    while (servable.use_count() > 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void ModelManager::StartPolling(std::chrono::milliseconds interval) {
  poller_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(stop_mu_);
    while (!stop_cv_.wait_for(lock, interval, [this] { return stop_; })) {
      lock.unlock();
      Poll();
      lock.lock();
    }
  });
}

const proto::ModelServeConfig* ModelManager::ConfigOf(const std::string& name) const {
  for (const proto::ModelServeConfig& model : options_.config.models()) {
    if (model.name() == name) return &model;
  }
  return nullptr;
}

void ModelManager::Poll() {
  std::lock_guard<std::mutex> poll_lock(poll_mu_);
  std::vector<std::shared_ptr<Servable>> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = retired_.begin(); it != retired_.end();) {
      if (it->use_count() == 1) {
        done.push_back(std::move(*it));
        it = retired_.erase(it);
      } else {
        ++it;
      }
    }
  }
  done.clear();  // outside the lock: stopping a batcher waits for its thread
  // NAME -> VERSION -> the artifact's stamp, for every NAME/VERSION/model.kiln present.
  std::map<std::string, std::map<int64_t, FileStamp>> found;
  std::error_code error;
  for (const fs::directory_entry& model : fs::directory_iterator(options_.model_dir, error)) {
    std::error_code model_error;
    if (!model.is_directory(model_error)) continue;
    const std::string name = model.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::map<int64_t, FileStamp>& versions = found[name];
    for (const fs::directory_entry& version : fs::directory_iterator(model.path(), model_error)) {
      int64_t number = 0;
      if (!absl::SimpleAtoi(version.path().filename().string(), &number) || number < 0) continue;
      const fs::path file = version.path() / kArtifactName;
      std::error_code file_error;
      const auto size = fs::file_size(file, file_error);
      if (file_error) continue;
      const auto mtime = fs::last_write_time(file, file_error);
      if (file_error) continue;
      versions[number] = {static_cast<int64_t>(size),
                          static_cast<int64_t>(mtime.time_since_epoch().count())};
    }
  }
  for (const auto& [name, versions] : found) PollModel(name, versions);
  // A model directory that went away: its versions end.
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, model] : models_) {
    if (found.count(name) > 0) continue;
    for (auto& [number, version] : model.versions) {
      if (version.servable != nullptr) retired_.push_back(std::move(version.servable));
      version.status.state = VersionState::kEnd;
    }
  }
}

void ModelManager::PollModel(const std::string& name,
                             const std::map<int64_t, FileStamp>& on_disk) {
  const proto::ModelServeConfig* config = ConfigOf(name);
  const proto::VersionPolicy policy =
      config != nullptr ? config->version_policy() : proto::VersionPolicy();
  const BatchingOptions batching =
      BatchingFrom(config != nullptr ? config->batching() : proto::BatchingConfig(),
                   BatchingFrom(options_.config.default_batching(), BatchingOptions()));
  size_t wanted_count = on_disk.size();
  if (policy.has_specific()) {
    wanted_count = policy.specific().versions_size();
  } else if (!policy.has_all()) {
    wanted_count = policy.latest().num_versions() > 0 ? policy.latest().num_versions() : 1;
  }
  const std::set<int64_t> specific(policy.specific().versions().begin(),
                                    policy.specific().versions().end());

  // Newest first: load until enough versions are available, skipping those that fail.
  std::set<int64_t> keep;
  for (auto it = on_disk.rbegin(); it != on_disk.rend() && keep.size() < wanted_count; ++it) {
    const int64_t number = it->first;
    if (policy.has_specific() && specific.count(number) == 0) continue;
    bool load = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      Version& version = models_[name].versions[number];
      if (version.servable != nullptr && version.stamp == it->second) {
        keep.insert(number);
        continue;
      }
      // A failed load is retried only when the file changes.
      load = !(version.status.state == VersionState::kEnd && version.stamp == it->second);
      if (load) {
        version.status = {number, VersionState::kLoading, absl::OkStatus()};
        version.stamp = it->second;
      }
    }
    if (!load) continue;
    const std::string path =
        (fs::path(options_.model_dir) / name / absl::StrCat(number) / kArtifactName).string();
    absl::StatusOr<std::shared_ptr<Servable>> servable =
        Servable::Load(name, number, path, options_.pool, batching, options_.metrics);
    std::lock_guard<std::mutex> lock(mu_);
    Version& version = models_[name].versions[number];
    if (servable.ok()) {
      if (version.servable != nullptr) retired_.push_back(std::move(version.servable));
      version.servable = *std::move(servable);
      version.status = {number, VersionState::kAvailable, absl::OkStatus()};
      keep.insert(number);
    } else {
      // The version that served before (if any) keeps serving until a load succeeds.
      version.status = {number, VersionState::kEnd, servable.status()};
      if (version.servable != nullptr) keep.insert(number);
    }
  }

  // Unload what the policy no longer wants; requests holding a version finish first.
  std::lock_guard<std::mutex> lock(mu_);
  Model& model = models_[name];
  for (auto it = model.versions.begin(); it != model.versions.end();) {
    Version& version = it->second;
    const bool present = on_disk.count(it->first) > 0;
    if (keep.count(it->first) > 0) {
      ++it;
      continue;
    }
    if (version.servable != nullptr) {
      retired_.push_back(std::move(version.servable));
      version.servable = nullptr;
      version.status = {it->first, VersionState::kEnd, absl::OkStatus()};
    }
    // Forget versions gone from disk that never loaded; keep the others' last status.
    if (!present && version.status.state != VersionState::kEnd) {
      it = model.versions.erase(it);
    } else {
      ++it;
    }
  }
}

absl::StatusOr<std::shared_ptr<Servable>> ModelManager::Find(
    absl::string_view name, std::optional<int64_t> version) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto model = models_.find(std::string(name));
  if (model != models_.end()) {
    if (version) {
      auto it = model->second.versions.find(*version);
      if (it != model->second.versions.end() && it->second.servable != nullptr) {
        return it->second.servable;
      }
    } else {
      for (auto it = model->second.versions.rbegin(); it != model->second.versions.rend(); ++it) {
        if (it->second.servable != nullptr) return it->second.servable;
      }
    }
  }
  return absl::NotFoundError(
      absl::StrCat("Servable not found for request: ", Request(name, version)));
}

absl::StatusOr<std::vector<VersionStatus>> ModelManager::GetStatus(
    absl::string_view name, std::optional<int64_t> version) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto model = models_.find(std::string(name));
  if (model == models_.end()) {
    return absl::NotFoundError(absl::StrCat("Could not find any versions of model ", name));
  }
  std::vector<VersionStatus> statuses;
  for (auto it = model->second.versions.rbegin(); it != model->second.versions.rend(); ++it) {
    if (!version || it->first == *version) statuses.push_back(it->second.status);
  }
  if (statuses.empty()) {
    return absl::NotFoundError(absl::StrCat("Could not find version ", version.value_or(-1),
                                            " of model ", name));
  }
  return statuses;
}

std::vector<std::string> ModelManager::ModelNames() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, model] : models_) names.push_back(name);
  return names;
}

bool ModelManager::Ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (models_.empty()) return false;
  for (const auto& [name, model] : models_) {
    bool available = false;
    for (const auto& [number, version] : model.versions) {
      available = available || version.servable != nullptr;
    }
    if (!available) return false;
  }
  return true;
}

}  // namespace kiln::serve
