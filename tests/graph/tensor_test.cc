// Tensor storage, element conversion (incl. f16/bf16 rounding) and dtype names.
#include "base/tensor.h"

#include <cmath>
#include <limits>

#include "base/half.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

TEST(TensorTest, AllocateIsZeroedAndAligned) {
  absl::StatusOr<Tensor> t = Tensor::Allocate(DataType::kF32, Shape{3, 5});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t->raw_data()) % 64, 0u);
  EXPECT_EQ(t->ByteSize(), 60);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(t->data<float>()[i], 0.0f);
  EXPECT_EQ(t->TypeString(), "f32[3,5]");
}

TEST(TensorTest, AllocateRejectsUnknownAndHugeShapes) {
  EXPECT_FALSE(Tensor::Allocate(DataType::kF32, Shape{-1, 2}).ok());
  EXPECT_FALSE(Tensor::Allocate(DataType::kF32, Shape{int64_t{1} << 41}).ok());
  EXPECT_FALSE(Tensor::Allocate(DataType::kInvalid, Shape{2}).ok());
  EXPECT_TRUE(Tensor::Allocate(DataType::kF32, Shape{0, 7}).ok());
}

TEST(TensorTest, CopiesShareStorageAndCloneDoesNot) {
  Tensor a = Tensor::F32(Shape{2}, {1, 2});
  Tensor b = a;
  Tensor c = a.Clone();
  b.data<float>()[0] = 9;
  EXPECT_EQ(a.data<float>()[0], 9);
  EXPECT_EQ(c.data<float>()[0], 1);
}

TEST(TensorTest, FromBytesChecksLength) {
  uint8_t bytes[8] = {0, 0, 128, 63, 0, 0, 0, 64};  // 1.0f, 2.0f
  absl::StatusOr<Tensor> t = Tensor::FromBytes(DataType::kF32, Shape{2}, bytes);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->data<float>()[1], 2.0f);
  EXPECT_FALSE(Tensor::FromBytes(DataType::kF32, Shape{3}, bytes).ok());
}

TEST(TensorTest, ConversionsRoundAndSaturate) {
  Tensor i8 = Tensor::Allocate(DataType::kI8, Shape{3}).value();
  i8.SetFromDouble(0, 300);
  i8.SetFromDouble(1, -300);
  i8.SetFromDouble(2, std::nan(""));
  EXPECT_EQ(i8.GetAsInt64(0), 127);
  EXPECT_EQ(i8.GetAsInt64(1), -128);
  EXPECT_EQ(i8.GetAsInt64(2), 0);
  Tensor i64 = Tensor::Allocate(DataType::kI64, Shape{1}).value();
  i64.SetFromInt64(0, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(i64.GetAsInt64(0), std::numeric_limits<int64_t>::max());  // exact, unlike double
  Tensor b = Tensor::Allocate(DataType::kBool, Shape{2}).value();
  b.SetFromDouble(0, 0.25);
  EXPECT_EQ(b.GetAsDouble(0), 1.0);
  EXPECT_EQ(b.GetAsDouble(1), 0.0);
}

TEST(HalfTest, Float16RoundTripAndRounding) {
  // Every finite f16 value converts to float and back unchanged.
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    Half h{static_cast<uint16_t>(bits)};
    float f = HalfToFloat(h);
    if (std::isnan(f)) continue;
    EXPECT_EQ(FloatToHalf(f).bits, h.bits) << bits;
  }
  EXPECT_EQ(HalfToFloat(FloatToHalf(65504.0f)), 65504.0f);
  EXPECT_TRUE(std::isinf(HalfToFloat(FloatToHalf(65520.0f))));    // rounds up to inf
  EXPECT_EQ(HalfToFloat(FloatToHalf(1.0f + 1.0f / 2048)), 1.0f);  // tie to even
  EXPECT_EQ(HalfToFloat(FloatToHalf(1.0f + 3.0f / 2048)), 1.0f + 2.0f / 1024);
  EXPECT_EQ(HalfToFloat(FloatToHalf(5.9604645e-8f)), 5.9604645e-8f);  // smallest subnormal
  EXPECT_EQ(HalfToFloat(FloatToHalf(2.0e-8f)), 0.0f);
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(std::nanf("")))));
}

TEST(HalfTest, BFloat16Rounding) {
  EXPECT_EQ(BFloat16ToFloat(FloatToBFloat16(1.0f)), 1.0f);
  EXPECT_EQ(BFloat16ToFloat(FloatToBFloat16(1.0f + 1.0f / 256)), 1.0f);  // tie to even
  EXPECT_EQ(BFloat16ToFloat(FloatToBFloat16(1.0f + 3.0f / 256)), 1.0f + 4.0f / 256);
  EXPECT_TRUE(std::isnan(BFloat16ToFloat(FloatToBFloat16(std::nanf("")))));
  EXPECT_TRUE(std::isinf(BFloat16ToFloat(FloatToBFloat16(3.4e38f))));
}

TEST(DataTypeTest, NamesRoundTrip) {
  for (int v = 1; v <= 9; ++v) {
    DataType t = static_cast<DataType>(v);
    EXPECT_EQ(*ParseDataType(DataTypeName(t)), t);
    EXPECT_EQ(*DataTypeFromProto(v), t);
  }
  EXPECT_FALSE(ParseDataType("f128").ok());
  EXPECT_FALSE(DataTypeFromProto(0).ok());
  EXPECT_FALSE(DataTypeFromProto(10).ok());
}

}  // namespace
}  // namespace kiln
