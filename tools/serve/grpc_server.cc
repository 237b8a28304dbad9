#include "tools/serve/grpc_server.h"

#include <grpcpp/grpcpp.h>

#include <future>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/tensorflow_serving/apis/get_model_metadata.pb.h"
#include "proto/tensorflow_serving/apis/model_service.grpc.pb.h"
#include "proto/tensorflow_serving/apis/prediction_service.grpc.pb.h"
#include "tools/serve/rest_handler.h"
#include "tools/serve/tensor_proto_codec.h"

namespace kiln::serve {
namespace {

using Clock = std::chrono::steady_clock;
namespace tfs = ::tensorflow::serving;

constexpr char kSignature[] = "serving_default";

grpc::Status ToGrpc(const absl::Status& status) {
  // absl's codes are gRPC's, value for value.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

// The version a ModelSpec asks for; labels are not supported.
absl::StatusOr<std::optional<int64_t>> VersionOf(const tfs::ModelSpec& spec) {
  if (spec.name().empty()) return absl::InvalidArgumentError("model_spec.name is empty");
  if (spec.version_choice_case() == tfs::ModelSpec::kVersionLabel) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model_spec.version_label '", spec.version_label(),
        "': version labels are not supported; give model_spec.version"));
  }
  if (spec.has_version()) return std::optional<int64_t>(spec.version().value());
  return std::optional<int64_t>();
}

absl::Status CheckSignature(const std::string& name) {
  if (name.empty() || name == kSignature) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("Serving signature name: \"", name,
                                                 "\" not found in signature def (the model "
                                                 "has \"", kSignature, "\")"));
}

void FillSpec(const Servable& servable, tfs::ModelSpec* spec) {
  spec->set_name(servable.name());
  spec->mutable_version()->set_value(servable.version());
  spec->set_signature_name(kSignature);
}

void FillTensorInfo(const TensorSpec& spec, tensorflow::TensorInfo* info) {
  info->set_name(spec.name);
  info->set_dtype(ToTfDataType(spec.dtype));
  for (int64_t d : spec.dims) info->mutable_tensor_shape()->add_dim()->set_size(d);
}

tfs::ModelVersionStatus::State StateOf(VersionState state) {
  switch (state) {
    case VersionState::kStart: return tfs::ModelVersionStatus::START;
    case VersionState::kLoading: return tfs::ModelVersionStatus::LOADING;
    case VersionState::kAvailable: return tfs::ModelVersionStatus::AVAILABLE;
    case VersionState::kUnloading: return tfs::ModelVersionStatus::UNLOADING;
    case VersionState::kEnd: return tfs::ModelVersionStatus::END;
    case VersionState::kUnknown: break;
  }
  return tfs::ModelVersionStatus::UNKNOWN;
}

class PredictionService final : public tfs::PredictionService::Service {
 public:
  PredictionService(const ModelManager* models, Metrics* metrics)
      : models_(models), metrics_(metrics) {}

  grpc::Status Predict(grpc::ServerContext*, const tfs::PredictRequest* request,
                       tfs::PredictResponse* response) override {
    const Clock::time_point start = Clock::now();
    std::string served;
    absl::Status status = DoPredict(*request, response, &served);
    metrics_->CountRequest(request->model_spec().name(), served, "grpc",
                           HttpStatusFor(status.code()),
                           std::chrono::duration<double>(Clock::now() - start).count());
    return ToGrpc(status);
  }

  grpc::Status GetModelMetadata(grpc::ServerContext*, const tfs::GetModelMetadataRequest* request,
                                tfs::GetModelMetadataResponse* response) override {
    absl::StatusOr<std::optional<int64_t>> version = VersionOf(request->model_spec());
    if (!version.ok()) return ToGrpc(version.status());
    for (const std::string& field : request->metadata_field()) {
      if (field != "signature_def") {
        return ToGrpc(absl::InvalidArgumentError(absl::StrCat(
            "metadata field '", field, "' is not supported (only signature_def)")));
      }
    }
    if (request->metadata_field().empty()) {
      return ToGrpc(absl::InvalidArgumentError("GetModelMetadataRequest must specify at least "
                                               "one metadata_field (signature_def)"));
    }
    absl::StatusOr<std::shared_ptr<Servable>> servable =
        models_->Find(request->model_spec().name(), *version);
    if (!servable.ok()) return ToGrpc(servable.status());
    FillSpec(**servable, response->mutable_model_spec());
    tfs::SignatureDefMap signatures;
    tensorflow::SignatureDef& def = (*signatures.mutable_signature_def())[kSignature];
    def.set_method_name("tensorflow/serving/predict");
    for (const TensorSpec& spec : (*servable)->inputs()) {
      FillTensorInfo(spec, &(*def.mutable_inputs())[spec.name]);
    }
    for (const TensorSpec& spec : (*servable)->outputs()) {
      FillTensorInfo(spec, &(*def.mutable_outputs())[spec.name]);
    }
    (*response->mutable_metadata())["signature_def"].PackFrom(signatures);
    return grpc::Status::OK;
  }

