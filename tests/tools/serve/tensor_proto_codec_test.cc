// Tests of tools/serve/tensor_proto_codec: every dtype both ways through tensor_content and
// the typed fields, the single-value fill, every error; and wire compatibility with
// TensorFlow Serving: goldens serialized by its own Python classes
// (tools/serve/make_wire_goldens.py) parse with Kiln's generated classes, decode, and
// serialize back to the same bytes, and Kiln builds the same bytes from scratch.
#include "tools/serve/tensor_proto_codec.h"

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/half.h"
#include "gmock/gmock.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "gtest/gtest.h"
#include "proto/tensorflow/core/protobuf/meta_graph.pb.h"
#include "proto/tensorflow_serving/apis/get_model_metadata.pb.h"
#include "proto/tensorflow_serving/apis/get_model_status.pb.h"
#include "proto/tensorflow_serving/apis/predict.pb.h"

namespace kiln::serve {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::Each;
using ::testing::HasSubstr;

const char kTestdata[] = "tests/tools/serve/testdata/";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Deterministic serialization (fields by number, map entries by key), as the goldens
// were written.
std::string Serialize(const google::protobuf::MessageLite& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

tensorflow::TensorProto Proto(tensorflow::DataType dtype, std::vector<int64_t> dims) {
  tensorflow::TensorProto proto;
  proto.set_dtype(dtype);
  for (int64_t d : dims) proto.mutable_tensor_shape()->add_dim()->set_size(d);
  return proto;
}

TensorSpec Spec(DataType dtype, std::vector<int64_t> dims, std::string name = "x") {
  return TensorSpec{std::move(name), dtype, std::move(dims)};
}

std::vector<double> Doubles(const Tensor& t) {
  std::vector<double> out;
  for (int64_t i = 0; i < t.NumElements(); ++i) out.push_back(t.GetAsDouble(i));
  return out;
}

std::vector<int64_t> Ints(const Tensor& t) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < t.NumElements(); ++i) out.push_back(t.GetAsInt64(i));
  return out;
}

std::string Error(const tensorflow::TensorProto& proto, const TensorSpec& spec) {
  absl::StatusOr<Tensor> t = TensorFromProto(proto, spec);
  if (t.ok()) return "OK";
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << t.status();
  return std::string(t.status().message());
}

// ---------------------------------------------------------------------------------------
// Dtypes.

struct DtypeCase {
  DataType kiln;
  tensorflow::DataType tf;
};

const DtypeCase kDtypes[] = {
    {DataType::kF32, tensorflow::DT_FLOAT},     {DataType::kF16, tensorflow::DT_HALF},
    {DataType::kBF16, tensorflow::DT_BFLOAT16}, {DataType::kF64, tensorflow::DT_DOUBLE},
    {DataType::kI8, tensorflow::DT_INT8},       {DataType::kI32, tensorflow::DT_INT32},
    {DataType::kI64, tensorflow::DT_INT64},     {DataType::kBool, tensorflow::DT_BOOL},
    {DataType::kU8, tensorflow::DT_UINT8},
};

TEST(TensorProtoCodecTest, DataTypesMapBothWays) {
  for (const DtypeCase& c : kDtypes) {
    EXPECT_EQ(ToTfDataType(c.kiln), c.tf) << DataTypeName(c.kiln);
    absl::StatusOr<DataType> back = FromTfDataType(c.tf);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, c.kiln);
  }
  EXPECT_EQ(ToTfDataType(DataType::kInvalid), tensorflow::DT_INVALID);
  // Exactly TensorFlow's values (types.proto), which the wire carries.
  EXPECT_EQ(tensorflow::DT_FLOAT, 1);
  EXPECT_EQ(tensorflow::DT_DOUBLE, 2);
  EXPECT_EQ(tensorflow::DT_INT32, 3);
  EXPECT_EQ(tensorflow::DT_UINT8, 4);
  EXPECT_EQ(tensorflow::DT_INT8, 6);
  EXPECT_EQ(tensorflow::DT_STRING, 7);
  EXPECT_EQ(tensorflow::DT_INT64, 9);
  EXPECT_EQ(tensorflow::DT_BOOL, 10);
  EXPECT_EQ(tensorflow::DT_BFLOAT16, 14);
  EXPECT_EQ(tensorflow::DT_HALF, 19);
}

TEST(TensorProtoCodecTest, DataTypesKilnLacksAreErrors) {
  EXPECT_EQ(FromTfDataType(tensorflow::DT_STRING).status().message(),
            "DT_STRING is not supported");
  EXPECT_EQ(FromTfDataType(tensorflow::DT_INT16).status().message(),
            "DT_INT16 is not supported");
  EXPECT_EQ(FromTfDataType(tensorflow::DT_INVALID).status().message(),
            "DT_INVALID is not supported");
  EXPECT_EQ(FromTfDataType(77).status().message(), "unknown dtype enum 77");
  EXPECT_EQ(FromTfDataType(-1).status().message(), "unknown dtype enum -1");
  EXPECT_EQ(TfDataTypeName(tensorflow::DT_HALF), "DT_HALF");
  EXPECT_EQ(TfDataTypeName(77), "dtype enum 77");
}

// ---------------------------------------------------------------------------------------
// tensor_content, both ways.

