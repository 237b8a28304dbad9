// MaxPool, AvgPool and GlobalAvgPool: hand-computed values, a padded-buffer oracle over
// random inputs, both layouts, NaN, size-0/size-1 dims, dtypes, unknown dims, errors, FLOPs.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "graph/builder_ops.h"
#include "graph/op_registry.h"
#include "gtest/gtest.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

using ::kiln::testing::ExpectInvalid;
using ::kiln::testing::Permute;
using ::kiln::testing::InferSingleOp;
using ::kiln::testing::MakeTensor;
using ::kiln::testing::RandomTensor;
using ::kiln::testing::RunSingleOp;
using ::kiln::testing::Values;
using ::testing::HasSubstr;
using V = std::vector<int64_t>;

Tensor RunPool(absl::string_view op, const Tensor& x, AttrMap attrs) {
  absl::StatusOr<std::vector<Tensor>> out = RunSingleOp(op, {x}, std::move(attrs));
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return Tensor();
  return (*out)[0];
}

absl::StatusOr<std::vector<TensorType>> Infer(absl::string_view op, const Shape& x, AttrMap attrs,
                                              DataType dt = DataType::kF32) {
  return InferSingleOp(op, {{dt, x}}, std::move(attrs));
}

Shape InferShape(absl::string_view op, const Shape& x, AttrMap attrs) {
  absl::StatusOr<std::vector<TensorType>> out = Infer(op, x, std::move(attrs));
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? (*out)[0].shape : Shape{-2};
}

std::vector<double> Iota(int n) {
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = i + 1;
  return v;
}

const DataType kFloatTypes[] = {DataType::kF32, DataType::kF64, DataType::kF16, DataType::kBF16};

// --- MaxPool / AvgPool by hand ---------------------------------------------------------

// x = 1..16 in a 4x4 grid, 2x2 windows with stride 2.
TEST(PoolTest, NonOverlappingWindowsByHand) {
  for (DataType dt : kFloatTypes) {
    SCOPED_TRACE(DataTypeName(dt));
    Tensor x = MakeTensor(dt, Shape{1, 1, 4, 4}, Iota(16));
    AttrMap attrs = {{"kernel", V{2, 2}}, {"strides", V{2, 2}}};
    EXPECT_TENSOR_NEAR(RunPool("MaxPool", x, attrs), (Shape{1, 1, 2, 2}),
                       (std::vector<double>{6, 8, 14, 16}), 0.0);
    EXPECT_TENSOR_NEAR(RunPool("AvgPool", x, attrs), (Shape{1, 1, 2, 2}),
                       (std::vector<double>{3.5, 5.5, 11.5, 13.5}), 0.0);
  }
}

// Negative values with padding 1: were padding 0, it would win every border window.
TEST(PoolTest, MaxPoolIgnoresPadding) {
  Tensor x = MakeTensor(DataType::kF32, Shape{1, 1, 2, 2}, {-1, -2, -3, -4});
  Tensor y = RunPool("MaxPool", x, {{"kernel", V{2, 2}}, {"pads", V{1, 1, 1, 1}}});
  EXPECT_TENSOR_NEAR(y, (Shape{1, 1, 3, 3}),
                     (std::vector<double>{-1, -1, -2, -1, -1, -2, -3, -3, -4}), 0.0);
}

// x = [[1,2],[3,4]], 2x2 windows, pads 1, stride 1: the corner windows see one element,
// the edge windows two, the centre all four.
TEST(PoolTest, AvgPoolDivisorByHand) {
  for (DataType dt : {DataType::kF32, DataType::kF64}) {
    SCOPED_TRACE(DataTypeName(dt));
    Tensor x = MakeTensor(dt, Shape{1, 1, 2, 2}, {1, 2, 3, 4});
    AttrMap attrs = {{"kernel", V{2, 2}}, {"pads", V{1, 1, 1, 1}}};
    EXPECT_TENSOR_NEAR(RunPool("AvgPool", x, attrs), (Shape{1, 1, 3, 3}),
                       (std::vector<double>{1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4}), 1e-7);
    attrs["count_include_pad"] = true;
    EXPECT_TENSOR_NEAR(RunPool("AvgPool", x, attrs), (Shape{1, 1, 3, 3}),
                       (std::vector<double>{0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1}), 1e-7);
  }
}