 private:
  absl::Status DoPredict(const tfs::PredictRequest& request, tfs::PredictResponse* response,
                         std::string* served) {
    absl::StatusOr<std::optional<int64_t>> version = VersionOf(request.model_spec());
    if (!version.ok()) return version.status();
    absl::StatusOr<std::shared_ptr<Servable>> found =
        models_->Find(request.model_spec().name(), *version);
    if (!found.ok()) return found.status();
    std::shared_ptr<Servable> servable = *std::move(found);
    *served = absl::StrCat(servable->version());
    if (absl::Status signature = CheckSignature(request.model_spec().signature_name());
        !signature.ok()) {
      return signature;
    }
    Batcher& batcher = servable->batcher();
    batcher.Expect();
    absl::Cleanup arrived = [&batcher] { batcher.Arrived(); };

    // Inputs: every one the model declares, no other; rows bounded before decoding (a
    // single fill value may describe a tensor of any size).
    for (const auto& [name, tensor] : request.inputs()) {
      bool known = false;
      for (const TensorSpec& spec : servable->inputs()) known = known || spec.name == name;
      if (!known) {
        std::vector<std::string> names;
        for (const TensorSpec& spec : servable->inputs()) names.push_back(spec.name);
        return absl::InvalidArgumentError(absl::StrCat("unknown input '", name,
                                                       "' (the model's inputs: ",
                                                       absl::StrJoin(names, ", "), ")"));
      }
    }
    std::vector<Tensor> inputs;
    int64_t rows = -1;
    for (const TensorSpec& spec : servable->inputs()) {
      auto it = request.inputs().find(spec.name);
      if (it == request.inputs().end()) {
        return absl::InvalidArgumentError(absl::StrCat("missing input '", spec.name, "'"));
      }
      if (spec.batched()) {
        const auto& shape = it->second.tensor_shape();
        const int64_t first = shape.dim_size() > 0 ? shape.dim(0).size() : -1;
        if (first < 1 || first > batcher.max_rows()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "input '", spec.name, "': ", first, " rows; model '", servable->name(),
              "' takes 1 to ", batcher.max_rows(), " per request"));
        }
        if (rows >= 0 && first != rows) {
          return absl::InvalidArgumentError(absl::StrCat(
              "input '", spec.name, "' has ", first, " rows, another input ", rows));
        }
        rows = first;
      }
      absl::StatusOr<Tensor> tensor = TensorFromProto(it->second, spec);
      if (!tensor.ok()) return tensor.status();
      inputs.push_back(*std::move(tensor));
    }
    std::vector<int> wanted;  // outputs to return, by position
    for (const std::string& name : request.output_filter()) {
      int found_at = -1;
      for (size_t o = 0; o < servable->outputs().size(); ++o) {
        if (servable->outputs()[o].name == name) found_at = static_cast<int>(o);
      }
      if (found_at < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("output_filter names '", name, "', which is not an output"));
      }
      wanted.push_back(found_at);
    }
    if (wanted.empty()) {
      for (size_t o = 0; o < servable->outputs().size(); ++o) wanted.push_back(o);
    }

    std::promise<absl::StatusOr<std::vector<Tensor>>> reply;
    std::future<absl::StatusOr<std::vector<Tensor>>> result = reply.get_future();
    batcher.Submit(std::move(inputs), rows, [&reply](absl::Status status,
                                                     std::vector<Tensor> outputs) {
      if (status.ok()) {
        reply.set_value(std::move(outputs));
      } else {
        reply.set_value(status);
      }
    });
    std::move(arrived).Invoke();
    absl::StatusOr<std::vector<Tensor>> outputs = result.get();
    if (!outputs.ok()) return outputs.status();
    FillSpec(*servable, response->mutable_model_spec());
    for (int o : wanted) {
      TensorToProto((*outputs)[o], &(*response->mutable_outputs())[servable->outputs()[o].name]);
    }
    return absl::OkStatus();
  }

  const ModelManager* models_;
  Metrics* metrics_;
};

class ModelService final : public tfs::ModelService::Service {
 public:
  explicit ModelService(const ModelManager* models) : models_(models) {}

  grpc::Status GetModelStatus(grpc::ServerContext*, const tfs::GetModelStatusRequest* request,
                              tfs::GetModelStatusResponse* response) override {
    absl::StatusOr<std::optional<int64_t>> version = VersionOf(request->model_spec());
    if (!version.ok()) return ToGrpc(version.status());
    absl::StatusOr<std::vector<VersionStatus>> statuses =
        models_->GetStatus(request->model_spec().name(), *version);
    if (!statuses.ok()) return ToGrpc(statuses.status());
    for (const VersionStatus& s : *statuses) {
      tfs::ModelVersionStatus* out = response->add_model_version_status();
      out->set_version(s.version);
      out->set_state(StateOf(s.state));
      out->mutable_status()->set_error_code(
          static_cast<tensorflow::error::Code>(s.status.code()));
      out->mutable_status()->set_error_message(std::string(s.status.message()));
    }
    return grpc::Status::OK;
  }

 private:
  const ModelManager* models_;
};

}  // namespace

struct GrpcServer::Impl {
  PredictionService prediction;
  ModelService model;
  std::unique_ptr<grpc::Server> server;
  std::mutex mu;
  bool shut_down = false;  // guarded by mu

  Impl(const ModelManager* models, Metrics* metrics) : prediction(models, metrics), model(models) {}
};

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(const Options& options,
                                                              const ModelManager* models,
                                                              Metrics* metrics) {
  auto impl = std::make_unique<Impl>(models, metrics);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::StrCat(options.address, ":", options.port),
                           grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
  builder.RegisterService(&impl->prediction);
  builder.RegisterService(&impl->model);
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", options.address, ":", options.port));
  }
  std::unique_ptr<GrpcServer> server(new GrpcServer(std::move(impl)));
  server->port_ = port;
  return server;
}

GrpcServer::~GrpcServer() { Shutdown(std::chrono::milliseconds(0)); }

void GrpcServer::Shutdown(std::chrono::milliseconds drain) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->shut_down) return;
    impl_->shut_down = true;
  }
  impl_->server->Shutdown(std::chrono::system_clock::now() + drain);
  impl_->server->Wait();
}

}  // namespace kiln::serve
