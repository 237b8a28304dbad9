// Tests of Resize: nearest, linear and cubic interpolation under each coordinate
// transformation, against values worked out by hand (the cubic weights through an
// independent Keys kernel), plus errors naming the attribute.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

using ::kiln::testing::InferSingleOp;
using ::kiln::testing::MakeTensor;
using ::kiln::testing::RunSingleOp;
using ::kiln::testing::Values;
using ::testing::HasSubstr;
using D = std::vector<double>;
using V = std::vector<int64_t>;

absl::StatusOr<Tensor> Resize(const Tensor& x, AttrMap attrs) {
  ASSIGN_OR_RETURN(std::vector<Tensor> out, RunSingleOp("Resize", {x}, std::move(attrs)));
  return out.at(0);
}

D MustResize(const Tensor& x, AttrMap attrs) {
  absl::StatusOr<Tensor> y = Resize(x, std::move(attrs));
  EXPECT_TRUE(y.ok()) << y.status();
  return y.ok() ? Values(*y) : D{};
}

void ExpectNear(const D& got, const D& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

// Keys' cubic convolution kernel with parameter a, written from its definition.
double Keys(double t, double a) {
  t = std::fabs(t);
  if (t <= 1) return (a + 2) * t * t * t - (a + 3) * t * t + 1;
  if (t < 2) return a * t * t * t - 5 * a * t * t + 8 * a * t - 4 * a;
  return 0;
}

TEST(ResizeTest, NearestUpsampleRepeatsPixels) {
  for (DataType dt : {DataType::kF32, DataType::kF16, DataType::kF64}) {
    SCOPED_TRACE(DataTypeName(dt));
    Tensor x = MakeTensor(dt, Shape{1, 1, 2, 2}, {1, 2, 3, 4});
    absl::StatusOr<Tensor> y = Resize(x, {{"sizes", V{1, 1, 4, 4}}});
    ASSERT_TRUE(y.ok()) << y.status();
    EXPECT_EQ(y->dtype(), dt);
    EXPECT_EQ(y->shape(), (Shape{1, 1, 4, 4}));
    EXPECT_EQ(Values(*y), (D{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  }
}

// Output coordinates 0..3 of a 2-sample input at scale 2 (half_pixel) sit at -0.25,
// 0.25, 0.75, 1.25: the rounding mode decides 0.75 and the halfway points of asymmetric.
TEST(ResizeTest, NearestModes) {
  Tensor x = MakeTensor(DataType::kF32, Shape{3}, {10, 20, 30});
  // asymmetric at scale 2: positions 0, 0.5, 1, 1.5, 2, 2.5.
  AttrMap base = {{"sizes", V{6}}, {"coordinate_transformation_mode", std::string("asymmetric")}};
  auto with = [&](const char* mode) {
    AttrMap a = base;
    a["nearest_mode"] = std::string(mode);
    return MustResize(x, a);
  };
  EXPECT_EQ(with("round_prefer_floor"), (D{10, 10, 20, 20, 30, 30}));
  EXPECT_EQ(with("round_prefer_ceil"), (D{10, 20, 20, 30, 30, 30}));
  EXPECT_EQ(with("floor"), (D{10, 10, 20, 20, 30, 30}));
  EXPECT_EQ(with("ceil"), (D{10, 20, 20, 30, 30, 30}));
}

TEST(ResizeTest, LinearTransforms) {
  Tensor x = MakeTensor(DataType::kF64, Shape{2}, {0, 10});
  // half_pixel: -0.25 and 1.25 clamp to the edges; 0.25 and 0.75 interpolate.
  ExpectNear(MustResize(x, {{"sizes", V{4}}, {"mode", std::string("linear")}}), D{0, 2.5, 7.5, 10}, 1e-12);
  // align_corners: 0, 1/3, 2/3, 1.
  ExpectNear(MustResize(x, {{"sizes", V{4}}, {"mode", std::string("linear")},
                            {"coordinate_transformation_mode", std::string("align_corners")}}),
             D{0, 10.0 / 3, 20.0 / 3, 10}, 1e-12);
  // asymmetric: 0, 0.5, 1, 1.5 (clamped).
  ExpectNear(MustResize(x, {{"sizes", V{4}}, {"mode", std::string("linear")},
                            {"coordinate_transformation_mode", std::string("asymmetric")}}),
             D{0, 5, 10, 10}, 1e-12);
  // pytorch_half_pixel to one sample reads position -0.5: the edge.
  ExpectNear(MustResize(x, {{"sizes", V{1}}, {"mode", std::string("linear")},
                            {"coordinate_transformation_mode", std::string("pytorch_half_pixel")}}),
             D{0}, 1e-12);
  // Explicit scales change the transform, not the size: scale 4 on 4 outputs reads
  // (i + 0.5) / 4 - 0.5 = -0.375, -0.125, 0.125, 0.375.
  ExpectNear(MustResize(x, {{"sizes", V{4}}, {"mode", std::string("linear")}, {"scales", D{4.0}}}),
             D{0, 0, 1.25, 3.75}, 1e-12);
}

TEST(ResizeTest, BilinearIn2D) {
  Tensor x = MakeTensor(DataType::kF32, Shape{2, 2}, {0, 10, 20, 30});
  // align_corners to 3x3: the centre is the mean of the four corners.
  D y = MustResize(x, {{"sizes", V{3, 3}}, {"mode", std::string("linear")},
                       {"coordinate_transformation_mode", std::string("align_corners")}});
  ExpectNear(y, D{0, 5, 10, 10, 15, 20, 20, 25, 30}, 1e-5);
}

TEST(ResizeTest, CubicMatchesKeysKernel) {
  Tensor x = MakeTensor(DataType::kF64, Shape{5}, {0, 1, 4, 9, 16});
  for (double a : {-0.75, -0.5}) {
    SCOPED_TRACE(a);
    D y = MustResize(x, {{"sizes", V{10}}, {"mode", std::string("cubic")}, {"cubic_coeff_a", a},
                         {"coordinate_transformation_mode", std::string("asymmetric")}});
    // Output 3 reads position 1.5: taps 0..3 at distances 1.5, 0.5, 0.5, 1.5.
    EXPECT_NEAR(y[3], Keys(1.5, a) * (0 + 9) + Keys(0.5, a) * (1 + 4), 1e-12);
    // Output 4 reads position 2: exactly the sample.
    EXPECT_NEAR(y[4], 4, 1e-12);
    // Output 1 reads 0.5: taps -1..2, with -1 clamped to the edge value 0.
    EXPECT_NEAR(y[1], Keys(1.5, a) * (0 + 4) + Keys(0.5, a) * (0 + 1), 1e-12);
  }
  // exclude_outside drops the clamped tap and renormalizes the other three.
  D y = MustResize(x, {{"sizes", V{10}}, {"mode", std::string("cubic")}, {"exclude_outside", true},
                       {"coordinate_transformation_mode", std::string("asymmetric")}});
  const double w0 = Keys(0.5, -0.75), w1 = Keys(0.5, -0.75), w2 = Keys(1.5, -0.75);
  EXPECT_NEAR(y[1], (w0 * 0 + w1 * 1 + w2 * 4) / (w0 + w1 + w2), 1e-12);
}

TEST(ResizeTest, CropAndResizeExtrapolates) {
  Tensor x = MakeTensor(DataType::kF32, Shape{3}, {0, 10, 20});
  // roi [0.5, 1.5] of the input's extent (in-1 = 2): positions 1, 2, 3: the last is
  // outside [0, 2].
  D y = MustResize(x, {{"sizes", V{3}}, {"mode", std::string("linear")},
                       {"coordinate_transformation_mode", std::string("tf_crop_and_resize")},
                       {"roi", D{0.5, 1.5}}, {"extrapolation_value", -1.0}});
  ExpectNear(y, D{10, 20, -1}, 1e-6);
}

TEST(ResizeTest, ShapesAndErrors) {
  absl::StatusOr<std::vector<TensorType>> t =
      InferSingleOp("Resize", {{DataType::kF32, Shape{-1, 3, 8, 8}}}, {{"sizes", V{2, 3, 4, 4}}});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)[0].shape, (Shape{2, 3, 4, 4}));
  EXPECT_EQ(MustResize(MakeTensor(DataType::kF32, Shape{2}, {1, 2}), {{"sizes", V{0}}}).size(), 0u);
  auto error = [](AttrMap attrs, absl::string_view what) {
    absl::StatusOr<std::vector<TensorType>> r =
        InferSingleOp("Resize", {{DataType::kF32, Shape{2, 2}}}, std::move(attrs));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(std::string(what)));
  };
  error({{"sizes", V{4}}}, "attribute 'sizes' has 1 entries");
  error({{"sizes", V{4, -2}}}, "attribute 'sizes'");
  error({{"sizes", V{4, 4}}, {"mode", std::string("area")}}, "attribute 'mode'");
  error({{"sizes", V{4, 4}}, {"scales", D{2.0}}}, "attribute 'scales'");
  error({{"sizes", V{4, 4}}, {"scales", D{2.0, 0.0}}}, "attribute 'scales'");
  error({{"sizes", V{4, 4}}, {"coordinate_transformation_mode", std::string("tf_crop_and_resize")}},
        "attribute 'roi'");
  error({{"sizes", V{4, 4}}, {"nearest_mode", std::string("up")}}, "attribute 'nearest_mode'");
  absl::StatusOr<std::vector<TensorType>> empty =
      InferSingleOp("Resize", {{DataType::kF32, Shape{0, 2}}}, {{"sizes", V{3, 2}}});
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr("is empty"));
  // FLOPs: linear over two resized dimensions costs 2 * 4 per output element.
  const OpDef* def = OpRegistry::Global().Find("Resize");
  Node node;
  node.attrs["mode"] = std::string("linear");
  EXPECT_EQ(def->flops(node, {{DataType::kF32, Shape{1, 2, 2}}}, {{DataType::kF32, Shape{1, 4, 4}}}), 8 * 16);
}

}  // namespace
}  // namespace kiln
