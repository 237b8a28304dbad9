// Tests of tools/serve/predict_json: TF Serving's REST predict bodies to tensors and back,
// for every dtype, both layouts, one and several inputs; every refusal with its message;
// hostile bodies (deep nesting, dims the body cannot back) and a body of 1M floats.
#include "tools/serve/predict_json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/half.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/error/en.h"
#include "rapidjson/reader.h"

namespace kiln::serve {
namespace {

using ::testing::HasSubstr;

TensorSpec Spec(std::string name, DataType dtype, std::vector<int64_t> dims) {
  TensorSpec spec;
  spec.name = std::move(name);
  spec.dtype = dtype;
  spec.dims = std::move(dims);
  return spec;
}

std::vector<double> Values(const Tensor& t) {
  std::vector<double> out;
  for (int64_t i = 0; i < t.NumElements(); ++i) out.push_back(t.GetAsDouble(i));
  return out;
}

// ParsePredictRequest, expected to succeed.
PredictRequest Parse(absl::string_view body, const std::vector<TensorSpec>& specs) {
  absl::StatusOr<PredictRequest> request = ParsePredictRequest(body, specs);
  EXPECT_TRUE(request.ok()) << request.status() << "\nbody: " << body;
  return request.ok() ? *std::move(request) : PredictRequest{};
}

// The InvalidArgument message ParsePredictRequest gives, or "accepted".
std::string ErrorOf(absl::string_view body, const std::vector<TensorSpec>& specs) {
  absl::StatusOr<PredictRequest> request = ParsePredictRequest(body, specs);
  if (request.ok()) return "accepted";
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument) << request.status();
  return std::string(request.status().message());
}

// WritePredictResponse's body, or "error: <message>".
std::string Write(PredictFormat format, const std::vector<TensorSpec>& specs,
                  const std::vector<Tensor>& outputs) {
  absl::StatusOr<std::string> body = WritePredictResponse(format, specs, outputs);
  if (!body.ok()) return absl::StrCat("error: ", body.status().message());
  return *body;
}

// The request body that sends `response`'s value back: {"predictions": V} becomes
// {"instances": V} and {"outputs": V} becomes {"inputs": V}.
std::string AsRequest(const std::string& response) {
  for (auto [from, to] :
       {std::pair<std::string, std::string>{"{\"predictions\":", "{\"instances\":"},
        {"{\"outputs\":", "{\"inputs\":"}}) {
    if (response.rfind(from, 0) == 0) return to + response.substr(from.size());
  }
  ADD_FAILURE() << "not a predict response: " << response;
  return response;
}

// Same dtype, shape and elements (NaNs equal to NaNs whatever their payload).
void ExpectSameTensor(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.dtype(), b.dtype());
  ASSERT_EQ(a.shape(), b.shape());
  const int64_t size = DataTypeSize(a.dtype());
  for (int64_t i = 0; i < a.NumElements(); ++i) {
    const bool nan_a = std::isnan(a.GetAsDouble(i));
    if (nan_a && std::isnan(b.GetAsDouble(i))) continue;
    ASSERT_EQ(std::memcmp(a.data<char>() + i * size, b.data<char>() + i * size, size), 0)
        << "element " << i << ": " << a.GetAsDouble(i) << " vs " << b.GetAsDouble(i);
  }
}

// Parses `body`, writes the tensors back as outputs in the same layout, expects exactly
// `response`, and parses that back to the same tensors.
void ExpectRoundTrip(absl::string_view body, const std::vector<TensorSpec>& specs,
                     absl::string_view response) {
  SCOPED_TRACE(body);
  PredictRequest request = Parse(body, specs);
  ASSERT_EQ(request.inputs.size(), specs.size());
  std::string written = Write(request.format, specs, request.inputs);
  EXPECT_EQ(written, response);
  PredictRequest again = Parse(AsRequest(written), specs);
  ASSERT_EQ(again.inputs.size(), specs.size());
  for (size_t i = 0; i < specs.size(); ++i) ExpectSameTensor(request.inputs[i], again.inputs[i]);
}

// The message of an {"error": "..."} body, read by a strict parser (UTF-8 checked), or
// "<invalid>". RapidJSON's reader in situ, without a Document: both the Document and the
// reader's copy stack do arithmetic on a null pointer in RapidJSON 1.1.0, which UBSan
// stops at under --config=asan.
std::string ReadErrorBody(const std::string& body) {
  struct Handler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Handler> {
    bool Default() { return false; }
    bool StartObject() { return objects++ == 0; }
    bool Key(const char* text, rapidjson::SizeType length, bool) {
      return absl::string_view(text, length) == "error" && !has_message;
    }
    bool String(const char* text, rapidjson::SizeType length, bool) {
      message.assign(text, length);
      has_message = true;
      return true;
    }
    bool EndObject(rapidjson::SizeType) { return has_message; }
    int objects = 0;
    bool has_message = false;
    std::string message;
  };
  std::string copy = body + std::string(3, '\0');  // see ParsePredictRequest
  rapidjson::InsituStringStream stream(copy.data());
  rapidjson::Reader reader;
  Handler handler;
  if (body.find('\0') != std::string::npos ||
      reader
          .Parse<rapidjson::kParseInsituFlag | rapidjson::kParseValidateEncodingFlag>(stream,
                                                                                      handler)
          .IsError()) {
    return "<invalid>";
  }
  return handler.message;
}

template <typename T>
Tensor Make(DataType dtype, const Shape& shape, const std::vector<T>& values) {
  Tensor t = Tensor::Allocate(dtype, shape).value();
  EXPECT_EQ(static_cast<int64_t>(values.size()), t.NumElements());
  std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t;
}

// ---------------------------------------------------------------------------------------
// Layouts: row and columnar, one and several inputs.