// Six distinct values of each dtype, exact in it.
Tensor SixValues(DataType dtype) {
  Tensor t = Tensor::Allocate(dtype, Shape{2, 3}).value();
  const double floats[] = {0.5, -1.25, 2.0, 3.5, -4.0, 1024.0};
  const int64_t ints[] = {-128, -1, 0, 1, 100, 127};
  const int64_t bytes[] = {0, 1, 2, 128, 200, 255};
  const int64_t bools[] = {1, 0, 1, 1, 0, 0};
  for (int i = 0; i < 6; ++i) {
    if (IsFloating(dtype)) t.SetFromDouble(i, floats[i]);
    if (dtype == DataType::kU8) t.SetFromInt64(i, bytes[i]);
    if (dtype == DataType::kBool) t.SetFromInt64(i, bools[i]);
    if (dtype == DataType::kI8) t.SetFromInt64(i, ints[i]);
    if (dtype == DataType::kI32) t.SetFromInt64(i, ints[i] * 1000003);
    if (dtype == DataType::kI64) t.SetFromInt64(i, ints[i] * (int64_t{1} << 40));
  }
  return t;
}

TEST(TensorProtoCodecTest, EveryDtypeRoundTripsThroughTensorContent) {
  for (const DtypeCase& c : kDtypes) {
    SCOPED_TRACE(DataTypeName(c.kiln));
    Tensor t = SixValues(c.kiln);
    tensorflow::TensorProto proto;
    TensorToProto(t, &proto);
    EXPECT_EQ(proto.dtype(), c.tf);
    ASSERT_EQ(proto.tensor_shape().dim_size(), 2);
    EXPECT_EQ(proto.tensor_shape().dim(0).size(), 2);
    EXPECT_EQ(proto.tensor_shape().dim(1).size(), 3);
    EXPECT_FALSE(proto.tensor_shape().unknown_rank());
    EXPECT_EQ(proto.tensor_content(),
              std::string(reinterpret_cast<const char*>(t.bytes().data()), t.bytes().size()));
    EXPECT_EQ(proto.tensor_content().size(), 6 * DataTypeSize(c.kiln));

    absl::StatusOr<Tensor> back = TensorFromProto(proto, Spec(c.kiln, {2, 3}));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->dtype(), c.kiln);
    EXPECT_EQ(back->shape(), (Shape{2, 3}));
    EXPECT_EQ(Ints(*back), Ints(t));
    EXPECT_EQ(Doubles(*back), Doubles(t));
  }
}

TEST(TensorProtoCodecTest, TensorContentIsLittleEndian) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_INT32, {2});
  proto.set_tensor_content(std::string("\x01\x00\x00\x00\x00\x01\x00\x80", 8));
  absl::StatusOr<Tensor> t = TensorFromProto(proto, Spec(DataType::kI32, {2}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(Ints(*t), ElementsAre(1, static_cast<int32_t>(0x80000100u)));
}

TEST(TensorProtoCodecTest, ToProtoReplacesWhatWasThere) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_FLOAT, {7, 7});
  proto.add_float_val(3.0f);
  proto.set_version_number(1);
  TensorToProto(Tensor::I64(Shape{1}, {42}), &proto);
  EXPECT_EQ(proto.dtype(), tensorflow::DT_INT64);
  EXPECT_EQ(proto.tensor_shape().dim_size(), 1);
  EXPECT_EQ(proto.float_val_size(), 0);
  EXPECT_EQ(proto.version_number(), 0);
  EXPECT_EQ(proto.tensor_content(), std::string("\x2a\0\0\0\0\0\0\0", 8));
}

TEST(TensorProtoCodecTest, ToProtoOfScalarEmptyAndInvalidTensors) {
  tensorflow::TensorProto proto;
  TensorToProto(Tensor::ScalarF32(2.0f), &proto);
  EXPECT_TRUE(proto.has_tensor_shape());
  EXPECT_EQ(proto.tensor_shape().dim_size(), 0);
  EXPECT_EQ(proto.tensor_content().size(), 4u);

  TensorToProto(Tensor::Allocate(DataType::kF32, Shape{0, 3}).value(), &proto);
  EXPECT_THAT(proto.tensor_shape().dim(), ElementsAre(::testing::_, ::testing::_));
  EXPECT_EQ(proto.tensor_shape().dim(0).size(), 0);
  EXPECT_TRUE(proto.tensor_content().empty());
  absl::StatusOr<Tensor> back = TensorFromProto(proto, Spec(DataType::kF32, {-1, 3}));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->shape(), (Shape{0, 3}));

  TensorToProto(Tensor(), &proto);
  EXPECT_EQ(proto.dtype(), tensorflow::DT_INVALID);
  EXPECT_FALSE(proto.has_tensor_shape());
  EXPECT_TRUE(proto.tensor_content().empty());
}

// ---------------------------------------------------------------------------------------
// Typed fields.

