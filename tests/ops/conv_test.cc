// Conv2D: hand-computed cases, an independent padded-buffer oracle over strides, pads,
// dilations, groups and depthwise filters in all four layout combinations, size-0 and
// size-1 dimensions, several dtypes, shape inference with unknown dims, errors and FLOPs.
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

Tensor RunConv(const std::vector<Tensor>& inputs, AttrMap attrs = {}) {
  absl::StatusOr<std::vector<Tensor>> out = RunSingleOp("Conv2D", inputs, std::move(attrs));
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return Tensor();
  return (*out)[0];
}

Shape InferShape(const std::vector<TensorType>& inputs, AttrMap attrs = {}) {
  absl::StatusOr<std::vector<TensorType>> out = InferSingleOp("Conv2D", inputs, std::move(attrs));
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? (*out)[0].shape : Shape{-2};
}

std::vector<double> Iota(int n, double first = 1.0) {
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = first + i;
  return v;
}

// --- Hand-computed values -------------------------------------------------------------

// x = [[1,2,3],[4,5,6],[7,8,9]]; filter = [[1,0],[0,1]] adds each element to its
// lower-right neighbour.
TEST(Conv2DTest, DiagonalFilterByHand) {
  for (DataType dt : {DataType::kF32, DataType::kF64, DataType::kF16, DataType::kBF16}) {
    SCOPED_TRACE(DataTypeName(dt));
    Tensor x = MakeTensor(dt, Shape{1, 1, 3, 3}, Iota(9));
    Tensor w = MakeTensor(dt, Shape{1, 1, 2, 2}, {1, 0, 0, 1});
    EXPECT_TENSOR_NEAR(RunConv({x, w}), (Shape{1, 1, 2, 2}), (std::vector<double>{6, 8, 12, 14}),
                       0.0);
    Tensor b = MakeTensor(dt, Shape{1}, {10});
    EXPECT_TENSOR_NEAR(RunConv({x, w, b}), (Shape{1, 1, 2, 2}),
                       (std::vector<double>{16, 18, 22, 24}), 0.0);
  }
}

