// kiln-serve: serves the compiled artifacts of a model directory (TF Serving's layout,
// MODEL_DIR/NAME/VERSION/model.kiln) over TF Serving's REST and gRPC APIs, with dynamic batching,
// version polling, health and Prometheus metrics. Built on the runtime core alone.
// SIGTERM or SIGINT drains: /readyz turns 503, the listening socket closes, requests in
// flight are answered, then the process exits 0.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/text_format.h"
#include "proto/serve_config.pb.h"
#include "runtime/thread_pool.h"
#include "tools/cli/command.h"
#include "tools/cli/flags.h"
#include "tools/serve/grpc_server.h"
#include "tools/serve/http_server.h"
#include "tools/serve/metrics.h"
#include "tools/serve/model_manager.h"
#include "tools/serve/rest_handler.h"

namespace kiln::serve {
namespace {

constexpr char kHelp[] = R"help(Usage: kiln-serve --model_dir DIR [--port P] [--grpc_port G] [--config FILE] [--poll_seconds N]
                  [--threads N] [--rest_workers N] [--max_body_bytes N]
                  [--drain_seconds N]

Serves every model in DIR (DIR/NAME/VERSION/model.kiln, written by `kiln
compile`) over TF Serving's REST API:
  POST /v1/models/NAME[/versions/V]:predict    {"instances": [...]} or {"inputs": ...}
  GET  /v1/models/NAME[/versions/V]            version status
  GET  /v1/models/NAME[/versions/V]/metadata   signature
  GET  /healthz  /readyz  /monitoring/prometheus/metrics
and, with --grpc_port, TF Serving's gRPC PredictionService (Predict,
GetModelMetadata) and ModelService (GetModelStatus) (docs/serving.md). New
versions are found by polling DIR; the highest version that loads serves unless
--config says otherwise.

Flags:
  --model_dir DIR       the model directory (required)
  --port P              REST port (default 8501; 0 picks a free one)
  --grpc_port G         gRPC port (default: no gRPC; 0 picks a free one)
  --config FILE         per-model version policy and batching, a text-format
                        kiln.proto.ServeConfig (proto/serve_config.proto)
  --poll_seconds N      how often DIR is scanned (default 1)
  --threads N           intra-op threads shared by all models (default: cores)
  --rest_workers N      threads parsing and answering requests (default 2)
  --max_body_bytes N    larger request bodies get 413 (default 67108864)
  --drain_seconds N     longest wait for requests in flight at SIGTERM (default 30)
)help";

