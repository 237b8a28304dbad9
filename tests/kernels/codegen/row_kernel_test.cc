// Generated row kernels (Softmax along the last axis, LayerNorm, trailing-axis ReduceSum,
// ReduceMean and ReduceMax) against the reference
// interpreter through the generated provider: odd and size-1 rows, empty tensors, rows
// longer than a vector, BERT's shapes, -inf, NaN and +inf inside rows, several workgroup
// splits (the harness); which nodes become row kernels and which stay on the library.
//
// Tolerances as the CPU library's (tests/kernels/cpu/normalization_kernels_test.cc), whose
// algorithms these are: Softmax (|x - max| + 4) ulp, 24 ulp for inputs in [-8, 8] (the
// same exp polynomial, the sum in f64, a rounded 1 / sum); LayerNorm 4 ulp plus 1e-6 for
// O(1) data (mean and variance in f64, the affine map in f32). The f64 sums are
// reassociated into vector lanes, which changes their rounding by far less than f32's.
#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/codegen/generated_kernel_provider.h"
#include "kernels/codegen/row_kernel.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "tests/kernels/cpu/kernel_harness.h"

namespace kiln {
namespace {

using testing::CheckKernel;
using testing::FromSet;
using testing::KernelCase;
using testing::Random;
using testing::Tolerance;

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();
const Tolerance kSoftmax{24 * testing::Ulp(DataType::kF32), 0, 0};
const Tolerance kLayerNorm{4 * testing::Ulp(DataType::kF32), 1e-6, 0};
// Sums in f64 rounded once to f32 (the CPU library's), in another order than the
// reference's: 1 ulp plus n 2^-52 sum |x|; a maximum is exact.
Tolerance kSum(int64_t n) {
  return Tolerance{testing::Ulp(DataType::kF32), 0, static_cast<double>(n) * 0x1p-52};
}

std::shared_ptr<const KernelProvider> Generated() {
  static const auto* provider = new std::shared_ptr<const KernelProvider>(
      CreateGeneratedKernelProvider(CreateCpuKernelProvider()));
  return *provider;
}

KernelCase Case(std::string op, std::vector<Tensor> inputs, AttrMap attrs) {
  KernelCase c{std::move(op), std::move(inputs), std::move(attrs)};
  c.provider = Generated();
  return c;
}

// The name of the kernel the generated provider prepares for `c`.
std::string KernelNameOf(const KernelCase& c) {
  absl::StatusOr<PreparedKernel> kernel = testing::PrepareCase(c);
  EXPECT_TRUE(kernel.ok()) << kernel.status();
  return kernel.ok() ? kernel->name : "";
}

TEST(RowKernelTest, SoftmaxMatchesReference) {
  uint64_t seed = 1;
  const std::vector<Shape> shapes = {{7},    {3, 5},        {4, 1},         {0, 4},
                                     {1, 130}, {64, 1000}, {2, 3, 4, 5}, {12, 128, 128}};
  for (const Shape& shape : shapes) {
    KernelCase c = Case("Softmax", {Random(DataType::kF32, shape, seed++, -8, 8)},
                        {{"axis", int64_t{-1}}});
    EXPECT_TRUE(CheckKernel(c, kSoftmax)) << shape.ToString();
    if (shape.NumElements() > 0) {
      EXPECT_EQ(KernelNameOf(c).rfind("gen.row.", 0), 0u) << shape.ToString();
    }
  }
  // -inf entries and rows of equal values; a NaN in a row; rows longer than a vector with
  // a NaN inside row 1 and +inf at the end of row 2.
  EXPECT_TRUE(CheckKernel(
      Case("Softmax", {FromSet(DataType::kF32, Shape{40, 6}, seed++, {0.0, 1.0, -kInf, 2.0, 3.0})},
           {{"axis", int64_t{1}}}),
      kSoftmax));
  Tensor with_nan = Random(DataType::kF32, Shape{5, 9}, seed++);
  with_nan.SetFromDouble(12, kNaN);
  EXPECT_TRUE(CheckKernel(Case("Softmax", {with_nan}, {{"axis", int64_t{-1}}}), kSoftmax));
  Tensor long_rows = Random(DataType::kF32, Shape{3, 37}, seed++, -8, 8);
  long_rows.SetFromDouble(37 + 5, kNaN);
  long_rows.SetFromDouble(2 * 37 + 36, kInf);
  EXPECT_TRUE(CheckKernel(Case("Softmax", {long_rows}, {{"axis", int64_t{-1}}}), kSoftmax));
}

TEST(RowKernelTest, LayerNormMatchesReference) {
  uint64_t seed = 100;
  struct AxisCase {
    Shape shape;
    int64_t axis;
  };
  const std::vector<AxisCase> cases = {
      {Shape{7}, 0},       {Shape{3, 5}, -1},   {Shape{3, 5}, 0},  {Shape{2, 3, 4}, 1},
      {Shape{8, 768}, -1}, {Shape{4, 1}, 1},    {Shape{0, 6}, 1},  {Shape{16, 33, 3}, 1},
      {Shape{128, 768}, -1},
  };
  for (const AxisCase& a : cases) {
    const int axis = static_cast<int>(a.axis < 0 ? a.axis + a.shape.rank() : a.axis);
    const Shape params(
        std::vector<int64_t>(a.shape.dims().begin() + axis, a.shape.dims().end()));
    KernelCase c = Case("LayerNorm",
                        {Random(DataType::kF32, a.shape, seed++, -3, 5),
                         Random(DataType::kF32, params, seed++, 0.5, 2),
                         Random(DataType::kF32, params, seed++, -1, 1)},
                        {{"axis", a.axis}, {"epsilon", 1e-5}});
    EXPECT_TRUE(CheckKernel(c, kLayerNorm)) << a.shape.ToString() << " axis " << a.axis;
    if (a.shape.NumElements() > 0) {
      EXPECT_EQ(KernelNameOf(c).rfind("gen.row.", 0), 0u) << a.shape.ToString();
    }
  }
}

// ReduceSum, ReduceMean and ReduceMax over trailing axes, keepdims or not, with NaN and
// infinities inside rows and empty reductions (a sum of nothing is 0, a mean NaN).
TEST(RowKernelTest, TrailingReductionsMatchReference) {
  uint64_t seed = 300;
  struct ReduceCase {
    Shape shape;
    std::vector<int64_t> axes;
  };
  const std::vector<ReduceCase> cases = {
      {Shape{7}, {}},           {Shape{3, 5}, {-1}},       {Shape{3, 5}, {0, 1}},
      {Shape{2, 3, 70}, {1, 2}}, {Shape{4, 1}, {1}},       {Shape{1, 2048, 1, 1}, {2, 3}},
      {Shape{64, 1000}, {1}},   {Shape{3, 0}, {1}},
  };
  for (const std::string op : {"ReduceSum", "ReduceMean", "ReduceMax"}) {
    for (const ReduceCase& rc : cases) {
      if (op == "ReduceMax" && rc.shape.NumElements() == 0) continue;  // an error
      for (bool keepdims : {false, true}) {
        KernelCase c = Case(op, {Random(DataType::kF32, rc.shape, seed++, -4, 4)},
                            {{"axes", rc.axes}, {"keepdims", keepdims}});
        int64_t n = 1;
        for (int d = 0; d < rc.shape.rank(); ++d) {
          const bool reduced =
              rc.axes.empty() || std::count(rc.axes.begin(), rc.axes.end(), d) > 0 ||
              std::count(rc.axes.begin(), rc.axes.end(), d - rc.shape.rank()) > 0;
          if (reduced) n *= rc.shape.dim(d);
        }
        EXPECT_TRUE(CheckKernel(c, op == "ReduceMax" ? Tolerance{} : kSum(n)))
            << op << " " << rc.shape.ToString();
        EXPECT_EQ(KernelNameOf(c).rfind("gen.row.", 0), 0u) << op << " " << rc.shape.ToString();
      }
    }
    Tensor special = Random(DataType::kF32, Shape{4, 9}, seed++);
    special.SetFromDouble(3, kNaN);
    special.SetFromDouble(9 + 8, kInf);
    special.SetFromDouble(18, -kInf);
    special.SetFromDouble(27 + 4, kNaN);
    special.SetFromDouble(27 + 5, kInf);
    EXPECT_TRUE(CheckKernel(Case(op, {special}, {{"axes", std::vector<int64_t>{1}}}),
                            op == "ReduceMax" ? Tolerance{} : kSum(9)))
        << op;
  }
}

// Softmax along another axis, and other dtypes, stay on the CPU library.
TEST(RowKernelTest, OtherAxesAndDtypesStayOnTheLibrary) {
  KernelCase inner = Case("Softmax", {Random(DataType::kF32, Shape{3, 5}, 7)},
                          {{"axis", int64_t{0}}});
  EXPECT_TRUE(CheckKernel(inner, kSoftmax));
  EXPECT_EQ(KernelNameOf(inner).rfind("cpu.", 0), 0u);
  KernelCase f64 = Case("Softmax", {Random(DataType::kF64, Shape{3, 5}, 8)},
                        {{"axis", int64_t{-1}}});
  EXPECT_EQ(KernelNameOf(f64).rfind("cpu.", 0), 0u);
  absl::StatusOr<Graph> graph = testing::SingleOpGraph(inner);
  ASSERT_TRUE(graph.ok()) << graph.status();
  absl::Status status = codegen::CheckRowKernel(*graph, graph->node(graph->num_nodes() - 1));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(status.message().find("node 'op' (Softmax)"), std::string::npos) << status;
  EXPECT_NE(status.message().find("the axis is not the last"), std::string::npos) << status;
  // A reduction over leading axes.
  KernelCase leading = Case("ReduceSum", {Random(DataType::kF32, Shape{3, 5}, 9)},
                            {{"axes", std::vector<int64_t>{0}}, {"keepdims", false}});
  EXPECT_TRUE(CheckKernel(leading, kSum(3)));
  EXPECT_EQ(KernelNameOf(leading).rfind("cpu.", 0), 0u);
}

}  // namespace
}  // namespace kiln