TEST(TensorProtoCodecTest, FloatVal) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_FLOAT, {2, 2});
  for (float v : {1.0f, -2.5f, 3.25f, 1e30f}) proto.add_float_val(v);
  absl::StatusOr<Tensor> t = TensorFromProto(proto, Spec(DataType::kF32, {2, 2}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(absl::MakeConstSpan(t->data<float>(), 4), ElementsAre(1.0f, -2.5f, 3.25f, 1e30f));
}

TEST(TensorProtoCodecTest, DoubleVal) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_DOUBLE, {3});
  for (double v : {0.1, -1e300, 5.0}) proto.add_double_val(v);
  absl::StatusOr<Tensor> t = TensorFromProto(proto, Spec(DataType::kF64, {3}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(absl::MakeConstSpan(t->data<double>(), 3), ElementsAre(0.1, -1e300, 5.0));
}

TEST(TensorProtoCodecTest, HalfValHoldsF16Bits) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_HALF, {4});
  // 1.0, -2.0, 65504 (largest f16), +inf.
  for (int v : {0x3c00, 0xc000, 0x7bff, 0x7c00}) proto.add_half_val(v);
  absl::StatusOr<Tensor> t = TensorFromProto(proto, Spec(DataType::kF16, {4}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(absl::MakeConstSpan(t->data<uint16_t>(), 4),
              ElementsAre(0x3c00, 0xc000, 0x7bff, 0x7c00));
  EXPECT_THAT(Doubles(*t), ElementsAre(1.0, -2.0, 65504.0, INFINITY));
}

TEST(TensorProtoCodecTest, HalfValHoldsBf16Bits) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_BFLOAT16, {3});
  // 1.0, -2.0, 1.5 (bf16 is the top half of an f32).
  for (int v : {0x3f80, 0xc000, 0x3fc0}) proto.add_half_val(v);
  absl::StatusOr<Tensor> t = TensorFromProto(proto, Spec(DataType::kBF16, {3}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(Doubles(*t), ElementsAre(1.0, -2.0, 1.5));
}

TEST(TensorProtoCodecTest, IntValHoldsI32I8AndU8) {
  tensorflow::TensorProto i32 = Proto(tensorflow::DT_INT32, {3});
  for (int v : {INT32_MIN, -1, INT32_MAX}) i32.add_int_val(v);
  absl::StatusOr<Tensor> t = TensorFromProto(i32, Spec(DataType::kI32, {3}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(Ints(*t), ElementsAre(INT32_MIN, -1, INT32_MAX));

  tensorflow::TensorProto i8 = Proto(tensorflow::DT_INT8, {3});
  for (int v : {-128, 0, 127}) i8.add_int_val(v);
  t = TensorFromProto(i8, Spec(DataType::kI8, {3}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(Ints(*t), ElementsAre(-128, 0, 127));

  tensorflow::TensorProto u8 = Proto(tensorflow::DT_UINT8, {3});
  for (int v : {0, 128, 255}) u8.add_int_val(v);
  t = TensorFromProto(u8, Spec(DataType::kU8, {3}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(Ints(*t), ElementsAre(0, 128, 255));
}

TEST(TensorProtoCodecTest, Int64Val) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_INT64, {3});
  for (int64_t v : {INT64_MIN, int64_t{1} << 53 | 1, INT64_MAX}) proto.add_int64_val(v);
  absl::StatusOr<Tensor> t = TensorFromProto(proto, Spec(DataType::kI64, {3}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(Ints(*t), ElementsAre(INT64_MIN, int64_t{1} << 53 | 1, INT64_MAX));
}

TEST(TensorProtoCodecTest, BoolVal) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_BOOL, {4});
  for (bool v : {true, false, false, true}) proto.add_bool_val(v);
  absl::StatusOr<Tensor> t = TensorFromProto(proto, Spec(DataType::kBool, {4}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(absl::MakeConstSpan(t->data<uint8_t>(), 4), ElementsAre(1, 0, 0, 1));
}

TEST(TensorProtoCodecTest, ScalarFromOneTypedValue) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_FLOAT, {});
  proto.add_float_val(4.5f);
  absl::StatusOr<Tensor> t = TensorFromProto(proto, Spec(DataType::kF32, {}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->shape().rank(), 0);
  EXPECT_THAT(Doubles(*t), ElementsAre(4.5));
}

// TensorFlow's version-0 rule: one value in the typed field fills the shape. One case per
// dtype, each through its own field.
TEST(TensorProtoCodecTest, OneTypedValueFillsTheShape) {
  struct Case {
    DataType dtype;
    tensorflow::DataType tf;
    void (*add)(tensorflow::TensorProto*);
    double expected;
  };
  const Case cases[] = {
      {DataType::kF32, tensorflow::DT_FLOAT, [](auto* p) { p->add_float_val(1.5f); }, 1.5},
      {DataType::kF64, tensorflow::DT_DOUBLE, [](auto* p) { p->add_double_val(-0.1); }, -0.1},
      {DataType::kF16, tensorflow::DT_HALF, [](auto* p) { p->add_half_val(0x3e00); }, 1.5},
      {DataType::kBF16, tensorflow::DT_BFLOAT16, [](auto* p) { p->add_half_val(0x3fc0); }, 1.5},
      {DataType::kI8, tensorflow::DT_INT8, [](auto* p) { p->add_int_val(-7); }, -7},
      {DataType::kU8, tensorflow::DT_UINT8, [](auto* p) { p->add_int_val(200); }, 200},
      {DataType::kI32, tensorflow::DT_INT32, [](auto* p) { p->add_int_val(-70000); }, -70000},
      {DataType::kI64, tensorflow::DT_INT64, [](auto* p) { p->add_int64_val(1ll << 40); },
       static_cast<double>(1ll << 40)},
      {DataType::kBool, tensorflow::DT_BOOL, [](auto* p) { p->add_bool_val(true); }, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(DataTypeName(c.dtype));
    tensorflow::TensorProto proto = Proto(c.tf, {4, 3});
    c.add(&proto);
    absl::StatusOr<Tensor> t = TensorFromProto(proto, Spec(c.dtype, {-1, 3}));
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->shape(), (Shape{4, 3}));
    EXPECT_THAT(Doubles(*t), Each(c.expected));
  }
}

TEST(TensorProtoCodecTest, BatchedSpecTakesAnyFirstDim) {
  for (int64_t batch : {0, 1, 5}) {
    tensorflow::TensorProto proto = Proto(tensorflow::DT_FLOAT, {batch, 2});
    for (int64_t i = 0; i < 2 * batch; ++i) proto.add_float_val(static_cast<float>(i));
    absl::StatusOr<Tensor> t = TensorFromProto(proto, Spec(DataType::kF32, {-1, 2}));
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->shape(), (Shape{batch, 2}));
  }
}

TEST(TensorProtoCodecTest, IgnoresVersionNumberAndDimNames) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_INT32, {2});
  proto.set_version_number(7);
  proto.mutable_tensor_shape()->mutable_dim(0)->set_name("batch");
  proto.add_int_val(3);
  proto.add_int_val(4);
  absl::StatusOr<Tensor> t = TensorFromProto(proto, Spec(DataType::kI32, {2}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(Ints(*t), ElementsAre(3, 4));
}

// ---------------------------------------------------------------------------------------
// Errors, each naming the input.

TEST(TensorProtoCodecTest, DtypeMismatch) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_INT32, {2});
  proto.add_int_val(1);
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {2})),
            "input 'x': dtype DT_INT32, the model expects DT_FLOAT");
  // Close types are not converted either.
  proto.set_dtype(tensorflow::DT_INT64);
  EXPECT_EQ(Error(proto, Spec(DataType::kI32, {2}, "ids")),
            "input 'ids': dtype DT_INT64, the model expects DT_INT32");
}