int Main(const std::vector<std::string>& args) {
  std::string model_dir;
  std::string config_path;
  int64_t port = 8501;
  int64_t grpc_port = -1;
  int64_t poll_seconds = 1;
  int64_t threads = 0;
  int64_t rest_workers = 2;
  int64_t max_body_bytes = int64_t{64} << 20;
  int64_t drain_seconds = 30;
  cli::FlagSet flags("kiln-serve");
  flags.AddString("model_dir", &model_dir);
  flags.AddString("config", &config_path);
  flags.AddInt64("port", &port, 0, 65535);
  flags.AddInt64("grpc_port", &grpc_port, 0, 65535);
  flags.AddInt64("poll_seconds", &poll_seconds, 1, 86400);
  flags.AddInt64("threads", &threads, 1, 1024);
  flags.AddInt64("rest_workers", &rest_workers, 1, 256);
  flags.AddInt64("max_body_bytes", &max_body_bytes, 1, int64_t{1} << 32);
  flags.AddInt64("drain_seconds", &drain_seconds, 0, 3600);
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) return cli::UsageError(std::cerr, positional.status().message());
  if (flags.help_requested()) {
    std::cout << kHelp;
    return cli::kExitOk;
  }
  if (!positional->empty()) {
    return cli::UsageError(std::cerr, absl::StrCat("unexpected argument '", (*positional)[0],
                                                   "'; run 'kiln-serve --help'"));
  }
  if (model_dir.empty()) return cli::UsageError(std::cerr, "--model_dir DIR is required");

  proto::ServeConfig config;
  if (!config_path.empty()) {
    std::ifstream file(config_path);
    std::stringstream text;
    text << file.rdbuf();
    if (!file || !google::protobuf::TextFormat::ParseFromString(text.str(), &config)) {
      return cli::Failure(std::cerr, absl::InvalidArgumentError(absl::StrCat(
                                         "--config '", config_path,
                                         "' is not a text-format kiln.proto.ServeConfig")));
    }
  }
  if (absl::Status valid = ValidateServeConfig(config); !valid.ok()) {
    return cli::Failure(std::cerr, valid);
  }

  // Signals are taken by sigwait below: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Metrics metrics;
  ThreadPool pool(threads > 0 ? static_cast<int>(threads) : ThreadPool::DefaultThreadCount());
  ModelManager::Options manager_options;
  manager_options.model_dir = model_dir;
  manager_options.config = config;
  manager_options.pool = &pool;
  manager_options.metrics = &metrics;
  ModelManager models(manager_options);
  models.Poll();
  for (const std::string& name : models.ModelNames()) {
    absl::StatusOr<std::vector<VersionStatus>> statuses = models.GetStatus(name, std::nullopt);
    for (const VersionStatus& s : statuses.value_or(std::vector<VersionStatus>{})) {
      std::cerr << "kiln-serve: model " << name << " version " << s.version << ": "
                << VersionStateName(s.state)
                << (s.status.ok() ? "" : absl::StrCat(" (", s.status.message(), ")")) << "\n";
    }
  }
  models.StartPolling(std::chrono::seconds(poll_seconds));

  RestHandler rest(&models, &metrics);
  HttpServer::Options http_options;
  http_options.port = static_cast<int>(port);
  http_options.workers = static_cast<int>(rest_workers);
  http_options.max_body_bytes = max_body_bytes;
  absl::StatusOr<std::unique_ptr<HttpServer>> http = HttpServer::Start(http_options, &rest);
  if (!http.ok()) return cli::Failure(std::cerr, http.status());
  std::unique_ptr<GrpcServer> grpc;
  if (grpc_port >= 0) {
    GrpcServer::Options grpc_options;
    grpc_options.port = static_cast<int>(grpc_port);
    grpc_options.max_message_bytes = max_body_bytes;
    absl::StatusOr<std::unique_ptr<GrpcServer>> started =
        GrpcServer::Start(grpc_options, &models, &metrics);
    if (!started.ok()) return cli::Failure(std::cerr, started.status());
    grpc = *std::move(started);
  }
  std::cerr << "kiln-serve: serving " << absl::StrJoin(models.ModelNames(), ", ") << " from "
            << model_dir << "; REST on port " << (*http)->port()
            << (grpc != nullptr ? absl::StrCat(", gRPC on port ", grpc->port()) : "")
            << std::endl;

  int signal = 0;
  sigwait(&signals, &signal);
  std::cerr << "kiln-serve: " << (signal == SIGTERM ? "SIGTERM" : "SIGINT")
            << ", draining " << (*http)->in_flight() << " request(s)" << std::endl;
  rest.SetDraining();
  (*http)->StopAccepting();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(drain_seconds);
  // gRPC drains on its own: no new calls, those in flight answered until the deadline.
  std::thread grpc_drain;
  if (grpc != nullptr) {
    grpc_drain = std::thread([&] {
      grpc->Shutdown(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
    });
  }
  while ((*http)->in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int64_t dropped = (*http)->in_flight();
  (*http)->Stop();
  if (grpc_drain.joinable()) grpc_drain.join();
  std::cerr << "kiln-serve: stopped"
            << (dropped > 0 ? absl::StrCat(", ", dropped, " request(s) unanswered") : "")
            << std::endl;
  return dropped > 0 ? cli::kExitFailure : cli::kExitOk;
}

}  // namespace
}  // namespace kiln::serve

int main(int argc, char** argv) {
  return kiln::serve::Main(std::vector<std::string>(argv + 1, argv + argc));
}
