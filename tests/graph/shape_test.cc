#include "base/shape.h"

#include "gtest/gtest.h"

namespace kiln {
namespace {

TEST(ShapeTest, BroadcastFollowsNumPy) {
  EXPECT_EQ(*BroadcastShapes(Shape{2, 1, 3}, Shape{4, 1}), (Shape{2, 4, 3}));
  EXPECT_EQ(*BroadcastShapes(Shape{}, Shape{5}), (Shape{5}));
  EXPECT_EQ(*BroadcastShapes(Shape{0, 3}, Shape{1, 3}), (Shape{0, 3}));
  EXPECT_EQ(*BroadcastShapes(Shape{-1, 3}, Shape{7, 1}), (Shape{7, 3}));
  EXPECT_EQ(*BroadcastShapes(Shape{-1, 3}, Shape{1, 3}), (Shape{-1, 3}));
  EXPECT_FALSE(BroadcastShapes(Shape{2, 3}, Shape{3, 3}).ok());
}

TEST(ShapeTest, ValidateRejectsNegativeAndOverflow) {
  EXPECT_TRUE(ValidateShape(Shape{-1, 4}).ok());
  EXPECT_FALSE(ValidateShape(Shape{-2, 4}).ok());
  EXPECT_FALSE(ValidateShape(Shape{1 << 30, 1 << 30, 4}).ok());
  EXPECT_TRUE(ValidateShape(Shape{0, 1 << 20, 1 << 20}).ok());
  // Zeros do not excuse the other dimensions: strides must stay representable.
  EXPECT_FALSE(ValidateShape(Shape{0, 1 << 30, 1 << 30}).ok());
  EXPECT_FALSE(ValidateShape(Shape{1 << 30, 1 << 30, 0}).ok());
  EXPECT_FALSE(ValidateShape(Shape{0, int64_t{1} << 41}).ok());
}

TEST(ShapeTest, NormalizeAxis) {
  EXPECT_EQ(*NormalizeAxis(-1, 3), 2);
  EXPECT_EQ(*NormalizeAxis(0, 3), 0);
  EXPECT_FALSE(NormalizeAxis(3, 3).ok());
  EXPECT_FALSE(NormalizeAxis(-4, 3).ok());
  EXPECT_FALSE(NormalizeAxis(0, 0).ok());
}

TEST(ShapeTest, StridesAndToString) {
  EXPECT_EQ(RowMajorStrides(Shape{2, 3, 4}), (std::vector<int64_t>{12, 4, 1}));
  EXPECT_EQ(Shape({2, -1}).ToString(), "[2,-1]");
  EXPECT_EQ(Shape().ToString(), "[]");
  EXPECT_EQ(Shape().NumElements(), 1);
}

}  // namespace
}  // namespace kiln