TEST(TensorProtoCodecTest, DtypesKilnLacks) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_STRING, {1});
  proto.add_string_val("hello");
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {1}, "text")),
            "input 'text': dtype DT_STRING, the model expects DT_FLOAT; "
            "string tensors are not supported");
  proto = Proto(tensorflow::DT_INT16, {1});
  proto.add_int_val(1);
  EXPECT_EQ(Error(proto, Spec(DataType::kI32, {1})),
            "input 'x': dtype DT_INT16, the model expects DT_INT32");
}

TEST(TensorProtoCodecTest, UnsetAndUnknownDtype) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_INVALID, {1});
  proto.add_float_val(1.0f);
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {1})),
            "input 'x': dtype DT_INVALID (unset), the model expects DT_FLOAT");
  proto.set_dtype(static_cast<tensorflow::DataType>(77));
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {1})), "input 'x': unknown dtype enum 77");
  // A *_REF value, which Kiln's copy of the enum leaves out and no tensor carries.
  proto.set_dtype(static_cast<tensorflow::DataType>(101));
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {1})), "input 'x': unknown dtype enum 101");
}

TEST(TensorProtoCodecTest, SpecWithoutDtypeIsInternal) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_FLOAT, {1});
  proto.add_float_val(1.0f);
  absl::StatusOr<Tensor> t = TensorFromProto(proto, Spec(DataType::kInvalid, {1}));
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInternal);
}

TEST(TensorProtoCodecTest, UnknownRank) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_FLOAT, {});
  proto.mutable_tensor_shape()->set_unknown_rank(true);
  proto.add_float_val(1.0f);
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {})), "input 'x': the shape has unknown rank");
}

TEST(TensorProtoCodecTest, NegativeDims) {
  // -1 must not pass as the batch dimension of a batched spec.
  tensorflow::TensorProto proto = Proto(tensorflow::DT_FLOAT, {-1, 3});
  proto.add_float_val(1.0f);
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {-1, 3})),
            "input 'x': dimension 0 is -1; every dimension must be known and >= 0");
  proto = Proto(tensorflow::DT_FLOAT, {2, -5});
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {2, 3})),
            "input 'x': dimension 1 is -5; every dimension must be known and >= 0");
}

TEST(TensorProtoCodecTest, OverflowingDims) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_FLOAT, {int64_t{1} << 41});
  proto.add_float_val(1.0f);
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {-1})),
            "input 'x': shape [2199023255552]: element count exceeds 2^40");
  // A product that would wrap int64.
  proto = Proto(tensorflow::DT_FLOAT, {int64_t{1} << 62, 4});
  proto.add_float_val(1.0f);
  EXPECT_THAT(Error(proto, Spec(DataType::kF32, {-1, 4})),
              HasSubstr("element count exceeds 2^40"));
  proto = Proto(tensorflow::DT_FLOAT, {INT64_MAX, INT64_MAX});
  EXPECT_THAT(Error(proto, Spec(DataType::kF32, {-1, 4})),
              HasSubstr("element count exceeds 2^40"));
}