// Asymmetric pads (left only) and unequal strides.
TEST(PoolTest, AsymmetricPadsAndStridesByHand) {
  Tensor x = MakeTensor(DataType::kF32, Shape{1, 1, 1, 3}, {1, 5, 2});
  EXPECT_TENSOR_NEAR(RunPool("MaxPool", x, {{"kernel", V{1, 2}}, {"pads", V{0, 1, 0, 0}}}),
                     (Shape{1, 1, 1, 3}), (std::vector<double>{1, 5, 5}), 0.0);
  Tensor x2 = MakeTensor(DataType::kF64, Shape{1, 1, 3, 5}, Iota(15));
  // Rows 0..1 then 1..2 (stride 1); columns 0..1 then 3..4 (stride 3).
  EXPECT_TENSOR_NEAR(RunPool("AvgPool", x2, {{"kernel", V{2, 2}}, {"strides", V{1, 3}}}),
                     (Shape{1, 1, 2, 2}),
                     (std::vector<double>{(1 + 2 + 6 + 7) / 4.0, (4 + 5 + 9 + 10) / 4.0,
                                          (6 + 7 + 11 + 12) / 4.0, (9 + 10 + 14 + 15) / 4.0}),
                     1e-12);
}

// NHWC by hand: channel 0 holds 1,3,5,7 and channel 1 holds 2,4,6,8.
TEST(PoolTest, NhwcByHand) {
  Tensor x = MakeTensor(DataType::kF32, Shape{1, 2, 2, 2}, Iota(8));
  AttrMap attrs = {{"kernel", V{2, 2}}, {"data_format", std::string("NHWC")}};
  EXPECT_TENSOR_NEAR(RunPool("MaxPool", x, attrs), (Shape{1, 1, 1, 2}), (std::vector<double>{7, 8}),
                     0.0);
  EXPECT_TENSOR_NEAR(RunPool("AvgPool", x, attrs), (Shape{1, 1, 1, 2}), (std::vector<double>{4, 5}),
                     0.0);
}

TEST(PoolTest, MaxPoolPropagatesNan) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = MakeTensor(DataType::kF32, Shape{1, 1, 1, 4}, {1, nan, 3, 2});
  Tensor y = RunPool("MaxPool", x, {{"kernel", V{1, 2}}, {"strides", V{1, 2}}});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 1, 2}));
  EXPECT_TRUE(std::isnan(y.GetAsDouble(0)));
  EXPECT_EQ(y.GetAsDouble(1), 3.0);
}

// --- An independent oracle ----------------------------------------------------------------

struct PoolCase {
  int n, c, h, w;
  std::vector<int64_t> kernel, strides, pads;
};

