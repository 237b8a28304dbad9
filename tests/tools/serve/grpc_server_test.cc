// TF Serving's gRPC API served by kiln-serve's GrpcServer over a real loopback channel,
// called through the generated stubs as TF Serving's clients call it: Predict (typed
// fields and tensor_content, output_filter), GetModelMetadata, GetModelStatus, and each
// error with its gRPC code and a message naming the input or model.
#include "tools/serve/grpc_server.h"

#include <grpcpp/grpcpp.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/models.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/tensorflow_serving/apis/get_model_metadata.pb.h"
#include "proto/tensorflow_serving/apis/model_service.grpc.pb.h"
#include "proto/tensorflow_serving/apis/prediction_service.grpc.pb.h"
#include "runtime/compile_artifact.h"
#include "runtime/default_provider.h"
#include "tests/util/op_test_util.h"
#include "tools/serve/tensor_proto_codec.h"

namespace kiln::serve {
namespace {

namespace fs = std::filesystem;
namespace tfs = ::tensorflow::serving;
using ::kiln::testing::RandomTensor;
using ::testing::HasSubstr;

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/grpc_models");
    fs::remove_all(dir_);
    examples::MlpConfig config;
    config.in = 12;
    config.hidden = 20;
    CompileOptions options;
    options.kernel_provider = LibraryKernelProvider();
    absl::StatusOr<ArtifactContents> contents =
        CompileArtifact(examples::BuildMlp(config).value(), options, {1, 4}, "mlp");
    ASSERT_TRUE(contents.ok()) << contents.status();
    fs::create_directories(fs::path(dir_) / "mlp" / "1");
    ASSERT_TRUE(WriteArtifact(*contents, dir_ + "/mlp/1/model.kiln").ok());
    ModelManager::Options manager;
    manager.model_dir = dir_;
    manager.metrics = &metrics_;
    models_ = std::make_unique<ModelManager>(manager);
    models_->Poll();
    GrpcServer::Options server;
    server.address = "127.0.0.1";
    server.port = 0;
    absl::StatusOr<std::unique_ptr<GrpcServer>> started =
        GrpcServer::Start(server, models_.get(), &metrics_);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    predict_ = tfs::PredictionService::NewStub(channel_);
    status_ = tfs::ModelService::NewStub(channel_);
  }

  tfs::PredictRequest Request(const Tensor& x) {
    tfs::PredictRequest request;
    request.mutable_model_spec()->set_name("mlp");
    TensorToProto(x, &(*request.mutable_inputs())["x"]);
    return request;
  }

  grpc::Status Predict(const tfs::PredictRequest& request, tfs::PredictResponse* response) {
    grpc::ClientContext context;
    return predict_->Predict(&context, request, response);
  }

  Metrics metrics_;
  std::string dir_;
  std::unique_ptr<ModelManager> models_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<tfs::PredictionService::Stub> predict_;
  std::unique_ptr<tfs::ModelService::Stub> status_;
};

TEST_F(GrpcServerTest, PredictMatchesTheArtifact) {
  std::shared_ptr<Servable> servable = models_->Find("mlp", std::nullopt).value();
  for (int64_t rows : {1, 3, 4}) {
    Tensor x = RandomTensor(DataType::kF32, Shape({rows, 12}), rows);
    tfs::PredictResponse response;
    grpc::Status status = Predict(Request(x), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.model_spec().name(), "mlp");
    EXPECT_EQ(response.model_spec().version().value(), 1);
    EXPECT_EQ(response.model_spec().signature_name(), "serving_default");
    ASSERT_EQ(response.outputs().count("y"), 1u);
    TensorSpec y = servable->outputs()[0];
    absl::StatusOr<Tensor> got = TensorFromProto(response.outputs().at("y"), y);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->shape(), Shape({rows, 10}));
    // The same rows alone through the compiled batch that holds them (zero padded).
    const int64_t padded = servable->model().BatchFor(rows);
    absl::StatusOr<Tensor> input = Tensor::Allocate(DataType::kF32, Shape({padded, 12}));
    std::memset(input->data<float>(), 0, input->ByteSize());
    std::memcpy(input->data<float>(), x.raw_data(), x.ByteSize());
    absl::StatusOr<std::vector<Tensor>> want = servable->model().ForBatch(padded)->Run({*input});
    ASSERT_TRUE(want.ok());
    for (int64_t i = 0; i < rows * 10; ++i) {
      EXPECT_NEAR(got->data<float>()[i], (*want)[0].data<float>()[i], 1e-6f) << i;
    }
  }
  // Typed fields as tf.make_tensor_proto writes small tensors, and one fill value.
  tfs::PredictRequest typed;
  typed.mutable_model_spec()->set_name("mlp");
  typed.mutable_model_spec()->mutable_version()->set_value(1);
  typed.mutable_model_spec()->set_signature_name("serving_default");
  tensorflow::TensorProto& x = (*typed.mutable_inputs())["x"];
  x.set_dtype(tensorflow::DT_FLOAT);
  x.mutable_tensor_shape()->add_dim()->set_size(2);
  x.mutable_tensor_shape()->add_dim()->set_size(12);
  x.add_float_val(0.25f);
  typed.add_output_filter("y");
  tfs::PredictResponse response;
  grpc::Status status = Predict(typed, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.outputs().at("y").tensor_shape().dim(0).size(), 2);
  EXPECT_THAT(metrics_.PrometheusText(),
              HasSubstr("kiln_requests_total{model=\"mlp\",version=\"1\",api=\"grpc\",code=\"200\"} 4"));
}