TEST(TensorProtoCodecTest, ShapeMismatch) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_FLOAT, {6});
  proto.add_float_val(1.0f);
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {-1, 3})),
            "input 'x': shape [6], the model expects [-1,3]");
  proto = Proto(tensorflow::DT_FLOAT, {2, 4});
  proto.add_float_val(1.0f);
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {-1, 3})),
            "input 'x': shape [2,4], the model expects [-1,3]");
  // Only a batched spec's first dimension is free.
  proto = Proto(tensorflow::DT_FLOAT, {3, 3});
  proto.add_float_val(1.0f);
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {2, 3})),
            "input 'x': shape [3,3], the model expects [2,3]");
  proto = Proto(tensorflow::DT_FLOAT, {});
  proto.add_float_val(1.0f);
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {1})),
            "input 'x': shape [], the model expects [1]");
}

TEST(TensorProtoCodecTest, TensorContentOfTheWrongSize) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_FLOAT, {2, 3});
  proto.set_tensor_content(std::string(20, '\0'));
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {-1, 3})),
            "input 'x': tensor_content has 20 bytes, f32[2,3] needs 24");
  proto.set_tensor_content(std::string(28, '\0'));
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {-1, 3})),
            "input 'x': tensor_content has 28 bytes, f32[2,3] needs 24");
  // tensor_content has no fill rule: one element's bytes are not enough.
  proto.set_tensor_content(std::string(4, '\0'));
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {-1, 3})),
            "input 'x': tensor_content has 4 bytes, f32[2,3] needs 24");
  proto = Proto(tensorflow::DT_INT64, {0});
  proto.set_tensor_content(std::string(8, '\0'));
  EXPECT_EQ(Error(proto, Spec(DataType::kI64, {-1})),
            "input 'x': tensor_content has 8 bytes, i64[0] needs 0");
}

TEST(TensorProtoCodecTest, TypedValuesOfTheWrongCount) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_FLOAT, {2, 3});
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {-1, 3})),
            "input 'x': float_val has 0 values, f32[2,3] needs 6 (or 1 to fill the shape)");
  for (int i = 0; i < 4; ++i) proto.add_float_val(1.0f);
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {-1, 3})),
            "input 'x': float_val has 4 values, f32[2,3] needs 6 (or 1 to fill the shape)");
  for (int i = 0; i < 3; ++i) proto.add_float_val(1.0f);
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {-1, 3})),
            "input 'x': float_val has 7 values, f32[2,3] needs 6 (or 1 to fill the shape)");
  proto = Proto(tensorflow::DT_INT64, {});
  proto.add_int64_val(1);
  proto.add_int64_val(2);
  EXPECT_EQ(Error(proto, Spec(DataType::kI64, {})),
            "input 'x': int64_val has 2 values, i64[] needs 1");
  proto = Proto(tensorflow::DT_HALF, {});
  EXPECT_EQ(Error(proto, Spec(DataType::kF16, {})),
            "input 'x': half_val has 0 values, f16[] needs 1");
}

TEST(TensorProtoCodecTest, ValuesInAFieldTheDtypeDoesNotUse) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_FLOAT, {2});
  proto.add_int_val(1);
  proto.add_int_val(2);
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {2})),
            "input 'x': DT_FLOAT values belong in float_val or tensor_content, got int_val");
  proto = Proto(tensorflow::DT_INT64, {1});
  proto.add_int_val(1);
  EXPECT_EQ(Error(proto, Spec(DataType::kI64, {1})),
            "input 'x': DT_INT64 values belong in int64_val or tensor_content, got int_val");
  proto = Proto(tensorflow::DT_BOOL, {1});
  proto.add_int_val(1);
  EXPECT_EQ(Error(proto, Spec(DataType::kBool, {1})),
            "input 'x': DT_BOOL values belong in bool_val or tensor_content, got int_val");
  proto = Proto(tensorflow::DT_HALF, {1});
  proto.add_float_val(1.0f);
  EXPECT_EQ(Error(proto, Spec(DataType::kF16, {1})),
            "input 'x': DT_HALF values belong in half_val or tensor_content, got float_val");
  // Ignored by TensorFlow, but a sign the client meant something else.
  proto = Proto(tensorflow::DT_FLOAT, {1});
  proto.add_float_val(1.0f);
  proto.add_string_val("extra");
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {1})),
            "input 'x': DT_FLOAT values belong in float_val or tensor_content, got string_val");
  proto.clear_string_val();
  proto.set_float8_val("\x01");
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {1})),
            "input 'x': DT_FLOAT values belong in float_val or tensor_content, got float8_val");
}

TEST(TensorProtoCodecTest, TensorContentAndTypedValuesTogether) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_FLOAT, {1});
  proto.add_float_val(1.0f);
  proto.set_tensor_content(std::string(4, '\0'));
  EXPECT_EQ(Error(proto, Spec(DataType::kF32, {1})),
            "input 'x': both tensor_content and float_val are set; send one");
}