// Materializes the padded NCHW input with NaN marking padding, then reduces each window,
// skipping markers (the random inputs hold no NaN). Returns {max, avg excluding pad,
// avg including pad}, all NCHW.
std::vector<std::vector<double>> NaivePool(const PoolCase& k, const std::vector<double>& x,
                                           int* oh_out, int* ow_out) {
  const double marker = std::numeric_limits<double>::quiet_NaN();
  const int ph = k.h + k.pads[0] + k.pads[2], pw = k.w + k.pads[1] + k.pads[3];
  std::vector<double> padded(static_cast<size_t>(k.n) * k.c * ph * pw, marker);
  for (int nc = 0; nc < k.n * k.c; ++nc)
    for (int i = 0; i < k.h; ++i)
      for (int j = 0; j < k.w; ++j)
        padded[(nc * ph + i + k.pads[0]) * pw + j + k.pads[1]] = x[(nc * k.h + i) * k.w + j];
  const int oh = (ph - k.kernel[0]) / k.strides[0] + 1;
  const int ow = (pw - k.kernel[1]) / k.strides[1] + 1;
  *oh_out = oh;
  *ow_out = ow;
  std::vector<std::vector<double>> out(3);
  for (int nc = 0; nc < k.n * k.c; ++nc)
    for (int r = 0; r < oh; ++r)
      for (int s = 0; s < ow; ++s) {
        double best = -1e300, sum = 0;
        int real = 0;
        for (int i = 0; i < k.kernel[0]; ++i)
          for (int j = 0; j < k.kernel[1]; ++j) {
            double v = padded[(nc * ph + r * k.strides[0] + i) * pw + s * k.strides[1] + j];
            if (std::isnan(v)) continue;
            best = std::max(best, v);
            sum += v;
            ++real;
          }
        out[0].push_back(best);
        out[1].push_back(sum / real);
        out[2].push_back(sum / (k.kernel[0] * k.kernel[1]));
      }
  return out;
}

TEST(PoolTest, MatchesNaiveOracleInBothLayouts) {
  const std::vector<PoolCase> cases = {
      {2, 3, 7, 6, {3, 3}, {2, 2}, {1, 1, 1, 1}}, {1, 2, 5, 8, {2, 3}, {1, 2}, {0, 2, 1, 0}},
      {1, 1, 4, 4, {4, 4}, {1, 1}, {0, 0, 0, 0}}, {2, 2, 6, 5, {3, 2}, {3, 1}, {2, 1, 2, 1}},
      {1, 4, 3, 3, {1, 1}, {2, 2}, {0, 0, 0, 0}},
  };
  uint64_t seed = 5;
  for (const PoolCase& k : cases) {
    SCOPED_TRACE(::testing::Message() << "kernel " << k.kernel[0] << "x" << k.kernel[1]);
    Tensor x = RandomTensor(DataType::kF64, Shape{k.n, k.c, k.h, k.w}, seed++);
    int oh = 0, ow = 0;
    std::vector<std::vector<double>> want = NaivePool(k, Values(x), &oh, &ow);
    const Shape shape{k.n, k.c, oh, ow};
    for (const char* format : {"NCHW", "NHWC"}) {
      SCOPED_TRACE(format);
      const bool nhwc = std::string(format) == "NHWC";
      Tensor in = nhwc ? Permute(x, {0, 2, 3, 1}) : x;
      auto back = [&](const Tensor& y) { return nhwc ? Permute(y, {0, 3, 1, 2}) : y; };
      AttrMap attrs = {{"kernel", k.kernel},
                       {"strides", k.strides},
                       {"pads", k.pads},
                       {"data_format", std::string(format)}};
      EXPECT_TENSOR_NEAR(back(RunPool("MaxPool", in, attrs)), shape, want[0], 0.0);
      EXPECT_TENSOR_NEAR(back(RunPool("AvgPool", in, attrs)), shape, want[1], 1e-12);
      attrs["count_include_pad"] = true;
      EXPECT_TENSOR_NEAR(back(RunPool("AvgPool", in, attrs)), shape, want[2], 1e-12);
    }
  }
}

// --- Size-0 and size-1 dimensions -----------------------------------------------------

TEST(PoolTest, EmptyBatchAndChannels) {
  for (const char* op : {"MaxPool", "AvgPool"}) {
    SCOPED_TRACE(op);
    Tensor x0 = MakeTensor(DataType::kF32, Shape{0, 3, 4, 4}, {});
    EXPECT_TENSOR_NEAR(RunPool(op, x0, {{"kernel", V{2, 2}}}), (Shape{0, 3, 3, 3}),
                       std::vector<double>{}, 0.0);
    Tensor x1 = MakeTensor(DataType::kF64, Shape{2, 4, 4, 0}, {});
    EXPECT_TENSOR_NEAR(RunPool(op, x1, {{"kernel", V{2, 2}}, {"data_format", std::string("NHWC")}}),
                       (Shape{2, 3, 3, 0}), std::vector<double>{}, 0.0);
  }
}

