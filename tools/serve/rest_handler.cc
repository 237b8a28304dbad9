#include "tools/serve/rest_handler.h"

#include <chrono>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/serve/json_text.h"
#include "tools/serve/predict_json.h"

namespace kiln::serve {
namespace {

using Clock = std::chrono::steady_clock;

constexpr absl::string_view kModelsPrefix = "/v1/models/";
constexpr absl::string_view kSignature = "serving_default";

// TensorFlow's DataType enum names, as TF Serving's metadata shows them.
absl::string_view TfDtypeName(DataType dtype) {
  switch (dtype) {
    case DataType::kF32: return "DT_FLOAT";
    case DataType::kF16: return "DT_HALF";
    case DataType::kBF16: return "DT_BFLOAT16";
    case DataType::kF64: return "DT_DOUBLE";
    case DataType::kI8: return "DT_INT8";
    case DataType::kI32: return "DT_INT32";
    case DataType::kI64: return "DT_INT64";
    case DataType::kBool: return "DT_BOOL";
    case DataType::kU8: return "DT_UINT8";
    case DataType::kInvalid: break;
  }
  return "DT_INVALID";
}

HttpReply Error(const absl::Status& status) {
  return {HttpStatusFor(status.code()), WriteErrorBody(status.message())};
}

// {"NAME": {"dtype": "DT_FLOAT", "tensor_shape": {"dim": [{"size": "-1", "name": ""}, ...],
// "unknown_rank": false}, "name": "NAME"}, ...}, as TF Serving's metadata writes TensorInfo
// (int64 fields are strings in proto3's JSON).
void AppendSpecs(std::string& out, const std::vector<TensorSpec>& specs) {
  out += "{";
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorSpec& spec = specs[i];
    if (i > 0) out += ",";
    AppendJsonString(out, spec.name);
    absl::StrAppend(&out, ":{\"dtype\":\"", TfDtypeName(spec.dtype),
                    "\",\"tensor_shape\":{\"dim\":[");
    for (size_t d = 0; d < spec.dims.size(); ++d) {
      absl::StrAppend(&out, d > 0 ? "," : "", "{\"size\":\"", spec.dims[d], "\",\"name\":\"\"}");
    }
    out += "],\"unknown_rank\":false},\"name\":";
    AppendJsonString(out, spec.name);
    out += "}";
  }
  out += "}";
}

HttpReply Metadata(const Servable& servable) {
  std::string out = "{\"model_spec\":{\"name\":";
  AppendJsonString(out, servable.name());
  absl::StrAppend(&out, ",\"signature_name\":\"\",\"version\":\"", servable.version(),
                  "\"},\"metadata\":{\"signature_def\":{\"signature_def\":{\"", kSignature,
                  "\":{\"inputs\":");
  AppendSpecs(out, servable.inputs());
  out += ",\"outputs\":";
  AppendSpecs(out, servable.outputs());
  out += ",\"method_name\":\"tensorflow/serving/predict\"}}}}}";
  return {200, std::move(out)};
}

HttpReply Status(const std::vector<VersionStatus>& statuses) {
  std::string out = "{\"model_version_status\":[";
  for (size_t i = 0; i < statuses.size(); ++i) {
    const VersionStatus& s = statuses[i];
    absl::StrAppend(&out, i > 0 ? "," : "", "{\"version\":\"", s.version, "\",\"state\":\"",
                    VersionStateName(s.state), "\",\"status\":{\"error_code\":\"",
                    absl::StatusCodeToString(s.status.code()), "\",\"error_message\":");
    AppendJsonString(out, s.status.message());
    out += "}}";
  }
  out += "]}";
  return {200, std::move(out)};
}

// The parts of a /v1/models/... path.
struct ModelPath {
  std::string name;
  std::optional<int64_t> version;
  std::string verb;  // "predict", "classify", "regress" after ':'; "" for GETs
  bool metadata = false;
};

std::optional<ModelPath> ParseModelPath(absl::string_view path) {
  if (!absl::ConsumePrefix(&path, kModelsPrefix)) return std::nullopt;
  ModelPath out;
  const size_t colon = path.rfind(':');
  if (colon != absl::string_view::npos) {
    out.verb = std::string(path.substr(colon + 1));
    path = path.substr(0, colon);
  }
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  if (parts.empty() || parts[0].empty()) return std::nullopt;
  out.name = std::string(parts[0]);
  size_t i = 1;
  if (i + 1 < parts.size() && parts[i] == "versions") {
    int64_t version = 0;
    if (!absl::SimpleAtoi(parts[i + 1], &version) || version < 0) return std::nullopt;
    out.version = version;
    i += 2;
  }
  if (i < parts.size() && parts[i] == "metadata" && out.verb.empty()) {
    out.metadata = true;
    ++i;
  }
  if (i != parts.size()) return std::nullopt;
  return out;
}

}  // namespace

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists: return 409;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    case absl::StatusCode::kUnimplemented: return 501;
    default: return 500;
  }
}