TEST(PredictJsonParseTest, ColumnarOneInput) {
  std::vector<TensorSpec> specs = {Spec("x", DataType::kF32, {2, 3})};
  PredictRequest request = Parse(R"({"inputs": [[1, 2, 3], [4.5, 5, 6]]})", specs);
  EXPECT_EQ(request.format, PredictFormat::kColumnar);
  EXPECT_EQ(request.batch, -1);  // no batched input
  EXPECT_EQ(request.signature_name, "");
  ASSERT_EQ(request.inputs.size(), 1u);
  EXPECT_EQ(request.inputs[0].dtype(), DataType::kF32);
  EXPECT_EQ(request.inputs[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values(request.inputs[0]), (std::vector<double>{1, 2, 3, 4.5, 5, 6}));

  // The same input named in an object.
  PredictRequest named = Parse(R"({"inputs": {"x": [[1, 2, 3], [4.5, 5, 6]]}})", specs);
  EXPECT_EQ(Values(named.inputs[0]), (std::vector<double>{1, 2, 3, 4.5, 5, 6}));
}

TEST(PredictJsonParseTest, RowOneInputStacksInstances) {
  std::vector<TensorSpec> specs = {Spec("x", DataType::kF32, {-1, 3})};
  PredictRequest request =
      Parse(R"({"signature_name": "serving_default", "instances": [[1, 2, 3], [4, 5, 6]]})", specs);
  EXPECT_EQ(request.format, PredictFormat::kRow);
  EXPECT_EQ(request.signature_name, "serving_default");
  EXPECT_EQ(request.batch, 2);
  ASSERT_EQ(request.inputs.size(), 1u);
  EXPECT_EQ(request.inputs[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values(request.inputs[0]), (std::vector<double>{1, 2, 3, 4, 5, 6}));

  // Instances may also name the one input.
  PredictRequest named = Parse(R"({"instances": [{"x": [1, 2, 3]}, [4, 5, 6]]})", specs);
  EXPECT_EQ(named.batch, 2);
  EXPECT_EQ(Values(named.inputs[0]), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(PredictJsonParseTest, RowSeveralInputs) {
  std::vector<TensorSpec> specs = {Spec("ids", DataType::kI64, {-1, 2}),
                                   Spec("mask", DataType::kBool, {-1}),
                                   Spec("scale", DataType::kF64, {-1, 1, 1})};
  // Keys in any order within an instance.
  PredictRequest request = Parse(R"({"instances": [
      {"ids": [1, 2], "mask": true, "scale": [[0.5]]},
      {"scale": [[-1]], "ids": [3, 4], "mask": false},
      {"mask": true, "scale": [[2e3]], "ids": [5, 6]}]})",
                                 specs);
  EXPECT_EQ(request.batch, 3);
  ASSERT_EQ(request.inputs.size(), 3u);
  EXPECT_EQ(request.inputs[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(Values(request.inputs[0]), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(request.inputs[1].shape(), (Shape{3}));
  EXPECT_EQ(Values(request.inputs[1]), (std::vector<double>{1, 0, 1}));
  EXPECT_EQ(request.inputs[2].shape(), (Shape{3, 1, 1}));
  EXPECT_EQ(Values(request.inputs[2]), (std::vector<double>{0.5, -1, 2000}));
}

TEST(PredictJsonParseTest, ColumnarSeveralInputs) {
  std::vector<TensorSpec> specs = {Spec("a", DataType::kI32, {-1, 2}),
                                   Spec("b", DataType::kF32, {3}), Spec("c", DataType::kU8, {-1})};
  PredictRequest request =
      Parse(R"({"inputs": {"b": [1, 2, 3], "c": [7, 8], "a": [[1, 2], [3, 4]]}})", specs);
  EXPECT_EQ(request.format, PredictFormat::kColumnar);
  EXPECT_EQ(request.batch, 2);
  EXPECT_EQ(request.inputs[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(request.inputs[1].shape(), (Shape{3}));
  EXPECT_EQ(request.inputs[2].shape(), (Shape{2}));
  EXPECT_EQ(Values(request.inputs[2]), (std::vector<double>{7, 8}));
}

TEST(PredictJsonParseTest, Scalars) {
  // A scalar input is a bare number in columnar form.
  std::vector<TensorSpec> scalar = {Spec("t", DataType::kF32, {})};
  PredictRequest request = Parse(R"({"inputs": 2.5})", scalar);
  EXPECT_EQ(request.inputs[0].shape(), Shape{});
  EXPECT_EQ(Values(request.inputs[0]), (std::vector<double>{2.5}));
  EXPECT_EQ(Values(Parse(R"({"inputs": {"t": -1}})", scalar).inputs[0]), (std::vector<double>{-1}));

  // Rows of a [-1] input are bare numbers.
  std::vector<TensorSpec> rows = {Spec("x", DataType::kI32, {-1})};
  PredictRequest stacked = Parse(R"({"instances": [1, 2, 3]})", rows);
  EXPECT_EQ(stacked.batch, 3);
  EXPECT_EQ(stacked.inputs[0].shape(), Shape{3});
  EXPECT_EQ(Values(stacked.inputs[0]), (std::vector<double>{1, 2, 3}));
}

TEST(PredictJsonParseTest, UnbatchedModelTakesRowsMatchingItsFirstDimension) {
  std::vector<TensorSpec> specs = {Spec("x", DataType::kF32, {2, 3})};
  PredictRequest request = Parse(R"({"instances": [[1, 2, 3], [4, 5, 6]]})", specs);
  EXPECT_EQ(request.batch, 2);
  EXPECT_EQ(request.inputs[0].shape(), (Shape{2, 3}));
  EXPECT_THAT(ErrorOf(R"({"instances": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]})", specs),
              HasSubstr("input 'x': the model takes 2 rows (its first dimension), but the "
                        "request has 3 instances"));
}

TEST(PredictJsonParseTest, EmptyBatchAndZeroSizedDims) {
  std::vector<TensorSpec> specs = {Spec("x", DataType::kF32, {-1, 3})};
  PredictRequest empty = Parse(R"({"inputs": []})", specs);
  EXPECT_EQ(empty.batch, 0);
  EXPECT_EQ(empty.inputs[0].shape(), (Shape{0, 3}));
  EXPECT_EQ(Write(PredictFormat::kColumnar, specs, empty.inputs), R"({"outputs":[]})");

  std::vector<TensorSpec> zero = {Spec("z", DataType::kI8, {-1, 0})};
  PredictRequest rows = Parse(R"({"instances": [[], [], []]})", zero);
  EXPECT_EQ(rows.inputs[0].shape(), (Shape{3, 0}));
  EXPECT_EQ(Write(PredictFormat::kRow, zero, rows.inputs), R"({"predictions":[[],[],[]]})");
}

// ---------------------------------------------------------------------------------------
// Every dtype: parse, write back exactly, parse again to the same bits.

TEST(PredictJsonRoundTripTest, EveryDtypeColumnar) {
  struct Case {
    DataType dtype;
    const char* values;  // as the writer prints them
  };
  const Case cases[] = {
      {DataType::kF32,
       "[0.1,-0.0,1.0,3.4028235e+38,1e-45,1.1754944e-38,16777216.0,123456792.0,NaN,"
       "Infinity,-Infinity]"},
      {DataType::kF64,
       "[0.1,0.30000000000000004,1.7976931348623157e+308,5e-324,-2.5,1e+100,NaN,-Infinity]"},
      {DataType::kF16,
       "[0.1,65500.0,-2.0,6e-08,0.3333,-0.0,Infinity]"},  // 65500: the largest half, 65504
      {DataType::kBF16, "[0.1,1.0,-3.0,3.39e+38,1e+10,NaN]"},
      {DataType::kI8, "[-128,127,0]"},
      {DataType::kU8, "[0,255,7]"},
      {DataType::kI32, "[-2147483648,2147483647,0]"},
      {DataType::kI64, "[-9223372036854775808,9223372036854775807,9007199254740993]"},
      {DataType::kBool, "[true,false,true]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(DataTypeName(c.dtype));
    std::vector<TensorSpec> specs = {Spec("x", c.dtype, {-1})};
    ExpectRoundTrip(absl::StrCat(R"({"inputs":)", c.values, "}"), specs,
                    absl::StrCat(R"({"outputs":)", c.values, "}"));
    ExpectRoundTrip(absl::StrCat(R"({"instances":)", c.values, "}"), specs,
                    absl::StrCat(R"({"predictions":)", c.values, "}"));
  }
}

TEST(PredictJsonRoundTripTest, ConvertedValues) {
  // The f16 nearest 0.1 is 0.0999755859375; bf16's is 0.10009765625.
  std::vector<TensorSpec> f16 = {Spec("x", DataType::kF16, {-1})};
  EXPECT_EQ(Values(Parse(R"({"inputs": [0.1, 1e-9, -70000e-1]})", f16).inputs[0]),
            (std::vector<double>{0.0999755859375, 0.0, -7000.0}));
  std::vector<TensorSpec> bf16 = {Spec("x", DataType::kBF16, {-1})};
  EXPECT_EQ(Values(Parse(R"({"inputs": [0.1, 257]})", bf16).inputs[0]),
            (std::vector<double>{0.10009765625, 256.0}));
  // Integral values in any spelling fit integer types.
  std::vector<TensorSpec> i64 = {Spec("x", DataType::kI64, {-1})};
  EXPECT_EQ(Values(Parse(R"({"inputs": [2.0, 1e2, -0, -3.0e0, 0.5e1]})", i64).inputs[0]),
            (std::vector<double>{2, 100, 0, -3, 5}));
  // Below the smallest subnormal: a signed zero, not an error.
  std::vector<TensorSpec> f64 = {Spec("x", DataType::kF64, {-1})};
  PredictRequest tiny = Parse(R"({"inputs": [1e-400, -1e-400]})", f64);
  EXPECT_EQ(Write(PredictFormat::kColumnar, f64, tiny.inputs), R"({"outputs":[0.0,-0.0]})");
  // f32 rounds the decimal once, not through f64: 1.00000005960464477539062500000001 is
  // just above the midpoint of two floats, which an f64 reading would round onto.
  std::vector<TensorSpec> f32 = {Spec("x", DataType::kF32, {})};
  PredictRequest nearest = Parse(R"({"inputs": 1.00000005960464477539062500000001})", f32);
  EXPECT_EQ(nearest.inputs[0].data<float>()[0], std::nextafter(1.0f, 2.0f));
}

TEST(PredictJsonRoundTripTest, NanAndInfinityBothWays) {
  std::vector<TensorSpec> specs = {Spec("x", DataType::kF32, {-1})};
  PredictRequest request =
      Parse(R"({"inputs": [NaN, Infinity, -Infinity, Inf, -Inf, -NaN]})", specs);
  const float* v = request.inputs[0].data<float>();
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], std::numeric_limits<float>::infinity());
  EXPECT_EQ(v[2], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(v[3], std::numeric_limits<float>::infinity());
  EXPECT_EQ(v[4], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(v[5]));
  EXPECT_EQ(Write(PredictFormat::kColumnar, specs, request.inputs),
            R"({"outputs":[NaN,Infinity,-Infinity,Infinity,-Infinity,NaN]})");
  // Integers have no NaN.
  EXPECT_THAT(ErrorOf(R"({"inputs": [NaN]})", {Spec("x", DataType::kI32, {-1})}),
              HasSubstr("input 'x': value NaN is not an integer for i32"));
}

TEST(PredictJsonRoundTripTest, ShortestFloatText) {
  std::vector<TensorSpec> f32 = {Spec("y", DataType::kF32, {-1})};
  EXPECT_EQ(Write(PredictFormat::kColumnar, f32,
                  {Tensor::F32(Shape{6}, {0.1f, 1.0f, 1e10f, -0.0f, 0.3f, 1.0f / 3.0f})}),
            R"({"outputs":[0.1,1.0,1e+10,-0.0,0.3,0.33333334]})");
  std::vector<TensorSpec> f64 = {Spec("y", DataType::kF64, {-1})};
  EXPECT_EQ(Write(PredictFormat::kColumnar, f64,
                  {Make<double>(DataType::kF64, Shape{3}, {0.1, 1.0 / 3.0, 100.0})}),
            R"({"outputs":[0.1,0.3333333333333333,100.0]})");
}

// Every f16 and bf16 bit pattern is written in text that reads back to the same bits.
TEST(PredictJsonRoundTripTest, EveryHalfBitPattern) {
  for (DataType dtype : {DataType::kF16, DataType::kBF16}) {
    SCOPED_TRACE(DataTypeName(dtype));
    std::vector<uint16_t> bits(65536);
    for (int i = 0; i < 65536; ++i) bits[i] = static_cast<uint16_t>(i);
    std::vector<TensorSpec> specs = {Spec("h", dtype, {-1})};
    std::vector<Tensor> outputs = {Make<uint16_t>(dtype, Shape{65536}, bits)};
    std::string body = Write(PredictFormat::kColumnar, specs, outputs);
    PredictRequest back = Parse(AsRequest(body), specs);
    ASSERT_EQ(back.inputs.size(), 1u);
    ExpectSameTensor(outputs[0], back.inputs[0]);
  }
}

// Random f32 and f64 bit patterns survive the text.
TEST(PredictJsonRoundTripTest, RandomFloatBitPatterns) {
  std::mt19937_64 random(7);
  std::vector<uint32_t> f32_bits(100000);
  for (uint32_t& b : f32_bits) b = static_cast<uint32_t>(random());
  std::vector<uint64_t> f64_bits(100000);
  for (uint64_t& b : f64_bits) b = random();
  std::vector<TensorSpec> specs = {Spec("a", DataType::kF32, {-1}),
                                   Spec("b", DataType::kF64, {-1})};
  std::vector<Tensor> outputs = {Make<uint32_t>(DataType::kF32, Shape{100000}, f32_bits),
                                 Make<uint64_t>(DataType::kF64, Shape{100000}, f64_bits)};
  for (PredictFormat format : {PredictFormat::kRow, PredictFormat::kColumnar}) {
    PredictRequest back = Parse(AsRequest(Write(format, specs, outputs)), specs);
    ASSERT_EQ(back.inputs.size(), 2u);
    ExpectSameTensor(outputs[0], back.inputs[0]);
    ExpectSameTensor(outputs[1], back.inputs[1]);
  }
}

TEST(PredictJsonRoundTripTest, SeveralInputsBothLayouts) {
  std::vector<TensorSpec> specs = {Spec("a", DataType::kI8, {-1, 2}),
                                   Spec("b", DataType::kBool, {-1})};
  ExpectRoundTrip(R"({"instances": [{"a": [1, -2], "b": true}, {"b": false, "a": [3, 4]}]})", specs,
                  R"({"predictions":[{"a":[1,-2],"b":true},{"a":[3,4],"b":false}]})");
  ExpectRoundTrip(R"({"inputs": {"b": [true, false], "a": [[1, -2], [3, 4]]}})", specs,
                  R"({"outputs":{"a":[[1,-2],[3,4]],"b":[true,false]}})");
}

// ---------------------------------------------------------------------------------------
// The reply.

TEST(PredictJsonWriteTest, RowAndColumnarReplies) {
  std::vector<TensorSpec> one = {Spec("y", DataType::kF32, {-1, 2})};
  std::vector<Tensor> y = {Tensor::F32(Shape{2, 2}, {1, 2, 3, 4.5})};
  EXPECT_EQ(Write(PredictFormat::kRow, one, y), R"({"predictions":[[1.0,2.0],[3.0,4.5]]})");
  EXPECT_EQ(Write(PredictFormat::kColumnar, one, y), R"({"outputs":[[1.0,2.0],[3.0,4.5]]})");

  std::vector<TensorSpec> two = {Spec("label", DataType::kI64, {-1}),
                                 Spec("scores", DataType::kF32, {-1, 2})};
  std::vector<Tensor> outputs = {Tensor::I64(Shape{2}, {7, 9}),
                                 Tensor::F32(Shape{2, 2}, {0.25f, 0.75f, 1, 0})};
  EXPECT_EQ(Write(PredictFormat::kRow, two, outputs),
            R"({"predictions":[{"label":7,"scores":[0.25,0.75]},)"
            R"({"label":9,"scores":[1.0,0.0]}]})");
  EXPECT_EQ(Write(PredictFormat::kColumnar, two, outputs),
            R"({"outputs":{"label":[7,9],"scores":[[0.25,0.75],[1.0,0.0]]}})");

  // A scalar output is a bare number in columnar form.
  std::vector<TensorSpec> loss = {Spec("loss", DataType::kF64, {})};
  EXPECT_EQ(Write(PredictFormat::kColumnar, loss, {Make<double>(DataType::kF64, Shape{}, {0.5})}),
            R"({"outputs":0.5})");
  // Nested empty dimensions keep their brackets.
  std::vector<TensorSpec> empty = {Spec("e", DataType::kI32, {2, 0, 3})};
  EXPECT_EQ(Write(PredictFormat::kColumnar, empty, {Tensor::I32(Shape{2, 0, 3}, {})}),
            R"({"outputs":[[],[]]})");
  // Names are escaped.
  std::vector<TensorSpec> quoted = {Spec("a\"b", DataType::kBool, {}),
                                    Spec("c", DataType::kBool, {})};
  EXPECT_EQ(Write(PredictFormat::kColumnar, quoted,
                  {Tensor::Bool(Shape{}, {true}), Tensor::Bool(Shape{}, {false})}),
            R"({"outputs":{"a\"b":true,"c":false}})");
}

TEST(PredictJsonWriteTest, Refusals) {
  std::vector<TensorSpec> two = {Spec("a", DataType::kF32, {-1}), Spec("b", DataType::kF32, {-1})};
  EXPECT_EQ(Write(PredictFormat::kRow, two,
                  {Tensor::F32(Shape{2}, {1, 2}), Tensor::F32(Shape{3}, {1, 2, 3})}),
            "error: output 'b' has 3 rows, but output 'a' has 2");
  EXPECT_EQ(Write(PredictFormat::kRow, two, {Tensor::F32(Shape{1}, {1}), Tensor::ScalarF32(2)}),
            "error: output 'b' is a scalar, but a 'predictions' reply needs a batch dimension");
  EXPECT_EQ(Write(PredictFormat::kColumnar, two, {Tensor::F32(Shape{1}, {1})}),
            "error: predict response: 1 outputs for 2 specs");
  EXPECT_EQ(Write(PredictFormat::kColumnar, two,
                  {Tensor::F32(Shape{1}, {1}), Tensor::I32(Shape{1}, {1})}),
            "error: output 'b' is i32, but the model declares f32");
  EXPECT_EQ(Write(PredictFormat::kColumnar, two, {Tensor::F32(Shape{1}, {1}), Tensor()}),
            "error: output 'b': no tensor");
}

TEST(PredictJsonWriteTest, ErrorBodyIsAlwaysValidJson) {
  EXPECT_EQ(WriteErrorBody("input 'x': bad \"value\"\n\\"),
            R"({"error":"input 'x': bad \"value\"\n\\"})");
  EXPECT_EQ(WriteErrorBody(std::string("nul\0tab\t", 8)), R"({"error":"nul\u0000tab\t"})");
  // Bytes that are not UTF-8 become U+FFFD; valid multi-byte characters stay.
  EXPECT_EQ(
      WriteErrorBody("caf\xC3\xA9 \xFF \xC3 \xED\xA0\x80"),
      "{\"error\":\"caf\xC3\xA9 \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"}");
  EXPECT_EQ(ReadErrorBody(WriteErrorBody("\xF0\x9F\x98\x80 \xF4\x90\x01\"\\")),
            "\xF0\x9F\x98\x80 \xEF\xBF\xBD\xEF\xBF\xBD\x01\"\\");
}

// ---------------------------------------------------------------------------------------
// Refusals, each with its reason.

TEST(PredictJsonErrorTest, RequestShape) {
  std::vector<TensorSpec> x = {Spec("x", DataType::kF32, {-1})};
  EXPECT_EQ(ErrorOf(R"({"instances": [1], "inputs": [1]})", x),
            "'instances' and 'inputs' are both present");
  EXPECT_EQ(ErrorOf(R"({"inputs": [1], "instances": [1]})", x),
            "'instances' and 'inputs' are both present");
  EXPECT_EQ(ErrorOf(R"({"signature_name": "s"})", x),
            "the request has neither 'instances' nor 'inputs'");
  EXPECT_EQ(ErrorOf(R"({"inputs": [1], "inputs": [2]})", x), "'inputs' appears twice");
  EXPECT_EQ(ErrorOf(R"({"signature_name": 1, "inputs": [1]})", x),
            "'signature_name' must be a string, got 1");
  EXPECT_EQ(ErrorOf(R"({"signature_name": "a", "signature_name": "b"})", x),
            "'signature_name' appears twice");
  EXPECT_EQ(ErrorOf("[1]", x), "the request body must be a JSON object, got a list");
  EXPECT_EQ(ErrorOf("7", x), "the request body must be a JSON object, got 7");
  EXPECT_EQ(ErrorOf(R"({"instance": [1]})", x),
            "unknown field 'instance' (a predict request has 'signature_name', and "
            "'instances' or 'inputs')");
  EXPECT_EQ(ErrorOf(R"({"instances": 5})", x), "'instances' must be a list, got 5");
  EXPECT_EQ(ErrorOf(R"({"instances": {"x": [1]}})", x),
            "'instances' must be a list, got an object");
  EXPECT_EQ(ErrorOf(R"({"instances": []})", x),
            "'instances' is empty: it needs at least one instance");
}

TEST(PredictJsonErrorTest, MalformedJson) {
  std::vector<TensorSpec> x = {Spec("x", DataType::kF32, {-1})};
  EXPECT_EQ(ErrorOf(R"({"inputs": [1, 2,, 3]})", x), "malformed JSON at offset 17: Invalid value.");
  EXPECT_EQ(ErrorOf("", x), "malformed JSON at offset 0: The document is empty.");
  EXPECT_THAT(ErrorOf(R"({"inputs": [1]} [2])", x), HasSubstr("malformed JSON at offset 16"));
  EXPECT_EQ(ErrorOf(std::string("{\"inputs\": [1]}\0[2]", 19), x),
            "malformed JSON at offset 15: a NUL byte");
  EXPECT_THAT(ErrorOf("{\"inp\xFFuts\": [1]}", x), HasSubstr("malformed JSON at offset"));
  // Ends inside a multi-byte character: the parser's UTF-8 check must not read past it.
  EXPECT_EQ(ErrorOf("{\"signature_name\": \"\xF0", x),
            "malformed JSON at offset 20: Invalid encoding in string.");
  // A bare value is RapidJSON's to read, and it refuses 1e400 itself (in a list, it is a
  // value out of range: PredictJsonErrorTest.NumbersOutOfRange).
  EXPECT_THAT(ErrorOf(R"({"inputs": 1e400})", {Spec("s", DataType::kF32, {})}),
              HasSubstr("malformed JSON at offset 11"));
  EXPECT_THAT(ErrorOf(R"({"inputs": [nan]})", x), HasSubstr("malformed JSON"));
}

TEST(PredictJsonErrorTest, InputNames) {
  std::vector<TensorSpec> x = {Spec("x", DataType::kF32, {-1})};
  std::vector<TensorSpec> xy = {Spec("x", DataType::kF32, {-1}), Spec("y", DataType::kI32, {-1})};
  EXPECT_EQ(ErrorOf(R"({"inputs": {"x": [1], "y": [2]}})", x),
            "unknown input 'y' (the model's inputs: x)");
  EXPECT_EQ(ErrorOf(R"({"inputs": {"x": [1]}})", xy), "missing input 'y'");
  EXPECT_EQ(ErrorOf(R"({"inputs": {}})", xy), "missing inputs 'x', 'y'");
  EXPECT_EQ(ErrorOf(R"({"inputs": {"x": [1], "x": [2]}})", x), "input 'x' appears twice");
  EXPECT_EQ(ErrorOf(R"({"instances": [{"x": 1, "y": 2}, {"x": 1}]})", xy),
            "instances[1]: missing input 'y'");
  EXPECT_EQ(ErrorOf(R"({"instances": [{"x": 1, "y": 2, "z": 3}]})", xy),
            "instances[0]: unknown input 'z' (the model's inputs: x, y)");
  EXPECT_EQ(ErrorOf(R"({"instances": [[1]]})", xy),
            "instances[0]: expected an object naming the model's inputs (x, y), got a list");
  EXPECT_EQ(ErrorOf(R"({"instances": [{"x": 1, "y": 2}, 3]})", xy),
            "instances[1]: expected an object naming the model's inputs (x, y), got 3");
  EXPECT_EQ(ErrorOf(R"({"inputs": [1]})", xy),
            "'inputs': expected an object naming the model's inputs (x, y), got a list");
  EXPECT_EQ(ErrorOf(R"({"inputs": [1]})", {}), "'inputs': the model has no inputs, got a list");
}

TEST(PredictJsonErrorTest, ValueShapes) {
  std::vector<TensorSpec> rows = {Spec("x", DataType::kF32, {-1, 3})};
  EXPECT_EQ(ErrorOf(R"({"instances": [[1, 2, 3], [1, 2]]})", rows),
            "instances[1]: input 'x': expected 3 values in dimension 1, got 2");
  EXPECT_EQ(ErrorOf(R"({"instances": [[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3], [1]]})", rows),
            "instances[4]: input 'x': expected 3 values in dimension 1, got 1");
  EXPECT_EQ(ErrorOf(R"({"inputs": [[1, 2, 3], [1, 2, 3, 4]]})", rows),
            "input 'x': expected 3 values in dimension 1, got 4");
  // Too deep, too shallow.
  EXPECT_EQ(ErrorOf(R"({"inputs": [[[1], 2, 3]]})", rows),
            "input 'x': expected a number for an element of shape [-1,3], got a list");
  EXPECT_EQ(ErrorOf(R"({"inputs": [1, 2, 3]})", rows),
            "input 'x': expected a list for dimension 1 of shape [-1,3], got 1");
  EXPECT_EQ(ErrorOf(R"({"inputs": 1})", rows),
            "input 'x': expected a list for dimension 0 of shape [-1,3], got 1");
  EXPECT_EQ(ErrorOf(R"({"instances": [1]})", rows),
            "instances[0]: input 'x': expected a list for dimension 1 of shape [-1,3], got 1");
  // A fixed-size input must match exactly, in every dimension.
  std::vector<TensorSpec> fixed = {Spec("m", DataType::kF32, {2, 2})};
  EXPECT_EQ(ErrorOf(R"({"inputs": [[1, 2], [3, 4], [5, 6]]})", fixed),
            "input 'm': expected 2 values in dimension 0, got 3");
  // A scalar input cannot be stacked into rows.
  EXPECT_EQ(ErrorOf(R"({"instances": [1, 2]})", {Spec("s", DataType::kF32, {})}),
            "input 's' is a scalar, which 'instances' cannot stack into a batch; send it in "
            "'inputs'");
  // Batched inputs agree on the batch size.
  std::vector<TensorSpec> ab = {Spec("a", DataType::kF32, {-1}), Spec("b", DataType::kF32, {-1})};
  EXPECT_EQ(ErrorOf(R"({"inputs": {"a": [1, 2], "b": [1]}})", ab),
            "input 'b': batch size 1 differs from input 'a''s 2");
}

TEST(PredictJsonErrorTest, ValueKinds) {
  std::vector<TensorSpec> f32 = {Spec("x", DataType::kF32, {-1})};
  EXPECT_EQ(ErrorOf(R"({"inputs": ["1"]})", f32),
            "input 'x': expected a number for an element of shape [-1], got a string");
  EXPECT_EQ(ErrorOf(R"({"inputs": [null]})", f32),
            "input 'x': expected a number for an element of shape [-1], got null");
  EXPECT_EQ(ErrorOf(R"({"inputs": [true]})", f32),
            "input 'x': expected a number for an element of shape [-1], got true");
  EXPECT_EQ(ErrorOf(R"({"inputs": [{"v": 1}]})", f32),
            "input 'x': expected a number for an element of shape [-1], got an object");
  EXPECT_EQ(ErrorOf(R"({"inputs": [{}]})", f32),
            "input 'x': expected a number for an element of shape [-1], got an object");
  EXPECT_EQ(ErrorOf(R"({"inputs": {"x": {"y": [1]}}})", f32),
            "input 'x': expected a list for dimension 0 of shape [-1], got an object");
  std::vector<TensorSpec> flag = {Spec("f", DataType::kBool, {-1})};
  EXPECT_EQ(ErrorOf(R"({"inputs": [true, 1]})", flag),
            "input 'f': expected true or false for an element of shape [-1], got 1");
  EXPECT_EQ(ErrorOf(R"({"instances": ["yes"]})", flag),
            "instances[0]: input 'f': expected true or false for an element of shape [-1], "
            "got a string");
}

TEST(PredictJsonErrorTest, BytesValuesAreRefused) {
  std::vector<TensorSpec> x = {Spec("x", DataType::kU8, {-1})};
  const char kMessage[] =
      "{\"b64\": ...} values are for bytes tensors, and Kiln has no string dtype";
  EXPECT_THAT(ErrorOf(R"({"instances": [{"b64": "aGk="}]})", x), HasSubstr(kMessage));
  EXPECT_THAT(ErrorOf(R"({"inputs": {"b64": "aGk="}})", x), HasSubstr(kMessage));
  EXPECT_EQ(ErrorOf(R"({"inputs": [{"b64": "aGk="}]})", x),
            absl::StrCat("input 'x': ", kMessage, " (the input is u8)"));
  EXPECT_THAT(ErrorOf(R"({"inputs": {"x": {"b64": "aGk="}}})", x),
              HasSubstr(absl::StrCat("input 'x': ", kMessage)));
}

TEST(PredictJsonErrorTest, NumbersOutOfRange) {
  auto error = [](DataType dtype, absl::string_view value) {
    return ErrorOf(absl::StrCat(R"({"inputs": [)", value, "]}"), {Spec("x", dtype, {-1})});
  };
  EXPECT_EQ(error(DataType::kI64, "3.5"), "input 'x': value 3.5 is not an integer for i64");
  EXPECT_EQ(error(DataType::kI32, "1e-400"), "input 'x': value 1e-400 is not an integer for i32");
  EXPECT_EQ(error(DataType::kI8, "300"), "input 'x': value 300 out of range for i8");
  EXPECT_EQ(error(DataType::kI8, "-129"), "input 'x': value -129 out of range for i8");
  EXPECT_EQ(error(DataType::kU8, "-1"), "input 'x': value -1 out of range for u8");
  EXPECT_EQ(error(DataType::kU8, "256.0"), "input 'x': value 256.0 out of range for u8");
  EXPECT_EQ(error(DataType::kI32, "1e10"), "input 'x': value 1e10 out of range for i32");
  EXPECT_EQ(error(DataType::kI32, "Infinity"), "input 'x': value Infinity out of range for i32");
  EXPECT_EQ(error(DataType::kI64, "9223372036854775808"),
            "input 'x': value 9223372036854775808 out of range for i64");
  EXPECT_EQ(error(DataType::kI64, "9.3e18"), "input 'x': value 9.3e18 out of range for i64");
  EXPECT_EQ(error(DataType::kI64, "-9223372036854775809"),
            "input 'x': value -9223372036854775809 out of range for i64");
  EXPECT_EQ(error(DataType::kF32, "1e39"), "input 'x': value 1e39 out of range for f32");
  EXPECT_EQ(error(DataType::kF32, "1e400"), "input 'x': value 1e400 out of range for f32");
  EXPECT_EQ(error(DataType::kF32, "3.4028236e38"),
            "input 'x': value 3.4028236e38 out of range for f32");
  EXPECT_EQ(error(DataType::kF16, "70000"), "input 'x': value 70000 out of range for f16");
  EXPECT_EQ(error(DataType::kBF16, "-3.4e38"), "input 'x': value -3.4e38 out of range for bf16");
  EXPECT_EQ(error(DataType::kF64, "1.0000e309"),
            "input 'x': value 1.0000e309 out of range for f64");
  // A long number is quoted by its start.
  EXPECT_EQ(error(DataType::kI8, std::string(100, '9')),
            absl::StrCat("input 'x': value ", std::string(40, '9'), "... out of range for i8"));
  // The largest and smallest values fit.
  EXPECT_EQ(error(DataType::kI64, "-9223372036854775808"), "accepted");
  EXPECT_EQ(error(DataType::kI64, "-9.223372036854775808e18"), "accepted");
  EXPECT_EQ(error(DataType::kF32, "3.4028235e38"), "accepted");
  EXPECT_EQ(error(DataType::kF16, "65519"), "accepted");  // rounds down to 65504
}

TEST(PredictJsonErrorTest, BadSpecsAreInternalErrors) {
  absl::StatusOr<PredictRequest> no_dtype =
      ParsePredictRequest(R"({"inputs": [1]})", {Spec("x", DataType::kInvalid, {-1})});
  EXPECT_EQ(no_dtype.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(no_dtype.status().message()), HasSubstr("model input 'x'"));
  absl::StatusOr<PredictRequest> twice = ParsePredictRequest(
      R"({"inputs": [1]})", {Spec("x", DataType::kF32, {-1}), Spec("x", DataType::kF32, {-1})});
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kInternal);
  absl::StatusOr<PredictRequest> too_many_dims = ParsePredictRequest(
      R"({"inputs": [1]})", {Spec("x", DataType::kF32, std::vector<int64_t>(65, 1))});
  EXPECT_EQ(too_many_dims.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(too_many_dims.status().message()),
              HasSubstr("65 dimensions, more than 64"));
  absl::StatusOr<PredictRequest> inner_unknown =
      ParsePredictRequest(R"({"inputs": [1]})", {Spec("x", DataType::kF32, {2, -1})});
  EXPECT_EQ(inner_unknown.status().code(), absl::StatusCode::kInternal);
}

// ---------------------------------------------------------------------------------------
// Numbers in innermost lists, which the codec reads from the body itself (ReadJsonNumber)
// rather than through RapidJSON's events and from_chars.

// The float std::from_chars reads from `text`, which must be a number in range.
float FromChars(const std::string& text) {
  float value = 0.0f;
  std::from_chars_result result = std::from_chars(text.data(), text.data() + text.size(), value);
  EXPECT_EQ(result.ec, std::errc()) << text;
  EXPECT_EQ(result.ptr, text.data() + text.size()) << text;
  return value;
}

// Parses `tokens` as one f32 list and expects each element bit for bit as from_chars
// reads its token.
void ExpectReadAsFromChars(const std::vector<std::string>& tokens) {
  PredictRequest request = Parse(absl::StrCat(R"({"inputs": [)", absl::StrJoin(tokens, ", "), "]}"),
                                 {Spec("x", DataType::kF32, {-1})});
  ASSERT_EQ(request.inputs.size(), 1u);
  ASSERT_EQ(request.inputs[0].NumElements(), static_cast<int64_t>(tokens.size()));
  const float* values = request.inputs[0].data<float>();
  for (size_t i = 0; i < tokens.size(); ++i) {
    const float want = FromChars(tokens[i]);
    uint32_t got_bits;
    uint32_t want_bits;
    std::memcpy(&got_bits, &values[i], sizeof(got_bits));
    std::memcpy(&want_bits, &want, sizeof(want_bits));
    ASSERT_EQ(got_bits, want_bits) << tokens[i] << ": " << values[i] << " vs " << want;
  }
}

std::string Printed(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

TEST(PredictJsonNumberTest, FloatsReadExactlyAsFromChars) {
  std::mt19937 rng(7);
  std::vector<std::string> tokens;
  // Random finite floats as JSON writers print them: Python's float64 repr of a float32
  // (17 digits), the float's own 9 digits, fewer digits, exponents.
  std::uniform_int_distribution<uint32_t> bits(0, 0xFFFFFFFFu);
  for (int i = 0; i < 20000; ++i) {
    uint32_t b = bits(rng);
    float f;
    std::memcpy(&f, &b, sizeof(f));
    if (!std::isfinite(f)) continue;
    for (const char* format : {"%.17g", "%.9g", "%.6g", "%.3e", "%.12f"}) {
      tokens.push_back(Printed(format, f));
    }
  }
  // Random decimals: 1 to 24 digits, the point anywhere, exponents from -50 to 40.
  std::uniform_int_distribution<int> length(1, 24);
  std::uniform_int_distribution<int> digit(0, 9);
  std::uniform_int_distribution<int> exponent(-50, 40);
  for (int i = 0; i < 50000; ++i) {
    std::string digits;
    const int n = length(rng);
    for (int d = 0; d < n; ++d) digits += static_cast<char>('0' + digit(rng));
    std::string integer = digits.substr(0, std::uniform_int_distribution<int>(0, n)(rng));
    std::string fraction = digits.substr(integer.size());
    while (integer.size() > 1 && integer[0] == '0') integer.erase(0, 1);  // JSON: no leading 0s
    if (integer.empty()) integer = "0";
    std::string token = (i % 2 ? "-" : "") + integer;
    if (!fraction.empty()) token += "." + fraction;
    if (i % 3 == 0) token += absl::StrCat(i % 6 ? "e" : "E", exponent(rng));
    float value = 0.0f;
    if (std::from_chars(token.data(), token.data() + token.size(), value).ec != std::errc()) {
      continue;  // out of range: refused, tested elsewhere
    }
    tokens.push_back(token);
  }
  // Near and at the points halfway between two floats, where rounding twice (decimal to
  // double, double to float) could go wrong: the exact midpoint and its neighbours at 17
  // digits, above and below.
  for (int i = 0; i < 20000; ++i) {
    uint32_t b = bits(rng) & 0x7FFFFFFFu;
    float f;
    std::memcpy(&f, &b, sizeof(f));
    const float next = std::nextafter(f, std::numeric_limits<float>::infinity());
    if (!std::isfinite(next)) continue;
    const double mid = (static_cast<double>(f) + static_cast<double>(next)) / 2;  // exact
    for (const char* format : {"%.17g", "%.16g", "%.18g", "%.25g", "%.40g"}) {
      tokens.push_back(Printed(format, mid));
      tokens.push_back(Printed(format, std::nextafter(mid, 0.0)));
      tokens.push_back(Printed(format, std::nextafter(mid, 1e300)));
    }
  }
  ExpectReadAsFromChars(tokens);
}

TEST(PredictJsonNumberTest, HalfwayCasesRoundToEven) {
  auto read = [](const std::string& token) {
    PredictRequest request = Parse(absl::StrCat(R"({"inputs": [)", token, "]}"),
                                   {Spec("x", DataType::kF32, {-1})});
    return request.inputs.empty() ? std::nanf("") : request.inputs[0].data<float>()[0];
  };
  // 2^24 + 1 lies halfway between 2^24 and 2^24 + 2: ties go to the even 2^24, in every
  // spelling; a hair above goes up.
  for (const char* token : {"16777217", "16777217.0", "1.6777217e7", "167772170e-1",
                            "0.000000016777217e15"}) {
    EXPECT_EQ(read(token), 16777216.0f) << token;
  }
  EXPECT_EQ(read("16777219"), 16777220.0f);
  EXPECT_EQ(read("16777217.000001"), 16777218.0f);
  EXPECT_EQ(read("16777217.00000000000000000001"), 16777218.0f);  // past 18 digits
  EXPECT_EQ(read("16777216.999999"), 16777216.0f);
  // Just below a power of two the gap halves: 2^24 - 0.5 is halfway and goes to 2^24.
  EXPECT_EQ(read("16777215.5"), 16777216.0f);
  EXPECT_EQ(read("16777215.4999999"), 16777215.0f);
  // Zeros keep their sign at any exponent; the smallest values go to from_chars' path.
  EXPECT_TRUE(std::signbit(read("-0")));
  EXPECT_TRUE(std::signbit(read("-0.000e5")));
  EXPECT_FALSE(std::signbit(read("0e-999")));
  EXPECT_EQ(read("1e-45"), std::numeric_limits<float>::denorm_min());
  EXPECT_EQ(read("1e-46"), 0.0f);
  EXPECT_EQ(read("3.4028235e38"), std::numeric_limits<float>::max());
  EXPECT_EQ(read("340282356779733661637539395458142568447"), std::numeric_limits<float>::max());
}

// What RapidJSON alone says of `body` ("malformed JSON at offset N: ..."), or "accepted".
std::string RapidJsonVerdict(const std::string& body) {
  std::string copy = body + std::string(8, '\0');
  rapidjson::InsituStringStream stream(copy.data());
  rapidjson::Reader reader;
  rapidjson::BaseReaderHandler<> handler;
  rapidjson::ParseResult result =
      reader.Parse<rapidjson::kParseInsituFlag | rapidjson::kParseNumbersAsStringsFlag |
                   rapidjson::kParseNanAndInfFlag | rapidjson::kParseValidateEncodingFlag>(
          stream, handler);
  if (!result.IsError()) return "accepted";
  return absl::StrCat("malformed JSON at offset ", result.Offset(), ": ",
                      rapidjson::GetParseError_En(result.Code()));
}

TEST(PredictJsonNumberTest, SyntaxErrorsAsTheParserWordsThem) {
  std::vector<TensorSpec> x = {Spec("x", DataType::kF32, {-1})};
  std::vector<TensorSpec> rows = {Spec("x", DataType::kF32, {-1, 2})};
  // Each list malformed where the codec reads it itself, or where it hands over to the
  // parser: the same offset and words as the parser's own.
  for (std::string list : {"[1,]", "[1, ]", "[1 2]", "[1,,2]", "[01]", "[1.]", "[1.e5]", "[-]",
                           "[-a]", "[1e]", "[1e+]", "[.5]", "[1, 2", "[1, ", "[1x]", "[1,\n2 3]",
                           "[+1]", "[1, -]", "[0x10]", "[1, 2}", "[1, NaN,]", "[1, Infinit]",
                           "[1,\t2,\r\n]", "[1, 2,]]"}) {
    const std::string body = absl::StrCat(R"({"inputs": )", list, "}");
    const std::string want = RapidJsonVerdict(body);
    ASSERT_NE(want, "accepted") << body;
    EXPECT_EQ(ErrorOf(body, x), want) << body;
    const std::string instances = absl::StrCat(R"({"instances": [[1, 2], )", list, "]}");
    EXPECT_EQ(ErrorOf(instances, rows), RapidJsonVerdict(instances)) << instances;
  }
  // Whitespace of every kind between numbers, and numbers the parser reads (NaN,
  // Infinity) mixed with those read directly.
  PredictRequest request =
      Parse("{\"inputs\": [ 1 ,\n2\t,\r3,NaN, 4.5e1, -Infinity ,-0.25E-1\n]}", x);
  ASSERT_EQ(request.inputs.size(), 1u);
  std::vector<double> values = Values(request.inputs[0]);
  ASSERT_EQ(values.size(), 7u);
  EXPECT_EQ(values[0], 1);
  EXPECT_EQ(values[2], 3);
  EXPECT_TRUE(std::isnan(values[3]));
  EXPECT_EQ(values[4], 45);
  EXPECT_EQ(values[5], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(values[6], -0.025f);
  // A list or string among the numbers is refused by kind, as before.
  EXPECT_EQ(ErrorOf(R"({"inputs": [1, [2]]})", x),
            "input 'x': expected a number for an element of shape [-1], got a list");
  EXPECT_EQ(ErrorOf(R"({"inputs": [1, "2"]})", x),
            "input 'x': expected a number for an element of shape [-1], got a string");
  EXPECT_EQ(ErrorOf(R"({"instances": [[1, 2], [3, 4, 5]]})", rows),
            "instances[1]: input 'x': expected 2 values in dimension 1, got 3");
}

// ---------------------------------------------------------------------------------------
// Hostile bodies.

TEST(PredictJsonHostileTest, DeepNestingIsRefusedAtTheRank) {
  const std::string deep(100000, '[');
  std::vector<TensorSpec> x = {Spec("x", DataType::kF32, {-1, 2})};
  EXPECT_EQ(ErrorOf(absl::StrCat(R"({"inputs": )", deep), x),
            "input 'x': expected a number for an element of shape [-1,2], got a list");
  EXPECT_EQ(ErrorOf(absl::StrCat(R"({"instances": )", deep), x),
            "instances[0]: input 'x': expected a number for an element of shape [-1,2], got a "
            "list");
  EXPECT_EQ(ErrorOf(absl::StrCat(R"({"signature_name": )", deep), x),
            "'signature_name' must be a string, got a list");
  EXPECT_EQ(ErrorOf(deep, x), "the request body must be a JSON object, got a list");
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += R"({"x": )";
  EXPECT_EQ(ErrorOf(objects, x),
            "unknown field 'x' (a predict request has 'signature_name', and 'instances' or "
            "'inputs')");
  EXPECT_EQ(ErrorOf(absl::StrCat(R"({"inputs": )", objects), x),
            "input 'x': expected a list for dimension 0 of shape [-1,2], got an object");
  // The deepest input a model may have, 64 dimensions, nests 64 lists and no more.
  std::vector<TensorSpec> deepest = {Spec("d", DataType::kI8, std::vector<int64_t>(64, 1))};
  PredictRequest request =
      Parse(absl::StrCat(R"({"inputs": )", std::string(64, '['), "5", std::string(64, ']'), "}"),
            deepest);
  ASSERT_EQ(request.inputs.size(), 1u);
  EXPECT_EQ(Values(request.inputs[0]), (std::vector<double>{5}));
  EXPECT_THAT(ErrorOf(absl::StrCat(R"({"inputs": )", deep), deepest), HasSubstr("got a list"));
  // Closed nesting too: the parser never sees past the first list too deep.
  EXPECT_THAT(ErrorOf(absl::StrCat(R"({"inputs": )", deep, std::string(100000, ']'), "}"), x),
              HasSubstr("got a list"));
}

TEST(PredictJsonHostileTest, DimsTheBodyCannotBackAllocateNothing) {
  // 2^40 elements (4 TiB of f32) claimed by the spec; the body holds one number.
  std::vector<TensorSpec> huge = {Spec("x", DataType::kF32, {int64_t{1} << 20, int64_t{1} << 20})};
  EXPECT_EQ(ErrorOf(R"({"inputs": [[1]]})", huge),
            "input 'x': expected 1048576 values in dimension 1, got 1");
  EXPECT_EQ(ErrorOf(R"({"instances": [[1]]})", huge),
            "instances[0]: input 'x': expected 1048576 values in dimension 1, got 1");
  std::vector<TensorSpec> wide = {Spec("x", DataType::kI8, {-1, int64_t{1} << 40})};
  EXPECT_EQ(ErrorOf(R"({"instances": [[1, 2]]})", wide),
            "instances[0]: input 'x': expected 1099511627776 values in dimension 1, got 2");
  // Many empty rows of a zero-sized input: shape [100000, 0], no elements.
  std::string rows = R"({"instances": [[])";
  for (int i = 1; i < 100000; ++i) rows += ",[]";
  rows += "]}";
  PredictRequest request = Parse(rows, {Spec("z", DataType::kF32, {-1, 0})});
  ASSERT_EQ(request.inputs.size(), 1u);
  EXPECT_EQ(request.inputs[0].shape(), (Shape{100000, 0}));
}

TEST(PredictJsonHostileTest, MillionFloats) {
  constexpr int kCount = 1000000;
  std::string values;
  values.reserve(kCount * 12);
  for (int i = 0; i < kCount; ++i) absl::StrAppend(&values, i == 0 ? "" : ",", i, ".25");
  std::vector<TensorSpec> flat = {Spec("x", DataType::kF32, {-1})};
  PredictRequest request = Parse(absl::StrCat(R"({"inputs": [)", values, "]}"), flat);
  ASSERT_EQ(request.inputs.size(), 1u);
  ASSERT_EQ(request.inputs[0].shape(), Shape{kCount});
  const float* v = request.inputs[0].data<float>();
  EXPECT_EQ(v[0], 0.25f);
  EXPECT_EQ(v[1], 1.25f);
  EXPECT_EQ(v[123456], 123456.25f);
  EXPECT_EQ(v[kCount - 1], 999999.25f);

  // The same numbers as 1000 instances of 1000, and back through the reply.
  std::string rows = R"({"instances": [)";
  for (int r = 0; r < 1000; ++r) {
    absl::StrAppend(&rows, r == 0 ? "[" : ",[");
    for (int c = 0; c < 1000; ++c) absl::StrAppend(&rows, c == 0 ? "" : ",", r * 1000 + c, ".25");
    rows += "]";
  }
  rows += "]}";
  std::vector<TensorSpec> matrix = {Spec("x", DataType::kF32, {-1, 1000})};
  PredictRequest stacked = Parse(rows, matrix);
  ASSERT_EQ(stacked.inputs.size(), 1u);
  EXPECT_EQ(stacked.batch, 1000);
  EXPECT_EQ(std::memcmp(stacked.inputs[0].raw_data(), v, kCount * sizeof(float)), 0);
  std::string reply = Write(PredictFormat::kRow, matrix, stacked.inputs);
  PredictRequest back = Parse(AsRequest(reply), matrix);
  ASSERT_EQ(back.inputs.size(), 1u);
  ExpectSameTensor(stacked.inputs[0], back.inputs[0]);
}

}  // namespace
}  // namespace kiln::serve