TEST(PoolTest, SizeOneKernelIsIdentity) {
  Tensor x = RandomTensor(DataType::kF32, Shape{2, 3, 1, 5}, 9);
  for (const char* op : {"MaxPool", "AvgPool"}) {
    EXPECT_TENSOR_NEAR(RunPool(op, x, {{"kernel", V{1, 1}}}), (Shape{2, 3, 1, 5}), Values(x), 0.0);
  }
  Tensor one = MakeTensor(DataType::kBF16, Shape{1, 1, 1, 1}, {-2.5});
  EXPECT_TENSOR_NEAR(RunPool("MaxPool", one, {{"kernel", V{1, 1}}}), (Shape{1, 1, 1, 1}),
                     (std::vector<double>{-2.5}), 0.0);
}

// --- Shape inference ------------------------------------------------------------------

TEST(PoolTest, InfersShapesWithUnknownDims) {
  for (const char* op : {"MaxPool", "AvgPool"}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(InferShape(op, Shape{-1, 3, -1, 8}, {{"kernel", V{2, 2}}, {"strides", V{2, 2}}}),
              (Shape{-1, 3, -1, 4}));
    EXPECT_EQ(InferShape(op, Shape{1, -1, 9, -1},
                         {{"kernel", V{3, 3}}, {"strides", V{2, 2}}, {"pads", V{1, 1, 1, 1}}}),
              (Shape{1, -1, 5, -1}));
    EXPECT_EQ(InferShape(op, Shape{-1, 7, -1, -1},
                         {{"kernel", V{3, 2}}, {"data_format", std::string("NHWC")}}),
              (Shape{-1, 5, -1, -1}));
  }
}

// --- Errors ---------------------------------------------------------------------------

TEST(PoolTest, RejectsBadAttributesAndInputs) {
  const Shape x{1, 2, 4, 4};
  for (const char* op : {"MaxPool", "AvgPool"}) {
    SCOPED_TRACE(op);
    ExpectInvalid(Infer(op, x, {}), "missing required attribute 'kernel'");
    ExpectInvalid(Infer(op, x, {{"kernel", V{2}}}), "attribute 'kernel' has 1 entries, expected 2");
    ExpectInvalid(Infer(op, x, {{"kernel", V{2, 0}}}), "attribute 'kernel' entry 1 is 0");
    ExpectInvalid(Infer(op, x, {{"kernel", V{2, 2}}, {"strides", V{0, 1}}}),
                  "attribute 'strides' entry 0 is 0");
    ExpectInvalid(Infer(op, x, {{"kernel", V{2, 2}}, {"pads", V{0, -1, 0, 0}}}),
                  "attribute 'pads' entry 1 is -1");
    ExpectInvalid(Infer(op, x, {{"kernel", V{2, 2}}, {"pads", V{0, 0, 2, 0}}}),
                  "attribute 'pads' entry 2 (bottom) is 2, expected less than the kernel height 2");
    ExpectInvalid(Infer(op, x, {{"kernel", V{3, 2}}, {"pads", V{0, 0, 0, 5}}}),
                  "attribute 'pads' entry 3 (right) is 5, expected less than the kernel width 2");
    ExpectInvalid(
        Infer(op, x, {{"kernel", V{5, 2}}}),
        "kernel height 5 (dilation 1, extent 5) is larger than the padded input height 4");
    ExpectInvalid(Infer(op, Shape{1, 2, 4}, {{"kernel", V{2, 2}}}),
                  "input 'x' has shape [1,2,4], expected rank 4");
    ExpectInvalid(Infer(op, Shape{1, 2, 0, 4}, {{"kernel", V{1, 1}}, {"pads", V{0, 0, 0, 0}}}),
                  "input 'x' has shape [1,2,0,4]: pooling needs non-empty height and width");
    ExpectInvalid(Infer(op, x, {{"kernel", V{2, 2}}, {"data_format", std::string("NCWH")}}),
                  "attribute 'data_format' is \"NCWH\"");
    ExpectInvalid(Infer(op, x, {{"kernel", V{2, 2}}}, DataType::kI32), "input 0 has dtype i32");
    ExpectInvalid(Infer(op, x, {{"kernel", V{2, std::numeric_limits<int64_t>::max()}}}),
                  "attribute 'kernel' entry 1 is 9223372036854775807, which exceeds 2^40");
    ExpectInvalid(Infer(op, x, {{"kernel", V{2, 2}}, {"strides", V{1, int64_t{1} << 41}}}),
                  "attribute 'strides' entry 1");
  }
  ExpectInvalid(Infer("MaxPool", x, {{"kernel", V{2, 2}}, {"count_include_pad", true}}),
                "unknown attribute 'count_include_pad'");
  ExpectInvalid(Infer("AvgPool", x, {{"kernel", V{2, 2}}, {"count_include_pad", int64_t{1}}}),
                "attribute 'count_include_pad' must be bool");
}