RestHandler::RestHandler(const ModelManager* models, Metrics* metrics)
    : models_(models), metrics_(metrics) {}

void RestHandler::Handle(absl::string_view method, absl::string_view path, std::string body,
                         std::function<void(HttpReply)> reply) const {
  if (method == "GET" && path == "/healthz") return reply({200, "ok\n", "text/plain"});
  if (method == "GET" && path == "/readyz") {
    const bool ready = !draining_ && models_->Ready();
    return reply({ready ? 200 : 503, ready ? "ready\n" : "not ready\n", "text/plain"});
  }
  if (method == "GET" && (path == "/monitoring/prometheus/metrics" || path == "/metrics")) {
    return reply({200, metrics_->PrometheusText(), "text/plain; version=0.0.4"});
  }
  std::optional<ModelPath> parsed = ParseModelPath(path);
  if (!parsed) {
    return reply(Error(absl::NotFoundError(absl::StrCat("Malformed request: ", method, " ", path))));
  }
  if (!parsed->verb.empty()) {
    if (method != "POST") {
      return reply(Error(absl::NotFoundError(
          absl::StrCat("Malformed request: ", method, " ", path, " (use POST)"))));
    }
    if (parsed->verb == "predict") {
      return Predict(parsed->name, parsed->version, std::move(body), std::move(reply));
    }
    if (parsed->verb == "classify" || parsed->verb == "regress") {
      return reply(Error(absl::UnimplementedError(
          absl::StrCat(":", parsed->verb, " is not supported; use :predict"))));
    }
    return reply(Error(absl::NotFoundError(absl::StrCat("Malformed request: ", method, " ", path))));
  }
  if (method != "GET") {
    return reply(Error(absl::NotFoundError(
        absl::StrCat("Malformed request: ", method, " ", path, " (use GET)"))));
  }
  if (parsed->metadata) {
    absl::StatusOr<std::shared_ptr<Servable>> servable =
        models_->Find(parsed->name, parsed->version);
    if (!servable.ok()) return reply(Error(servable.status()));
    return reply(Metadata(**servable));
  }
  absl::StatusOr<std::vector<VersionStatus>> statuses =
      models_->GetStatus(parsed->name, parsed->version);
  if (!statuses.ok()) return reply(Error(statuses.status()));
  reply(Status(*statuses));
}

void RestHandler::Predict(absl::string_view name, std::optional<int64_t> version,
                          std::string body, std::function<void(HttpReply)> reply) const {
  const Clock::time_point start = Clock::now();
  Metrics* metrics = metrics_;
  auto finish = [metrics, start, model = std::string(name)](
                    const std::string& served_version, HttpReply out,
                    const std::function<void(HttpReply)>& send) {
    metrics->CountRequest(model, served_version, "rest", out.code,
                          std::chrono::duration<double>(Clock::now() - start).count());
    send(std::move(out));
  };
  absl::StatusOr<std::shared_ptr<Servable>> found = models_->Find(name, version);
  if (!found.ok()) return finish("", Error(found.status()), reply);
  std::shared_ptr<Servable> servable = *std::move(found);
  const std::string served = absl::StrCat(servable->version());
  // Batches forming now wait for this request while it is parsed.
  Batcher& batcher = servable->batcher();
  batcher.Expect();
  absl::Cleanup arrived = [&batcher] { batcher.Arrived(); };
  absl::StatusOr<PredictRequest> request =
      ParsePredictRequestInPlace(std::move(body), servable->inputs());
  if (!request.ok()) return finish(served, Error(request.status()), reply);
  if (!request->signature_name.empty() && request->signature_name != kSignature) {
    return finish(served,
                  Error(absl::InvalidArgumentError(absl::StrCat(
                      "Serving signature name: \"", request->signature_name,
                      "\" not found in signature def (the model has \"", kSignature, "\")"))),
                  reply);
  }
  const PredictFormat format = request->format;
  // The callback holds the servable, so an unloaded version lives until it has answered
  // (the model manager destroys retired versions once nothing else holds them).
  batcher.Submit(
      std::move(request->inputs), request->batch,
      [servable, served, format, finish,
       reply = std::move(reply)](absl::Status status, std::vector<Tensor> outputs) mutable {
        HttpReply out;
        if (!status.ok()) {
          out = Error(status);
        } else {
          absl::StatusOr<std::string> body =
              WritePredictResponse(format, servable->outputs(), outputs);
          out = body.ok() ? HttpReply{200, *std::move(body)}
                          : Error(absl::InternalError(body.status().message()));
        }
        finish(served, std::move(out), reply);
      });
}

}  // namespace kiln::serve