// A 3x3 box filter, pads 1 on every side, stride 2: the four windows each cover a 2x2
// corner block of x.
TEST(Conv2DTest, PaddedStridedBoxFilterByHand) {
  Tensor x = MakeTensor(DataType::kF32, Shape{1, 1, 3, 3}, Iota(9));
  Tensor w = MakeTensor(DataType::kF32, Shape{1, 1, 3, 3}, std::vector<double>(9, 1.0));
  Tensor y = RunConv({x, w}, {{"strides", std::vector<int64_t>{2, 2}},
                              {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  EXPECT_TENSOR_NEAR(y, (Shape{1, 1, 2, 2}), (std::vector<double>{12, 16, 24, 28}), 0.0);
}

// Asymmetric pads: top 1, left 0, bottom 0, right 2 with a 1x1 filter of 2 just doubles
// x and surrounds it with zeros.
TEST(Conv2DTest, AsymmetricPadsByHand) {
  Tensor x = MakeTensor(DataType::kF64, Shape{1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor w = MakeTensor(DataType::kF64, Shape{1, 1, 1, 1}, {2});
  Tensor y = RunConv({x, w}, {{"pads", std::vector<int64_t>{1, 0, 0, 2}}});
  EXPECT_TENSOR_NEAR(y, (Shape{1, 1, 3, 4}),
                     (std::vector<double>{0, 0, 0, 0,  //
                                          2, 4, 0, 0,  //
                                          6, 8, 0, 0}),
                     0.0);
}

// Dilation 2 spreads a 2x2 filter of ones over the four corners of a 3x3 input.
TEST(Conv2DTest, DilationByHand) {
  Tensor x = MakeTensor(DataType::kF32, Shape{1, 1, 3, 3}, Iota(9));
  Tensor w = MakeTensor(DataType::kF32, Shape{1, 1, 2, 2}, {1, 1, 1, 1});
  Tensor y = RunConv({x, w}, {{"dilations", std::vector<int64_t>{2, 2}}});
  EXPECT_TENSOR_NEAR(y, (Shape{1, 1, 1, 1}), (std::vector<double>{1 + 3 + 7 + 9}), 0.0);
}

// Two channels, two groups: each output channel sees only its own input channel.
TEST(Conv2DTest, GroupsByHand) {
  Tensor x = MakeTensor(DataType::kF32, Shape{1, 2, 1, 2}, {3, 4, 5, 6});
  Tensor w = MakeTensor(DataType::kF32, Shape{2, 1, 1, 1}, {2, 10});
  Tensor y = RunConv({x, w}, {{"groups", int64_t{2}}});
  EXPECT_TENSOR_NEAR(y, (Shape{1, 2, 1, 2}), (std::vector<double>{6, 8, 50, 60}), 0.0);
  // groups 1 with a [2,2,1,1] filter mixes channels: out0 = 1*x0 + 1*x1, out1 = x0 - x1.
  Tensor w2 = MakeTensor(DataType::kF32, Shape{2, 2, 1, 1}, {1, 1, 1, -1});
  EXPECT_TENSOR_NEAR(RunConv({x, w2}), (Shape{1, 2, 1, 2}), (std::vector<double>{8, 10, -2, -2}),
                     0.0);
}

// NHWC with an HWIO filter, by hand: x [1,2,2,2] (H,W,C), filter 1x1 mapping 2 -> 1
// channel with weights (1, 10).
TEST(Conv2DTest, NhwcHwioByHand) {
  Tensor x = MakeTensor(DataType::kF32, Shape{1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor w = MakeTensor(DataType::kF32, Shape{1, 1, 2, 1}, {1, 10});
  Tensor y = RunConv(
      {x, w}, {{"data_format", std::string("NHWC")}, {"filter_format", std::string("HWIO")}});
  EXPECT_TENSOR_NEAR(y, (Shape{1, 2, 2, 1}), (std::vector<double>{21, 43, 65, 87}), 0.0);
}

// --- Independent oracle over random inputs --------------------------------------------

struct ConvCase {
  std::string name;
  int n, c, h, w, o, kh, kw;
  std::vector<int64_t> strides, pads, dilations;
  int64_t groups;
  bool bias;
};

// Materializes the zero-padded NCHW input, then sums the dilated taps with no bounds
// tests. x is NCHW and filter OIHW, both row-major. Returns NCHW output values.
std::vector<double> NaiveConv(const ConvCase& k, const std::vector<double>& x,
                              const std::vector<double>& filter, const std::vector<double>& bias,
                              int* oh_out, int* ow_out) {
  const int pt = k.pads[0], pl = k.pads[1], pb = k.pads[2], pr = k.pads[3];
  const int ph = k.h + pt + pb, pw = k.w + pl + pr;
  std::vector<double> padded(static_cast<size_t>(k.n) * k.c * ph * pw, 0.0);
  for (int n = 0; n < k.n; ++n)
    for (int c = 0; c < k.c; ++c)
      for (int i = 0; i < k.h; ++i)
        for (int j = 0; j < k.w; ++j)
          padded[((n * k.c + c) * ph + i + pt) * pw + j + pl] =
              x[((n * k.c + c) * k.h + i) * k.w + j];
  const int sh = k.strides[0], sw = k.strides[1], dh = k.dilations[0], dw = k.dilations[1];
  const int oh = (ph - dh * (k.kh - 1) - 1) / sh + 1;
  const int ow = (pw - dw * (k.kw - 1) - 1) / sw + 1;
  *oh_out = oh;
  *ow_out = ow;
  const int cg = k.c / k.groups, og = k.o / k.groups;
  std::vector<double> y(static_cast<size_t>(k.n) * k.o * oh * ow);
  for (int n = 0; n < k.n; ++n)
    for (int o = 0; o < k.o; ++o)
      for (int r = 0; r < oh; ++r)
        for (int s = 0; s < ow; ++s) {
          double sum = k.bias ? bias[o] : 0.0;
          const int g = o / og;
          for (int ci = 0; ci < cg; ++ci)
            for (int i = 0; i < k.kh; ++i)
              for (int j = 0; j < k.kw; ++j)
                sum += padded[((n * k.c + g * cg + ci) * ph + r * sh + i * dh) * pw + s * sw +
                              j * dw] *
                       filter[((o * cg + ci) * k.kh + i) * k.kw + j];
          y[((n * k.o + o) * oh + r) * ow + s] = sum;
        }
  return y;
}

const std::vector<int> kNchwToNhwc = {0, 2, 3, 1};
const std::vector<int> kNhwcToNchw = {0, 3, 1, 2};
const std::vector<int> kOihwToHwio = {2, 3, 1, 0};

std::vector<ConvCase> Cases() {
  return {
      {"strides2", 2, 3, 7, 6, 4, 3, 2, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1, true},
      {"pads", 1, 2, 5, 5, 3, 3, 3, {1, 1}, {1, 2, 0, 1}, {1, 1}, 1, false},
      {"dilations2", 1, 2, 8, 7, 2, 3, 2, {1, 2}, {2, 1, 2, 1}, {2, 2}, 1, true},
      {"strides2_pads_dilations2", 2, 3, 9, 8, 2, 2, 3, {2, 2}, {1, 1, 1, 1}, {2, 2}, 1, true},
      {"groups2", 2, 4, 5, 6, 6, 3, 3, {2, 1}, {1, 1, 1, 1}, {1, 2}, 2, true},
      {"depthwise", 1, 3, 6, 6, 6, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 3, true},
      {"depthwise_strided", 2, 4, 7, 5, 4, 3, 3, {2, 2}, {1, 0, 1, 0}, {1, 1}, 4, false},
      {"pointwise", 2, 5, 1, 3, 2, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, false},
  };
}

TEST(Conv2DTest, MatchesNaiveOracleInEveryLayout) {
  uint64_t seed = 1;
  for (DataType dt : {DataType::kF32, DataType::kF64}) {
    const double tol = dt == DataType::kF32 ? 1e-5 : 1e-12;
    for (const ConvCase& k : Cases()) {
      SCOPED_TRACE(k.name + " " + std::string(DataTypeName(dt)));
      Tensor x = RandomTensor(dt, Shape{k.n, k.c, k.h, k.w}, seed++);
      Tensor w = RandomTensor(dt, Shape{k.o, k.c / k.groups, k.kh, k.kw}, seed++);
      Tensor b = RandomTensor(dt, Shape{k.o}, seed++);
      int oh = 0, ow = 0;
      std::vector<double> want = NaiveConv(k, Values(x), Values(w), Values(b), &oh, &ow);
      const Shape nchw{k.n, k.o, oh, ow};

      for (const char* data_format : {"NCHW", "NHWC"}) {
        for (const char* filter_format : {"OIHW", "HWIO"}) {
          SCOPED_TRACE(std::string(data_format) + "/" + filter_format);
          const bool nhwc = std::string(data_format) == "NHWC";
          const bool hwio = std::string(filter_format) == "HWIO";
          std::vector<Tensor> inputs = {nhwc ? Permute(x, kNchwToNhwc) : x,
                                        hwio ? Permute(w, kOihwToHwio) : w};
          if (k.bias) inputs.push_back(b);
          Tensor y = RunConv(inputs, {{"strides", k.strides},
                                      {"pads", k.pads},
                                      {"dilations", k.dilations},
                                      {"groups", k.groups},
                                      {"data_format", std::string(data_format)},
                                      {"filter_format", std::string(filter_format)}});
          if (!y.valid()) continue;
          EXPECT_TENSOR_NEAR(nhwc ? Permute(y, kNhwcToNchw) : y, nchw, want, tol);
        }
      }
    }
  }
}

// Half precision: the kernel accumulates in double and rounds once, so the result is the
// f64 oracle rounded to the dtype.
TEST(Conv2DTest, HalfTypesRoundOnceFromTheOracle) {
  const ConvCase k = Cases()[4];  // groups2
  for (DataType dt : {DataType::kF16, DataType::kBF16}) {
    SCOPED_TRACE(DataTypeName(dt));
    Tensor x = RandomTensor(dt, Shape{k.n, k.c, k.h, k.w}, 71);
    Tensor w = RandomTensor(dt, Shape{k.o, k.c / k.groups, k.kh, k.kw}, 72);
    Tensor b = RandomTensor(dt, Shape{k.o}, 73);
    int oh = 0, ow = 0;
    std::vector<double> want = NaiveConv(k, Values(x), Values(w), Values(b), &oh, &ow);
    Tensor y = RunConv({x, w, b}, {{"strides", k.strides},
                                   {"pads", k.pads},
                                   {"dilations", k.dilations},
                                   {"groups", k.groups}});
    // |y| stays below 8 here, where an f16 ulp is <= 2^-8 and a bf16 ulp <= 2^-5; one
    // rounding errs by at most half of that.
    EXPECT_TENSOR_NEAR(y, (Shape{k.n, k.o, oh, ow}), want, dt == DataType::kF16 ? 4e-3 : 1.6e-2);
  }
}

// --- Size-0 and size-1 dimensions -----------------------------------------------------

TEST(Conv2DTest, EmptyBatch) {
  Tensor x = MakeTensor(DataType::kF32, Shape{0, 2, 4, 4}, {});
  Tensor w = MakeTensor(DataType::kF32, Shape{3, 2, 3, 3}, std::vector<double>(54, 1.0));
  EXPECT_TENSOR_NEAR(RunConv({x, w}), (Shape{0, 3, 2, 2}), std::vector<double>{}, 0.0);
}

// No input channels: every sum is empty, so the output is the bias.
TEST(Conv2DTest, ZeroInputChannelsGiveBias) {
  Tensor x = MakeTensor(DataType::kF64, Shape{1, 0, 3, 3}, {});
  Tensor w = MakeTensor(DataType::kF64, Shape{2, 0, 2, 2}, {});
  Tensor b = MakeTensor(DataType::kF64, Shape{2}, {1.5, -2});
  EXPECT_TENSOR_NEAR(RunConv({x, w, b}), (Shape{1, 2, 2, 2}),
                     (std::vector<double>{1.5, 1.5, 1.5, 1.5, -2, -2, -2, -2}), 0.0);
}

TEST(Conv2DTest, ZeroOutputChannels) {
  Tensor x = MakeTensor(DataType::kF32, Shape{1, 2, 3, 3}, Iota(18));
  Tensor w = MakeTensor(DataType::kF32, Shape{0, 2, 1, 1}, {});
  EXPECT_TENSOR_NEAR(RunConv({x, w}), (Shape{1, 0, 3, 3}), std::vector<double>{}, 0.0);
}

// Zero height padded to fit the kernel: the windows see only padding, so zeros.
TEST(Conv2DTest, ZeroHeightWithPadding) {
  Tensor x = MakeTensor(DataType::kF32, Shape{1, 1, 0, 2}, {});
  Tensor w = MakeTensor(DataType::kF32, Shape{1, 1, 2, 1}, {1, 1});
  Tensor y = RunConv({x, w}, {{"pads", std::vector<int64_t>{1, 0, 1, 0}}});
  EXPECT_TENSOR_NEAR(y, (Shape{1, 1, 1, 2}), (std::vector<double>{0, 0}), 0.0);
}

// All-ones sizes: one multiply.
TEST(Conv2DTest, SizeOneEverything) {
  Tensor x = MakeTensor(DataType::kF32, Shape{1, 1, 1, 1}, {3});
  Tensor w = MakeTensor(DataType::kF32, Shape{1, 1, 1, 1}, {-4});
  Tensor b = MakeTensor(DataType::kF32, Shape{1}, {0.5});
  EXPECT_TENSOR_NEAR(RunConv({x, w, b}), (Shape{1, 1, 1, 1}), (std::vector<double>{-11.5}), 0.0);
}

// The kernel exactly as large as the padded input gives one output per dimension.
TEST(Conv2DTest, KernelAsLargeAsPaddedInput) {
  EXPECT_EQ(InferShape({{DataType::kF32, Shape{1, 1, 3, 4}}, {DataType::kF32, Shape{1, 1, 5, 4}}},
                       {{"pads", std::vector<int64_t>{1, 0, 1, 0}}}),
            (Shape{1, 1, 1, 1}));
}

// --- Shape inference ------------------------------------------------------------------

TEST(Conv2DTest, InfersShapes) {
  const DataType f = DataType::kF32;
  EXPECT_EQ(InferShape({{f, Shape{2, 3, 10, 12}}, {f, Shape{8, 3, 3, 5}}},
                       {{"strides", std::vector<int64_t>{2, 3}},
                        {"pads", std::vector<int64_t>{1, 2, 1, 2}}}),
            (Shape{2, 8, 5, 4}));
  // (10 + 0 - 2*(3-1) - 1) / 1 + 1 = 6.
  EXPECT_EQ(InferShape({{f, Shape{1, 3, 10, 10}}, {f, Shape{4, 3, 3, 3}}},
                       {{"dilations", std::vector<int64_t>{2, 2}}}),
            (Shape{1, 4, 6, 6}));
  EXPECT_EQ(InferShape({{f, Shape{1, 10, 10, 6}}, {f, Shape{3, 3, 2, 9}}},
                       {{"data_format", std::string("NHWC")},
                        {"filter_format", std::string("HWIO")},
                        {"groups", int64_t{3}}}),
            (Shape{1, 8, 8, 9}));
}

TEST(Conv2DTest, UnknownDimsPropagate) {
  const DataType f = DataType::kF32;
  EXPECT_EQ(InferShape({{f, Shape{-1, 3, -1, -1}}, {f, Shape{8, 3, 3, 3}}},
                       {{"pads", std::vector<int64_t>{1, 1, 1, 1}}}),
            (Shape{-1, 8, -1, -1}));
  // Unknown channels cannot be checked against the filter yet.
  EXPECT_EQ(InferShape({{f, Shape{2, -1, 10, 10}}, {f, Shape{8, 3, 3, 3}}}), (Shape{2, 8, 8, 8}));
  // Unknown filter dimensions leave the dimensions they determine unknown.
  EXPECT_EQ(
      InferShape({{f, Shape{2, 6, 10, 10}}, {f, Shape{-1, 3, -1, 3}}}, {{"groups", int64_t{2}}}),
      (Shape{2, -1, -1, 8}));
  EXPECT_EQ(
      InferShape({{f, Shape{-1, 10, 10, -1}}, {f, Shape{3, 3, 4, 16}}, {f, Shape{-1}}},
                 {{"data_format", std::string("NHWC")}, {"filter_format", std::string("HWIO")}}),
      (Shape{-1, 8, 8, 16}));
  EXPECT_EQ(InferShape({{f, Shape{1, 4, 5, 5}}, {f, Shape{6, -1, 1, 1}}, {f, Shape{6}}},
                       {{"groups", int64_t{2}}}),
            (Shape{1, 6, 5, 5}));
}

// --- Errors ---------------------------------------------------------------------------

absl::StatusOr<std::vector<TensorType>> InferConv(const std::vector<Shape>& shapes,
                                                  AttrMap attrs = {},
                                                  DataType dt = DataType::kF32) {
  std::vector<TensorType> inputs;
  for (const Shape& s : shapes) inputs.push_back({dt, s});
  return InferSingleOp("Conv2D", inputs, std::move(attrs));
}

TEST(Conv2DTest, RejectsBadInputs) {
  const Shape x{1, 4, 8, 8};
  const Shape w{2, 4, 3, 3};
  ExpectInvalid(InferConv({Shape{4, 8, 8}, w}), "input 'x' has shape [4,8,8], expected rank 4");
  ExpectInvalid(InferConv({x, Shape{2, 4, 3}}), "input 'filter' has shape [2,4,3]");
  ExpectInvalid(InferConv({x, w, Shape{3}}), "input 'bias' has shape [3], expected [2]");
  ExpectInvalid(InferConv({x, w, Shape{1, 2}}), "input 'bias' has shape [1,2]");
  ExpectInvalid(InferConv({x, Shape{2, 3, 3, 3}}),
                "input 'filter' has 3 input channels per group, expected 4");
  ExpectInvalid(InferConv({x, Shape{2, 4, 0, 3}}), "kernel height and width must be >= 1");
  ExpectInvalid(InferConv({x, w}, {}, DataType::kI32), "input 0 has dtype i32");
  ExpectInvalid(InferSingleOp("Conv2D", {{DataType::kF32, x}, {DataType::kF64, w}}),
                "input 1 has dtype f64");
  ExpectInvalid(
      InferSingleOp("Conv2D",
                    {{DataType::kF32, x}, {DataType::kF32, w}, {DataType::kF16, Shape{2}}}),
      "input 2 has dtype f16");
  ExpectInvalid(InferConv({x}), "expected 2 to 3 inputs, got 1");
  ExpectInvalid(InferConv({x, w, Shape{2}, Shape{2}}), "expected 2 to 3 inputs, got 4");
}

TEST(Conv2DTest, RejectsBadAttributes) {
  const Shape x{1, 4, 8, 8};
  const Shape w{2, 4, 3, 3};
  using V = std::vector<int64_t>;
  ExpectInvalid(InferConv({x, w}, {{"strides", V{1}}}),
                "attribute 'strides' has 1 entries, expected 2");
  ExpectInvalid(InferConv({x, w}, {{"strides", V{1, 0}}}),
                "attribute 'strides' entry 1 is 0, expected >= 1");
  ExpectInvalid(InferConv({x, w}, {{"pads", V{0, 0, -1, 0}}}),
                "attribute 'pads' entry 2 is -1, expected >= 0");
  ExpectInvalid(InferConv({x, w}, {{"pads", V{0, 0}}}), "attribute 'pads' has 2 entries");
  ExpectInvalid(InferConv({x, w}, {{"dilations", V{0, 1}}}), "attribute 'dilations' entry 0 is 0");
  ExpectInvalid(InferConv({x, w}, {{"groups", int64_t{0}}}), "attribute 'groups' is 0");
  ExpectInvalid(InferConv({x, w}, {{"groups", int64_t{-2}}}), "attribute 'groups' is -2");
  ExpectInvalid(InferConv({x, Shape{2, 1, 3, 3}}, {{"groups", int64_t{3}}}),
                "attribute 'groups' (3) does not divide the 4 input channels");
  ExpectInvalid(InferConv({x, Shape{3, 2, 3, 3}}, {{"groups", int64_t{2}}}),
                "attribute 'groups' (2) does not divide the 3 output channels");
  ExpectInvalid(InferConv({x, w}, {{"data_format", std::string("CHWN")}}),
                "attribute 'data_format' is \"CHWN\"");
  ExpectInvalid(InferConv({x, w}, {{"filter_format", std::string("OHWI")}}),
                "attribute 'filter_format' is \"OHWI\"");
  ExpectInvalid(InferConv({x, w}, {{"strides", std::string("2")}}),
                "attribute 'strides' must be ints");
  ExpectInvalid(InferConv({x, w}, {{"stride", V{1, 1}}}), "unknown attribute 'stride'");
}

TEST(Conv2DTest, RejectsKernelLargerThanPaddedInput) {
  using V = std::vector<int64_t>;
  ExpectInvalid(InferConv({Shape{1, 1, 4, 4}, Shape{1, 1, 5, 3}}),
                "kernel height 5 (dilation 1, extent 5) is larger than the padded input "
                "height 4");
  ExpectInvalid(InferConv({Shape{1, 1, 4, 4}, Shape{1, 1, 3, 3}}, {{"dilations", V{1, 2}}}),
                "kernel width 3 (dilation 2, extent 5)");
  // Unknown height: the width can still be checked.
  ExpectInvalid(InferConv({Shape{1, 1, -1, 2}, Shape{1, 1, 3, 3}}), "kernel width 3");
}

// Hostile magnitudes are rejected before any arithmetic can overflow.
TEST(Conv2DTest, RejectsHugeAttributes) {
  using V = std::vector<int64_t>;
  const Shape x{1, 1, 8, 8};
  const Shape w{1, 1, 3, 3};
  const int64_t big = std::numeric_limits<int64_t>::max();
  ExpectInvalid(InferConv({x, w}, {{"pads", V{big, 0, big, 0}}}),
                "attribute 'pads' entry 0 is 9223372036854775807, which exceeds 2^40");
  ExpectInvalid(InferConv({x, w}, {{"strides", V{1, big}}}), "attribute 'strides' entry 1");
  // The largest allowed dilation times kernel 6 exceeds any input, even an unknown one.
  ExpectInvalid(
      InferConv({Shape{1, 1, -1, 8}, Shape{1, 1, 6, 3}}, {{"dilations", V{int64_t{1} << 40, 1}}}),
      "kernel height 6 with dilation 1099511627776 spans more than 2^42");
  ExpectInvalid(InferConv({x, w}, {{"dilations", V{big, 1}}}), "attribute 'dilations' entry 0");
  ExpectInvalid(InferConv({x, w}, {{"groups", big}}), "attribute 'groups' is");
  // Maximal legal pads and strides are fine: one output row and column.
  EXPECT_EQ(InferShape({{DataType::kF32, x}, {DataType::kF32, w}},
                       {{"pads", V{int64_t{1} << 40, 0, int64_t{1} << 40, 0}},
                        {"strides", V{int64_t{1} << 40, int64_t{1} << 40}}}),
            (Shape{1, 1, 3, 1}));
}

// --- FLOPs ----------------------------------------------------------------------------

int64_t Flops(const std::vector<TensorType>& inputs, AttrMap attrs) {
  const OpDef* def = OpRegistry::Global().Find("Conv2D");
  std::vector<TensorType> outputs = InferSingleOp("Conv2D", inputs, attrs).value();
  Node node;
  node.name = "conv";
  node.op = "Conv2D";
  node.attrs = std::move(attrs);
  for (const AttrSpec& spec : def->attrs) {
    if (!node.HasAttr(spec.name)) node.attrs[spec.name] = *spec.default_value;
  }
  return def->flops(node, inputs, outputs);
}

TEST(Conv2DTest, Flops) {
  const DataType f = DataType::kF32;
  // 2 * N2 * OH4 * OW4 * O6 * (C4 / groups2) * KH3 * KW3.
  EXPECT_EQ(Flops({{f, Shape{2, 4, 9, 9}}, {f, Shape{6, 2, 3, 3}}},
                  {{"groups", int64_t{2}}, {"strides", std::vector<int64_t>{2, 2}}}),
            2 * 2 * 4 * 4 * 6 * 2 * 3 * 3);
  EXPECT_EQ(Flops({{f, Shape{1, 5, 5, 3}}, {f, Shape{1, 1, 3, 7}}},
                  {{"data_format", std::string("NHWC")}, {"filter_format", std::string("HWIO")}}),
            2 * 1 * 5 * 5 * 7 * 3);
  // Unknown dimensions: unknown count, reported as 0.
  EXPECT_EQ(Flops({{f, Shape{-1, 4, 9, 9}}, {f, Shape{6, 4, 3, 3}}}, {}), 0);
}

// The typed builder API passes attributes the schema accepts, with the same meanings.
TEST(Conv2DTest, BuilderApi) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{-1, 8, 8, 4});
  Value w = b.Input("w", DataType::kF32, Shape{3, 3, 2, 6});
  Value bias = b.Input("bias", DataType::kF32, Shape{6});
  ops::Conv2DOptions options;
  options.strides = {2, 2};
  options.pads = {1, 1, 1, 1};
  options.groups = 2;
  options.data_format = "NHWC";
  options.filter_format = "HWIO";
  Value y = ops::Conv2D(b, x, w, bias, options);
  Value z = ops::Conv2D(b, y, b.Input("w2", DataType::kF32, Shape{1, 1, 6, 5}),
                        ops::Conv2DOptions{.data_format = "NHWC", .filter_format = "HWIO"});
  ASSERT_TRUE(b.status().ok()) << b.status();
  EXPECT_EQ(y.shape(), (Shape{-1, 4, 4, 6}));
  EXPECT_EQ(z.shape(), (Shape{-1, 4, 4, 5}));
}

}  // namespace
}  // namespace kiln