// --- GlobalAvgPool ----------------------------------------------------------------------

TEST(GlobalAvgPoolTest, MeansByHand) {
  for (DataType dt : kFloatTypes) {
    SCOPED_TRACE(DataTypeName(dt));
    Tensor x = MakeTensor(dt, Shape{1, 2, 2, 2}, Iota(8));
    EXPECT_TENSOR_NEAR(RunPool("GlobalAvgPool", x, {}), (Shape{1, 2, 1, 1}),
                       (std::vector<double>{2.5, 6.5}), 0.0);
    // Read as NHWC, channel 0 is 1,3,5,7 and channel 1 is 2,4,6,8.
    EXPECT_TENSOR_NEAR(RunPool("GlobalAvgPool", x, {{"data_format", std::string("NHWC")}}),
                       (Shape{1, 1, 1, 2}), (std::vector<double>{4, 5}), 0.0);
  }
  // Two batches, three channels, a 1x3 plane.
  Tensor x = MakeTensor(DataType::kF64, Shape{2, 3, 1, 3}, Iota(18));
  EXPECT_TENSOR_NEAR(RunPool("GlobalAvgPool", x, {}), (Shape{2, 3, 1, 1}),
                     (std::vector<double>{2, 5, 8, 11, 14, 17}), 1e-12);
}

TEST(GlobalAvgPoolTest, SizeZeroAndOne) {
  EXPECT_TENSOR_NEAR(
      RunPool("GlobalAvgPool", MakeTensor(DataType::kF32, Shape{0, 3, 2, 2}, {}), {}),
      (Shape{0, 3, 1, 1}), std::vector<double>{}, 0.0);
  EXPECT_TENSOR_NEAR(RunPool("GlobalAvgPool", MakeTensor(DataType::kF32, Shape{2, 2, 2, 0}, {}),
                             {{"data_format", std::string("NHWC")}}),
                     (Shape{2, 1, 1, 0}), std::vector<double>{}, 0.0);
  EXPECT_TENSOR_NEAR(
      RunPool("GlobalAvgPool", MakeTensor(DataType::kF32, Shape{1, 2, 1, 1}, {7, -3}), {}),
      (Shape{1, 2, 1, 1}), (std::vector<double>{7, -3}), 0.0);
}

TEST(GlobalAvgPoolTest, InfersUnknownDims) {
  EXPECT_EQ(InferShape("GlobalAvgPool", Shape{-1, -1, -1, -1}, {}), (Shape{-1, -1, 1, 1}));
  EXPECT_EQ(
      InferShape("GlobalAvgPool", Shape{-1, -1, -1, 16}, {{"data_format", std::string("NHWC")}}),
      (Shape{-1, 1, 1, 16}));
}