TEST_F(GrpcServerTest, MetadataAndStatus) {
  tfs::GetModelMetadataRequest request;
  request.mutable_model_spec()->set_name("mlp");
  request.add_metadata_field("signature_def");
  tfs::GetModelMetadataResponse response;
  grpc::ClientContext context;
  grpc::Status status = predict_->GetModelMetadata(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.model_spec().version().value(), 1);
  tfs::SignatureDefMap signatures;
  ASSERT_TRUE(response.metadata().at("signature_def").UnpackTo(&signatures));
  const tensorflow::SignatureDef& def = signatures.signature_def().at("serving_default");
  EXPECT_EQ(def.method_name(), "tensorflow/serving/predict");
  EXPECT_EQ(def.inputs().at("x").dtype(), tensorflow::DT_FLOAT);
  ASSERT_EQ(def.inputs().at("x").tensor_shape().dim_size(), 2);
  EXPECT_EQ(def.inputs().at("x").tensor_shape().dim(0).size(), -1);
  EXPECT_EQ(def.outputs().at("y").tensor_shape().dim(1).size(), 10);

  tfs::GetModelStatusRequest status_request;
  status_request.mutable_model_spec()->set_name("mlp");
  tfs::GetModelStatusResponse status_response;
  grpc::ClientContext status_context;
  status = status_->GetModelStatus(&status_context, status_request, &status_response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(status_response.model_version_status_size(), 1);
  EXPECT_EQ(status_response.model_version_status(0).version(), 1);
  EXPECT_EQ(status_response.model_version_status(0).state(), tfs::ModelVersionStatus::AVAILABLE);
  EXPECT_EQ(status_response.model_version_status(0).status().error_code(), 0);
}

TEST_F(GrpcServerTest, ErrorsCarryTfServingCodes) {
  struct Case {
    std::string what;
    tfs::PredictRequest request;
    grpc::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases;
  Tensor x = RandomTensor(DataType::kF32, Shape({1, 12}), 0);
  {
    Case c{"unknown model", Request(x), grpc::StatusCode::NOT_FOUND,
           "Servable not found for request: Latest(other)"};
    c.request.mutable_model_spec()->set_name("other");
    cases.push_back(c);
  }
  {
    Case c{"unknown version", Request(x), grpc::StatusCode::NOT_FOUND, "Specific(mlp, 7)"};
    c.request.mutable_model_spec()->mutable_version()->set_value(7);
    cases.push_back(c);
  }
  {
    Case c{"label", Request(x), grpc::StatusCode::INVALID_ARGUMENT, "version labels"};
    c.request.mutable_model_spec()->set_version_label("stable");
    cases.push_back(c);
  }
  {
    Case c{"wrong dtype", Request(RandomTensor(DataType::kF64, Shape({1, 12}), 0)),
           grpc::StatusCode::INVALID_ARGUMENT, "input 'x': dtype DT_DOUBLE"};
    cases.push_back(c);
  }
  {
    Case c{"wrong shape", Request(RandomTensor(DataType::kF32, Shape({1, 11}), 0)),
           grpc::StatusCode::INVALID_ARGUMENT, "input 'x'"};
    cases.push_back(c);
  }
  {
    Case c{"too many rows", Request(RandomTensor(DataType::kF32, Shape({5, 12}), 0)),
           grpc::StatusCode::INVALID_ARGUMENT, "takes 1 to 4 per request"};
    cases.push_back(c);
  }
  {
    // A fill value claiming 2^40 rows is refused before anything is allocated.
    Case c{"huge fill", Request(x), grpc::StatusCode::INVALID_ARGUMENT, "rows"};
    tensorflow::TensorProto& t = (*c.request.mutable_inputs())["x"];
    t.Clear();
    t.set_dtype(tensorflow::DT_FLOAT);
    t.mutable_tensor_shape()->add_dim()->set_size(int64_t{1} << 40);
    t.mutable_tensor_shape()->add_dim()->set_size(12);
    t.add_float_val(1);
    cases.push_back(c);
  }
  {
    Case c{"unknown input", Request(x), grpc::StatusCode::INVALID_ARGUMENT, "unknown input 'z'"};
    (*c.request.mutable_inputs())["z"] = c.request.inputs().at("x");
    cases.push_back(c);
  }
  {
    Case c{"missing input", Request(x), grpc::StatusCode::INVALID_ARGUMENT, "missing input 'x'"};
    c.request.mutable_inputs()->clear();
    cases.push_back(c);
  }
  {
    Case c{"signature", Request(x), grpc::StatusCode::INVALID_ARGUMENT, "\"classify\""};
    c.request.mutable_model_spec()->set_signature_name("classify");
    cases.push_back(c);
  }
  {
    Case c{"output filter", Request(x), grpc::StatusCode::INVALID_ARGUMENT, "'nope'"};
    c.request.add_output_filter("nope");
    cases.push_back(c);
  }
  for (const Case& c : cases) {
    tfs::PredictResponse response;
    grpc::Status status = Predict(c.request, &response);
    EXPECT_EQ(status.error_code(), c.code) << c.what << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message)) << c.what;
  }
  // Still serving.
  tfs::PredictResponse response;
  EXPECT_TRUE(Predict(Request(x), &response).ok());
}

TEST_F(GrpcServerTest, ConcurrentCallsAndShutdownDrains) {
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 20; ++i) {
        tfs::PredictResponse response;
        if (Predict(Request(RandomTensor(DataType::kF32, Shape({1 + (c + i) % 4, 12}), i)),
                    &response)
                .ok()) {
          ++ok;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(ok.load(), 160);
  server_->Shutdown(std::chrono::milliseconds(1000));
  tfs::PredictResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  EXPECT_FALSE(predict_->Predict(&context, Request(RandomTensor(DataType::kF32, Shape({1, 12}), 0)),
                                 &response)
                   .ok());
}

}  // namespace
}  // namespace kiln::serve