TEST(TensorProtoCodecTest, IntValOutOfRangeForNarrowTypes) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_INT8, {2});
  proto.add_int_val(5);
  proto.add_int_val(200);
  EXPECT_EQ(Error(proto, Spec(DataType::kI8, {2})),
            "input 'x': int_val[1] = 200 is out of range for DT_INT8");
  proto.set_int_val(1, -129);
  EXPECT_EQ(Error(proto, Spec(DataType::kI8, {2})),
            "input 'x': int_val[1] = -129 is out of range for DT_INT8");
  proto = Proto(tensorflow::DT_UINT8, {2});
  proto.add_int_val(-1);
  proto.add_int_val(0);
  EXPECT_EQ(Error(proto, Spec(DataType::kU8, {2})),
            "input 'x': int_val[0] = -1 is out of range for DT_UINT8");
  proto.set_int_val(0, 256);
  EXPECT_EQ(Error(proto, Spec(DataType::kU8, {2})),
            "input 'x': int_val[0] = 256 is out of range for DT_UINT8");
  // The fill value is checked too.
  proto = Proto(tensorflow::DT_UINT8, {3});
  proto.add_int_val(300);
  EXPECT_EQ(Error(proto, Spec(DataType::kU8, {3})),
            "input 'x': int_val[0] = 300 is out of range for DT_UINT8");
}

TEST(TensorProtoCodecTest, HalfValThatIsNotA16BitPattern) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_HALF, {2});
  proto.add_half_val(0x3c00);
  proto.add_half_val(0x10000);
  EXPECT_EQ(Error(proto, Spec(DataType::kF16, {2})),
            "input 'x': half_val[1] = 65536 is not a 16-bit pattern");
  proto = Proto(tensorflow::DT_BFLOAT16, {1});
  proto.add_half_val(-1);
  EXPECT_EQ(Error(proto, Spec(DataType::kBF16, {1})),
            "input 'x': half_val[0] = -1 is not a 16-bit pattern");
}

TEST(TensorProtoCodecTest, BoolTensorContentOtherThanZeroOrOne) {
  tensorflow::TensorProto proto = Proto(tensorflow::DT_BOOL, {3});
  proto.set_tensor_content(std::string("\x01\x00\x02", 3));
  EXPECT_EQ(Error(proto, Spec(DataType::kBool, {3})),
            "input 'x': tensor_content byte 2 is 2, not a bool (0 or 1)");
}

// ---------------------------------------------------------------------------------------
// Wire compatibility with TensorFlow Serving's own classes.

class WireGoldenTest : public ::testing::Test {
 protected:
  template <typename Message>
  Message ParseGolden(const std::string& name) {
    bytes_ = ReadFile(absl::StrCat(kTestdata, name));
    EXPECT_FALSE(bytes_.empty()) << name;
    Message message;
    EXPECT_TRUE(message.ParseFromString(bytes_)) << name;
    // Nothing TensorFlow wrote is unknown to Kiln's copies of the protos.
    EXPECT_EQ(message.ByteSizeLong(), bytes_.size());
    return message;
  }

  std::string bytes_;
};

void SetModelSpec(tensorflow::serving::ModelSpec* spec, bool signature = true) {
  spec->set_name("half_plus_two");
  spec->mutable_version()->set_value(3);
  if (signature) spec->set_signature_name("serving_default");
}

TEST_F(WireGoldenTest, PredictRequest) {
  auto request = ParseGolden<tensorflow::serving::PredictRequest>("predict_request.pb");
  EXPECT_EQ(request.model_spec().name(), "half_plus_two");
  ASSERT_TRUE(request.model_spec().has_version());
  EXPECT_EQ(request.model_spec().version().value(), 3);
  EXPECT_EQ(request.model_spec().version_choice_case(),
            tensorflow::serving::ModelSpec::kVersion);
  EXPECT_EQ(request.model_spec().signature_name(), "serving_default");
  EXPECT_THAT(request.output_filter(), ElementsAre("y"));
  ASSERT_EQ(request.inputs().size(), 2u);

  const tensorflow::TensorProto& x = request.inputs().at("x");
  EXPECT_EQ(x.float_val_size(), 6);
  absl::StatusOr<Tensor> xt = TensorFromProto(x, Spec(DataType::kF32, {-1, 3}));
  ASSERT_TRUE(xt.ok()) << xt.status();
  EXPECT_EQ(xt->shape(), (Shape{2, 3}));
  EXPECT_THAT(Doubles(*xt), ElementsAre(1.0, 2.5, -3.0, 0.5, 100.0, -0.25));

  const tensorflow::TensorProto& ids = request.inputs().at("ids");
  EXPECT_EQ(ids.tensor_content().size(), 32u);
  absl::StatusOr<Tensor> idt = TensorFromProto(ids, Spec(DataType::kI64, {2, 2}, "ids"));
  ASSERT_TRUE(idt.ok()) << idt.status();
  EXPECT_THAT(Ints(*idt), ElementsAre(7, -1, int64_t{1} << 40, 0));

  EXPECT_EQ(Serialize(request), bytes_);

  // The same request built by Kiln.
  tensorflow::serving::PredictRequest built;
  SetModelSpec(built.mutable_model_spec());
  tensorflow::TensorProto& bx = (*built.mutable_inputs())["x"];
  bx = Proto(tensorflow::DT_FLOAT, {2, 3});
  for (float v : {1.0f, 2.5f, -3.0f, 0.5f, 100.0f, -0.25f}) bx.add_float_val(v);
  TensorToProto(Tensor::I64(Shape{2, 2}, {7, -1, int64_t{1} << 40, 0}),
                &(*built.mutable_inputs())["ids"]);
  built.add_output_filter("y");
  EXPECT_EQ(Serialize(built), bytes_);
}