TEST(GlobalAvgPoolTest, Rejects) {
  ExpectInvalid(Infer("GlobalAvgPool", Shape{2, 3, 4}, {}),
                "input 'x' has shape [2,3,4], expected rank 4");
  ExpectInvalid(Infer("GlobalAvgPool", Shape{2, 3, 4, 0}, {}),
                "input 'x' has shape [2,3,4,0]: pooling needs non-empty height and width");
  ExpectInvalid(Infer("GlobalAvgPool", Shape{2, 3, 4, 4}, {{"data_format", std::string("HWC")}}),
                "attribute 'data_format' is \"HWC\"");
  ExpectInvalid(Infer("GlobalAvgPool", Shape{2, 3, 4, 4}, {}, DataType::kI64),
                "input 0 has dtype i64");
}

// --- FLOPs ----------------------------------------------------------------------------

int64_t Flops(absl::string_view op, const Shape& x, AttrMap attrs) {
  const OpDef* def = OpRegistry::Global().Find(op);
  std::vector<TensorType> inputs = {{DataType::kF32, x}};
  std::vector<TensorType> outputs = InferSingleOp(op, inputs, attrs).value();
  Node node;
  node.name = "pool";
  node.op = std::string(op);
  node.attrs = std::move(attrs);
  for (const AttrSpec& spec : def->attrs) {
    if (!node.HasAttr(spec.name)) node.attrs[spec.name] = *spec.default_value;
  }
  return def->flops(node, inputs, outputs);
}

TEST(PoolTest, Flops) {
  // Output [2,3,8,8] times a 3x3 window.
  AttrMap attrs = {{"kernel", V{3, 3}}, {"pads", V{1, 1, 1, 1}}};
  EXPECT_EQ(Flops("MaxPool", Shape{2, 3, 8, 8}, attrs), 2 * 3 * 8 * 8 * 9);
  EXPECT_EQ(Flops("AvgPool", Shape{2, 3, 8, 8}, attrs), 2 * 3 * 8 * 8 * 9);
  // Output [1,4,2,1] times a 2x3 window.
  EXPECT_EQ(Flops("AvgPool", Shape{1, 4, 4, 3}, {{"kernel", V{2, 3}}, {"strides", V{2, 2}}}),
            1 * 4 * 2 * 1 * 6);
  EXPECT_EQ(Flops("MaxPool", Shape{-1, 3, 8, 8}, attrs), 0);
  EXPECT_EQ(Flops("GlobalAvgPool", Shape{2, 3, 5, 7}, {}), 2 * 3 * 5 * 7);
  EXPECT_EQ(Flops("GlobalAvgPool", Shape{2, 3, -1, 7}, {}), 0);
}

// The typed builder API passes attributes the schemas accept, with the same meanings.
TEST(PoolTest, BuilderApi) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF16, Shape{-1, 3, 9, 9});
  ops::PoolOptions options;
  options.kernel = {3, 3};
  options.strides = {2, 2};
  options.pads = {1, 1, 1, 1};
  Value m = ops::MaxPool(b, x, options);
  options.count_include_pad = true;
  Value a = ops::AvgPool(b, x, options);
  Value g = ops::GlobalAvgPool(b, x);
  Value gn = ops::GlobalAvgPool(b, x, "NHWC");
  ASSERT_TRUE(b.status().ok()) << b.status();
  EXPECT_EQ(m.shape(), (Shape{-1, 3, 5, 5}));
  EXPECT_EQ(a.shape(), (Shape{-1, 3, 5, 5}));
  EXPECT_EQ(g.shape(), (Shape{-1, 3, 1, 1}));
  EXPECT_EQ(gn.shape(), (Shape{-1, 1, 1, 9}));
}

}  // namespace
}  // namespace kiln
