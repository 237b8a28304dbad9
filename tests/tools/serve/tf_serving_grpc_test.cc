// Tests of the generated TF Serving services (//proto:tf_serving_grpc): a stand-in server
// on an in-process channel answers calls made through the generated stubs and raw calls
// by TF Serving's method paths with the bytes its Python client serializes
// (tests/tools/serve/testdata/, from tools/serve/make_wire_goldens.py).
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/tensorflow_serving/apis/model_service.grpc.pb.h"
#include "proto/tensorflow_serving/apis/prediction_service.grpc.pb.h"
#include "tools/serve/tensor_proto_codec.h"

namespace kiln::serve {
namespace {

using ::testing::ElementsAre;
using tensorflow::serving::GetModelStatusRequest;
using tensorflow::serving::GetModelStatusResponse;
using tensorflow::serving::ModelService;
using tensorflow::serving::PredictionService;
using tensorflow::serving::PredictRequest;
using tensorflow::serving::PredictResponse;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Predict adds 2 to input "x" (f32[-1,3]) and returns it as "y"; GetModelMetadata is
// left to the generated base class (UNIMPLEMENTED).
class HalfPlusTwo final : public PredictionService::Service {
  grpc::Status Predict(grpc::ServerContext*, const PredictRequest* request,
                       PredictResponse* response) override {
    auto x = request->inputs().find("x");
    if (x == request->inputs().end()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no input 'x'");
    }
    absl::StatusOr<Tensor> t =
        TensorFromProto(x->second, TensorSpec{"x", DataType::kF32, {-1, 3}});
    if (!t.ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(t.status().message()));
    }
    for (int64_t i = 0; i < t->NumElements(); ++i) t->data<float>()[i] += 2.0f;
    *response->mutable_model_spec() = request->model_spec();
    TensorToProto(*t, &(*response->mutable_outputs())["y"]);
    return grpc::Status::OK;
  }
};

class OneVersion final : public ModelService::Service {
  grpc::Status GetModelStatus(grpc::ServerContext*, const GetModelStatusRequest* request,
                              GetModelStatusResponse* response) override {
    if (request->model_spec().name() != "half_plus_two") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such model");
    }
    tensorflow::serving::ModelVersionStatus* v = response->add_model_version_status();
    v->set_version(3);
    v->set_state(tensorflow::serving::ModelVersionStatus::AVAILABLE);
    v->mutable_status();
    return grpc::Status::OK;
  }
};

class TfServingGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&prediction_);
    builder.RegisterService(&models_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // Calls `method` with raw request bytes, as any gRPC client of TF Serving does.
  grpc::Status RawCall(const std::string& method, const std::string& request,
                       std::string* response) {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext context;
    grpc::Slice slice(request);
    grpc::ByteBuffer request_buffer(&slice, 1);
    grpc::ByteBuffer response_buffer;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &request_buffer, &response_buffer,
                   [&done](grpc::Status status) { done.set_value(std::move(status)); });
    grpc::Status status = done.get_future().get();
    std::vector<grpc::Slice> slices;
    response->clear();
    if (status.ok() && response_buffer.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        response->append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    return status;
  }

  HalfPlusTwo prediction_;
  OneVersion models_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(TfServingGrpcTest, ServiceNamesAreTfServings) {
  EXPECT_STREQ(PredictionService::service_full_name(), "tensorflow.serving.PredictionService");
  EXPECT_STREQ(ModelService::service_full_name(), "tensorflow.serving.ModelService");
}

TEST_F(TfServingGrpcTest, PredictThroughTheGeneratedStub) {
  std::unique_ptr<PredictionService::Stub> stub = PredictionService::NewStub(channel_);
  PredictRequest request;
  request.mutable_model_spec()->set_name("half_plus_two");
  TensorToProto(Tensor::F32(Shape{1, 3}, {1.0f, 2.0f, 3.0f}), &(*request.mutable_inputs())["x"]);
  PredictResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub->Predict(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.model_spec().name(), "half_plus_two");
  absl::StatusOr<Tensor> y =
      TensorFromProto(response.outputs().at("y"), TensorSpec{"y", DataType::kF32, {-1, 3}});
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_THAT(absl::MakeConstSpan(y->data<float>(), 3), ElementsAre(3.0f, 4.0f, 5.0f));

  // A codec error reaches the client with the input named.
  (*request.mutable_inputs())["x"].set_dtype(tensorflow::DT_INT32);
  grpc::ClientContext context2;
  status = stub->Predict(&context2, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "input 'x': dtype DT_INT32, the model expects DT_FLOAT");
}

TEST_F(TfServingGrpcTest, PredictByTfServingsPathWithItsClientsBytes) {
  std::string response_bytes;
  grpc::Status status =
      RawCall("/tensorflow.serving.PredictionService/Predict",
              ReadFile("tests/tools/serve/testdata/predict_request.pb"), &response_bytes);
  ASSERT_TRUE(status.ok()) << status.error_message();
  PredictResponse response;
  ASSERT_TRUE(response.ParseFromString(response_bytes));
  EXPECT_EQ(response.model_spec().version().value(), 3);
  absl::StatusOr<Tensor> y =
      TensorFromProto(response.outputs().at("y"), TensorSpec{"y", DataType::kF32, {-1, 3}});
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_THAT(absl::MakeConstSpan(y->data<float>(), 6),
              ElementsAre(3.0f, 4.5f, -1.0f, 2.5f, 102.0f, 1.75f));
}

TEST_F(TfServingGrpcTest, GetModelStatusByTfServingsPath) {
  GetModelStatusRequest request;
  request.mutable_model_spec()->set_name("half_plus_two");
  std::string response_bytes;
  grpc::Status status = RawCall("/tensorflow.serving.ModelService/GetModelStatus",
                                request.SerializeAsString(), &response_bytes);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // Byte for byte what TF Serving's Python classes serialize for this answer.
  EXPECT_EQ(response_bytes, ReadFile("tests/tools/serve/testdata/get_model_status_response.pb"));
}

TEST_F(TfServingGrpcTest, MethodsLeftOutAreUnimplemented) {
  std::string response_bytes;
  EXPECT_EQ(RawCall("/tensorflow.serving.PredictionService/Classify", "", &response_bytes)
                .error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(RawCall("/tensorflow.serving.PredictionService/GetModelMetadata", "",
                    &response_bytes)
                .error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace kiln::serve