TEST_F(WireGoldenTest, PredictResponse) {
  auto response = ParseGolden<tensorflow::serving::PredictResponse>("predict_response.pb");
  EXPECT_EQ(response.model_spec().name(), "half_plus_two");
  EXPECT_EQ(response.model_spec().version().value(), 3);
  absl::StatusOr<Tensor> y = TensorFromProto(response.outputs().at("y"),
                                             Spec(DataType::kF32, {-1, 3}, "y"));
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_THAT(Doubles(*y), ElementsAre(2.5, 3.0, 3.5, 4.0, 4.5, 5.0));
  absl::StatusOr<Tensor> classes = TensorFromProto(response.outputs().at("classes"),
                                                   Spec(DataType::kI32, {-1}, "classes"));
  ASSERT_TRUE(classes.ok()) << classes.status();
  EXPECT_THAT(Ints(*classes), ElementsAre(1, 0));
  EXPECT_EQ(Serialize(response), bytes_);

  // What a Kiln server answers: TensorToProto writes what tf.make_tensor_proto writes.
  tensorflow::serving::PredictResponse built;
  SetModelSpec(built.mutable_model_spec());
  TensorToProto(Tensor::F32(Shape{2, 3}, {2.5f, 3.0f, 3.5f, 4.0f, 4.5f, 5.0f}),
                &(*built.mutable_outputs())["y"]);
  TensorToProto(Tensor::I32(Shape{2}, {1, 0}), &(*built.mutable_outputs())["classes"]);
  EXPECT_EQ(Serialize(built), bytes_);
}

TEST_F(WireGoldenTest, GetModelStatusResponse) {
  auto response = ParseGolden<tensorflow::serving::GetModelStatusResponse>(
      "get_model_status_response.pb");
  ASSERT_EQ(response.model_version_status_size(), 1);
  const tensorflow::serving::ModelVersionStatus& v = response.model_version_status(0);
  EXPECT_EQ(v.version(), 3);
  EXPECT_EQ(v.state(), tensorflow::serving::ModelVersionStatus::AVAILABLE);
  EXPECT_EQ(static_cast<int>(v.state()), 30);
  EXPECT_TRUE(v.has_status());
  EXPECT_EQ(v.status().error_code(), tensorflow::error::OK);
  EXPECT_EQ(v.status().error_message(), "");
  EXPECT_EQ(Serialize(response), bytes_);

  tensorflow::serving::GetModelStatusResponse built;
  tensorflow::serving::ModelVersionStatus* bv = built.add_model_version_status();
  bv->set_version(3);
  bv->set_state(tensorflow::serving::ModelVersionStatus::AVAILABLE);
  bv->mutable_status()->set_error_code(tensorflow::error::OK);
  EXPECT_EQ(Serialize(built), bytes_);
}

tensorflow::TensorInfo Info(const std::string& name, tensorflow::DataType dtype,
                            std::vector<int64_t> dims) {
  tensorflow::TensorInfo info;
  info.set_name(name);
  info.set_dtype(dtype);
  for (int64_t d : dims) info.mutable_tensor_shape()->add_dim()->set_size(d);
  return info;
}

TEST_F(WireGoldenTest, GetModelMetadataResponse) {
  auto response = ParseGolden<tensorflow::serving::GetModelMetadataResponse>(
      "get_model_metadata_response.pb");
  EXPECT_EQ(response.model_spec().name(), "half_plus_two");
  EXPECT_EQ(response.model_spec().version().value(), 3);
  EXPECT_EQ(response.model_spec().signature_name(), "");
  ASSERT_EQ(response.metadata().count("signature_def"), 1u);
  const google::protobuf::Any& any = response.metadata().at("signature_def");
  EXPECT_EQ(any.type_url(), "type.googleapis.com/tensorflow.serving.SignatureDefMap");
  tensorflow::serving::SignatureDefMap signatures;
  ASSERT_TRUE(any.UnpackTo(&signatures));
  EXPECT_EQ(signatures.ByteSizeLong(), any.value().size());
  ASSERT_EQ(signatures.signature_def().size(), 2u);

  const tensorflow::SignatureDef& sig = signatures.signature_def().at("serving_default");
  EXPECT_EQ(sig.method_name(), "tensorflow/serving/predict");
  const tensorflow::TensorInfo& x = sig.inputs().at("x");
  EXPECT_EQ(x.name(), "serving_default_x:0");
  EXPECT_EQ(x.dtype(), tensorflow::DT_FLOAT);
  ASSERT_EQ(x.tensor_shape().dim_size(), 2);
  EXPECT_EQ(x.tensor_shape().dim(0).size(), -1);
  EXPECT_EQ(x.tensor_shape().dim(1).size(), 3);
  EXPECT_EQ(sig.outputs().at("y").name(), "StatefulPartitionedCall:0");
  const tensorflow::TensorInfo& init =
      signatures.signature_def().at("__saved_model_init_op").outputs().at(
          "__saved_model_init_op");
  EXPECT_EQ(init.name(), "NoOp");
  EXPECT_EQ(init.dtype(), tensorflow::DT_INVALID);
  EXPECT_TRUE(init.tensor_shape().unknown_rank());
  EXPECT_EQ(Serialize(response), bytes_);

  tensorflow::serving::SignatureDefMap built_signatures;
  tensorflow::SignatureDef& bsig = (*built_signatures.mutable_signature_def())["serving_default"];
  bsig.set_method_name("tensorflow/serving/predict");
  (*bsig.mutable_inputs())["x"] = Info("serving_default_x:0", tensorflow::DT_FLOAT, {-1, 3});
  (*bsig.mutable_outputs())["y"] =
      Info("StatefulPartitionedCall:0", tensorflow::DT_FLOAT, {-1, 3});
  tensorflow::TensorInfo& binit =
      (*(*built_signatures.mutable_signature_def())["__saved_model_init_op"]
            .mutable_outputs())["__saved_model_init_op"];
  binit.set_name("NoOp");
  binit.mutable_tensor_shape()->set_unknown_rank(true);
  tensorflow::serving::GetModelMetadataResponse built;
  SetModelSpec(built.mutable_model_spec(), /*signature=*/false);
  google::protobuf::Any& bany = (*built.mutable_metadata())["signature_def"];
  // Any::PackFrom serializes maps in hash order; a server packs deterministically.
  bany.set_type_url("type.googleapis.com/tensorflow.serving.SignatureDefMap");
  bany.set_value(Serialize(built_signatures));
  EXPECT_EQ(Serialize(built), bytes_);
}

// Tensors tf.make_tensor_proto wrote for every Kiln dtype: from a [2,3] array
// ("<dtype>_array": tensor_content, bool_val for bool), from one value and the shape
// [2,3] ("<dtype>_fill": the value alone in the typed field), and a scalar.
TEST_F(WireGoldenTest, TensorsWrittenByTensorFlow) {
  auto tensors = ParseGolden<tensorflow::serving::PredictResponse>("tf_tensors.pb");
  struct Case {
    DataType dtype;
    std::vector<double> values;
    double fill;
  };
  const Case cases[] = {
      {DataType::kF32, {0.5, -1.25, 2.0, 3.5, -4.0, 1024.0}, 1.5},
      {DataType::kF64, {0.1, -2.5, 1e300, -1e-300, 0.0, 7.0}, -0.1},
      {DataType::kF16, {0.5, -1.25, 2.0, 3.5, -4.0, 65504.0}, 1.5},
      {DataType::kBF16, {0.5, -1.25, 2.0, 3.5, -4.0, 1024.0}, 1.5},
      {DataType::kI8, {-128, -1, 0, 1, 100, 127}, -7},
      {DataType::kU8, {0, 1, 2, 128, 200, 255}, 200},
      {DataType::kI32, {-2147483648.0, -1, 0, 1, 7, 2147483647.0}, -7},
      {DataType::kI64, {}, static_cast<double>(int64_t{1} << 40)},
      {DataType::kBool, {1, 0, 1, 1, 0, 0}, 1},
  };
  EXPECT_EQ(tensors.outputs().size(), 3 * std::size(cases));
  for (const Case& c : cases) {
    const std::string name(DataTypeName(c.dtype));
    SCOPED_TRACE(name);
    const tensorflow::TensorProto& array = tensors.outputs().at(name + "_array");
    absl::StatusOr<Tensor> t = TensorFromProto(array, Spec(c.dtype, {2, 3}, name));
    ASSERT_TRUE(t.ok()) << t.status();
    if (c.dtype == DataType::kI64) {
      EXPECT_THAT(Ints(*t), ElementsAre(INT64_MIN, -1, 0, 1, int64_t{1} << 40, INT64_MAX));
    } else {
      EXPECT_THAT(Doubles(*t), ElementsAreArray(c.values));
    }
    if (c.dtype != DataType::kBool) {
      // Kiln encodes an array exactly as TensorFlow does.
      EXPECT_FALSE(array.tensor_content().empty());
      tensorflow::TensorProto encoded;
      TensorToProto(*t, &encoded);
      EXPECT_EQ(Serialize(encoded), Serialize(array));
    } else {
      EXPECT_EQ(array.bool_val_size(), 6);
    }

    absl::StatusOr<Tensor> fill =
        TensorFromProto(tensors.outputs().at(name + "_fill"), Spec(c.dtype, {-1, 3}, name));
    ASSERT_TRUE(fill.ok()) << fill.status();
    EXPECT_EQ(fill->shape(), (Shape{2, 3}));
    EXPECT_THAT(Doubles(*fill), Each(c.fill));

    absl::StatusOr<Tensor> scalar =
        TensorFromProto(tensors.outputs().at(name + "_scalar"), Spec(c.dtype, {}, name));
    ASSERT_TRUE(scalar.ok()) << scalar.status();
    EXPECT_THAT(Doubles(*scalar), ElementsAre(c.fill));
  }
  EXPECT_EQ(Serialize(tensors), bytes_);
}

}  // namespace
}  // namespace kiln::serve
