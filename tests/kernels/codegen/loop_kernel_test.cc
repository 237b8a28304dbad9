// Generated loop kernels against the reference interpreter: each Fusion case is compiled
// through MLIR and LLVM for this host and run by the kernel harness (outputs poisoned with
// NaN, several workgroup splits in shuffled order). Sizes 0, 1, 7, 64, 1000 and odd
// shapes, broadcasts on every side, channel-axis bias, dense and scalar constants, several
// outputs, NaN/inf propagation, and the streaming stores of large outputs.
//
// Tolerances (f32, relative to the double-precision reference): arithmetic-only chains
// within 4 ulp (each op rounds once, a chain of a few ops); chains with MLIR's polynomial
// tanh/exp/log/erf within 16 ulp of the value plus 4 ulp of absolute error near zero,
// where the approximations' relative error grows (measured bounds in
// tests/kernels/codegen/math_accuracy_test.cc).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "graph/fusion.h"
#include "gtest/gtest.h"
#include "kernels/codegen/generated_kernel_provider.h"
#include "kernels/codegen/loop_kernel.h"
#include "kernels/codegen/scalar_ops.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "tests/kernels/cpu/kernel_harness.h"

namespace kiln {
namespace {

using testing::CheckKernel;
using testing::KernelCase;
using testing::Random;
using testing::Tolerance;
using namespace ops;  // NOLINT: the builder op functions read as the math they build

using BodyFn = std::function<std::vector<Value>(GraphBuilder&, const std::vector<Value>&)>;

std::shared_ptr<const KernelProvider> Generated() {
  static const auto* provider = new std::shared_ptr<const KernelProvider>(
      CreateGeneratedKernelProvider(CreateCpuKernelProvider()));
  return *provider;
}

// A loop Fusion over `inputs` whose body `build` makes.
KernelCase FusionCase(std::vector<Tensor> inputs, const BodyFn& build) {
  GraphBuilder b;
  std::vector<Value> in;
  for (size_t i = 0; i < inputs.size(); ++i) {
    in.push_back(b.Input(absl::StrCat("x", i), inputs[i].dtype(), inputs[i].shape()));
  }
  std::vector<Value> out = build(b, in);
  for (size_t j = 0; j < out.size(); ++j) b.Output(absl::StrCat("y", j), out[j]);
  absl::StatusOr<Graph> body = b.BuildGraph();
  EXPECT_TRUE(body.ok()) << body.status();
  KernelCase c;
  c.op = std::string(kFusionOp);
  c.inputs = std::move(inputs);
  c.attrs[std::string(kFusionKindAttr)] = std::string("loop");
  c.attrs[std::string(kFusionBodyAttr)] = std::make_shared<const Graph>(*std::move(body));
  c.provider = Generated();
  return c;
}

const Tolerance kArithmetic{4 * testing::Ulp(DataType::kF32), 1e-30, 0};
const Tolerance kTranscendental{16 * testing::Ulp(DataType::kF32),
                                4 * testing::Ulp(DataType::kF32), 0};

const std::vector<Shape> kShapes = {{0}, {1}, {7}, {64}, {1000}, {3, 5, 7}, {2, 1, 33}};

TEST(LoopKernelTest, EltwiseSuiteChain) {
  // y = tanh(x*a+b) * sigmoid(x) + x*x - 0.5*x, the suite's eltwise model.
  for (const Shape& shape : kShapes) {
    KernelCase c = FusionCase({Random(DataType::kF32, shape, 1, -4, 4)},
                              [](GraphBuilder& b, const std::vector<Value>& x) {
      Value ax = Mul(b, x[0], ScalarLike(b, x[0], 1.5409960746765137));
      Value t = Tanh(b, Add(b, ax, ScalarLike(b, x[0], -0.293428897857666)));
      Value s = Mul(b, t, Sigmoid(b, x[0]));
      Value sq = Add(b, s, Mul(b, x[0], x[0]));
      return std::vector<Value>{Sub(b, sq, Mul(b, ScalarLike(b, x[0], 0.5), x[0]))};
    });
    EXPECT_TRUE(CheckKernel(c, kTranscendental)) << shape.ToString();
  }
}

TEST(LoopKernelTest, BiasGeluBroadcastsTheLastDimension) {
  for (const Shape& shape : std::vector<Shape>{{2, 3, 7}, {1, 1, 1}, {4, 1000}, {5, 0}}) {
    const Shape bias_shape{shape.dim(shape.rank() - 1)};
    for (const std::string mode : {"none", "tanh"}) {
      KernelCase c = FusionCase(
          {Random(DataType::kF32, shape, 2, -3, 3), Random(DataType::kF32, bias_shape, 3)},
          [mode](GraphBuilder& b, const std::vector<Value>& x) {
            return std::vector<Value>{Gelu(b, Add(b, x[0], x[1]), mode)};
          });
      EXPECT_TRUE(CheckKernel(c, kTranscendental)) << shape.ToString() << " " << mode;
    }
  }
}

TEST(LoopKernelTest, BroadcastsOnEverySide) {
  // [5,1] + [1,7] -> [5,7], times a full [5,7]; and a scalar input.
  KernelCase c = FusionCase({Random(DataType::kF32, {5, 1}, 4), Random(DataType::kF32, {1, 7}, 5),
                             Random(DataType::kF32, {5, 7}, 6), Random(DataType::kF32, {}, 7)},
                            [](GraphBuilder& b, const std::vector<Value>& x) {
    Value sum = Add(b, x[0], x[1]);
    return std::vector<Value>{Sub(b, Mul(b, sum, x[2]), x[3])};
  });
  EXPECT_TRUE(CheckKernel(c, kArithmetic));
  // The broadcast operand first, a rank-4 loop with size-1 and odd dimensions.
  KernelCase d = FusionCase({Random(DataType::kF32, {3, 1, 5}, 8),
                             Random(DataType::kF32, {2, 3, 4, 5}, 9)},
                            [](GraphBuilder& b, const std::vector<Value>& x) {
    return std::vector<Value>{Maximum(b, Div(b, x[0], Add(b, x[1], ScalarLike(b, x[1], 3))),
                                      ScalarLike(b, x[1], -0.1))};
  });
  EXPECT_TRUE(CheckKernel(d, kArithmetic));
}

TEST(LoopKernelTest, ChannelBiasOfNchw) {
  // BiasAdd along axis 1 of NCHW (the bias is not NumPy-aligned), then Relu; the same bias
  // also read NumPy-style by a second member (two views of one input).
  KernelCase c = FusionCase({Random(DataType::kF32, {2, 3, 4, 3}, 10),
                             Random(DataType::kF32, {3}, 11)},
                            [](GraphBuilder& b, const std::vector<Value>& x) {
    Value biased = Relu(b, BiasAdd(b, x[0], x[1], 1));
    return std::vector<Value>{Mul(b, biased, x[1])};
  });
  EXPECT_TRUE(CheckKernel(c, kArithmetic));
}

TEST(LoopKernelTest, SeveralOutputsAndDenseConstants) {
  KernelCase c = FusionCase({Random(DataType::kF32, {9, 6}, 12)},
                            [](GraphBuilder& b, const std::vector<Value>& x) {
    Value scale = b.Constant(Tensor::F32({6}, {1, -2, 3, -4, 5, 0.25}));
    Value e = Exp(b, Mul(b, x[0], scale));
    Value plus = Add(b, e, ScalarLike(b, e, 1));
    return std::vector<Value>{e, Log(b, plus)};
  });
  EXPECT_TRUE(CheckKernel(c, kTranscendental));
}

TEST(LoopKernelTest, NanAndInfinityPropagate) {
  const std::vector<double> specials = {0.0, -0.0, 1.5, -2.0, std::nan(""), INFINITY,
                                        -INFINITY, 1e30, -1e30};
  for (const char* op : {"Maximum", "Minimum"}) {
    KernelCase c = FusionCase(
        {testing::FromSet(DataType::kF32, {41}, 13, specials),
         testing::FromSet(DataType::kF32, {41}, 14, specials)},
        [op](GraphBuilder& b, const std::vector<Value>& x) {
          return std::vector<Value>{b.AddOp1(op, {Relu(b, x[0]), x[1]})};
        });
    EXPECT_TRUE(CheckKernel(c, kArithmetic)) << op;
  }
  KernelCase t = FusionCase({testing::FromSet(DataType::kF32, {41}, 15, specials)},
                            [](GraphBuilder& b, const std::vector<Value>& x) {
    return std::vector<Value>{Add(b, Tanh(b, x[0]), Sigmoid(b, x[0]))};
  });
  EXPECT_TRUE(CheckKernel(t, kTranscendental));
  // exp and erf-GELU's exp of a non-positive argument take NaN through their clamps.
  for (const char* op : {"Exp", "Gelu"}) {
    KernelCase e = FusionCase({testing::FromSet(DataType::kF32, {41}, 16, specials)},
                              [op](GraphBuilder& b, const std::vector<Value>& x) {
      return std::vector<Value>{b.AddOp1(op, {x[0]})};
    });
    EXPECT_TRUE(CheckKernel(e, kTranscendental)) << op;
  }
}

// f64 loops: the arithmetic ops (the math functions are f32 polynomials), broadcasts
// on both sides, a channel-axis bias and scalar constants, within 4 ulp of f64.
TEST(LoopKernelTest, F64ArithmeticChains) {
  const Tolerance f64{4 * testing::Ulp(DataType::kF64), 1e-300, 0};
  uint64_t seed = 60;
  for (const Shape& shape : kShapes) {
    const Shape row{shape.rank() == 0 ? 1 : shape.dim(shape.rank() - 1)};
    KernelCase c = FusionCase(
        {Random(DataType::kF64, shape, seed++, -3, 3), Random(DataType::kF64, row, seed++, 0.5, 2)},
        [](GraphBuilder& b, const std::vector<Value>& x) {
          Value t = Div(b, Sub(b, Mul(b, x[0], x[1]), ScalarLike(b, x[0], 0.25)), x[1]);
          Value u = Maximum(b, Relu(b, Neg(b, t)), Abs(b, Minimum(b, x[0], x[1])));
          Value v = Sqrt(b, Add(b, u, x[1]));
          Value w = b.AddOp1("BiasAdd", {Mul(b, x[0], x[0]), x[1]}, {{"axis", int64_t{-1}}});
          return std::vector<Value>{v, w};
        });
    EXPECT_TRUE(CheckKernel(c, f64)) << shape.ToString();
  }
  // A math function in f64 has no generated lowering; the cluster says so.
  KernelCase exp = FusionCase({Random(DataType::kF64, {5}, seed++)},
                              [](GraphBuilder& b, const std::vector<Value>& x) {
    return std::vector<Value>{Exp(b, Add(b, x[0], x[0]))};
  });
  Node fusion;
  fusion.name = "fusion_f64";
  fusion.op = std::string(kFusionOp);
  fusion.attrs = exp.attrs;
  const absl::Status status = codegen::CheckLoopFusion(fusion);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(status.message().find("has no f64 scalar lowering"), std::string::npos) << status;
}

// i32 and i64 loops wrap as the reference does (its int64 result narrowed): values at
// the type's limits, broadcasts, a dense one-element constant, exact comparison.
TEST(LoopKernelTest, IntegerChainsWrap) {
  uint64_t seed = 80;
  for (DataType dtype : {DataType::kI32, DataType::kI64}) {
    const double lo = dtype == DataType::kI32 ? -2147483648.0 : -9223372036854775808.0;
    const double hi = dtype == DataType::kI32 ? 2147483647.0 : 9223372036854775807.0;
    for (const Shape& shape : kShapes) {
      const Shape row{shape.rank() == 0 ? 1 : shape.dim(shape.rank() - 1)};
      KernelCase c = FusionCase(
          {testing::FromSet(dtype, shape, seed++, {lo, hi, -7, -1, 0, 1, 3, 1000000}),
           testing::FromSet(dtype, row, seed++, {lo, -2, 0, 5, hi})},
          [](GraphBuilder& b, const std::vector<Value>& x) {
            Value t = Sub(b, Mul(b, x[0], x[1]), Neg(b, x[0]));
            Value u = Maximum(b, Relu(b, t), Abs(b, Minimum(b, x[0], x[1])));
            return std::vector<Value>{Add(b, u, ScalarLike(b, x[0], 3)), Abs(b, Sub(b, x[1], x[0]))};
          });
      EXPECT_TRUE(CheckKernel(c, Tolerance{})) << DataTypeName(dtype) << shape.ToString();
    }
  }
  // Division is not generated for integers (its divisor may be zero).
  KernelCase div = FusionCase({Random(DataType::kI32, {5}, seed++, 1, 9)},
                              [](GraphBuilder& b, const std::vector<Value>& x) {
    return std::vector<Value>{Div(b, Add(b, x[0], x[0]), x[0])};
  });
  Node fusion;
  fusion.name = "fusion_i32";
  fusion.op = std::string(kFusionOp);
  fusion.attrs = div.attrs;
  EXPECT_NE(codegen::CheckLoopFusion(fusion).message().find("has no i32 scalar lowering"),
            std::string::npos);
}

TEST(LoopKernelTest, EveryLoweredOpAlone) {
  for (const std::string& op : codegen::ScalarLoweringOps()) {
    const bool binary = op == "Add" || op == "Sub" || op == "Mul" || op == "Div" ||
                        op == "Pow" || op == "Maximum" || op == "Minimum" || op == "BiasAdd";
    // Positive inputs where the op needs them (Log, Sqrt, Rsqrt, Pow's base).
    const bool positive = op == "Log" || op == "Sqrt" || op == "Rsqrt" || op == "Pow";
    std::vector<Tensor> inputs = {
        Random(DataType::kF32, {3, 37}, 20, positive ? 0.05 : -3, 3)};
    if (binary) inputs.push_back(Random(DataType::kF32, {37}, 21, 0.5, 2));
    KernelCase c = FusionCase(inputs, [op](GraphBuilder& b, const std::vector<Value>& x) {
      // Identity emits nothing (its readers read its input): it needs a computing reader.
      if (op == "Identity") return std::vector<Value>{Neg(b, b.AddOp1(op, x))};
      return std::vector<Value>{b.AddOp1(op, x)};
    });
    const Tolerance tol = op == "Pow" ? Tolerance{32 * testing::Ulp(DataType::kF32), 1e-30, 0}
                                      : kTranscendental;
    EXPECT_TRUE(CheckKernel(c, tol)) << op;
  }
}

TEST(LoopKernelTest, ClustersThatCanonicalizeToCopiesStillLower) {
  // x * 1 + 0 folds to x in MLIR's canonicalizer; the copy it leaves becomes a loop.
  for (const Shape& shape : std::vector<Shape>{{5}, {3, 7}}) {
    KernelCase c = FusionCase({Random(DataType::kF32, shape, 40)},
                              [](GraphBuilder& b, const std::vector<Value>& x) {
      Value one = Mul(b, x[0], ScalarLike(b, x[0], 1));
      return std::vector<Value>{Add(b, one, ScalarLike(b, x[0], -0.0))};
    });
    EXPECT_TRUE(CheckKernel(c, kArithmetic)) << shape.ToString();
  }
}

// Whether the loop kernel of case `c` streams its stores (loop_kernel.h).
bool Streams(const KernelCase& c) {
  absl::StatusOr<Graph> graph = testing::SingleOpGraph(c);
  EXPECT_TRUE(graph.ok()) << graph.status();
  if (!graph.ok()) return false;
  absl::StatusOr<codegen::LoopKernelSource> source =
      codegen::EmitLoopKernel(*graph, graph->node(*graph->FindNode("op")));
  EXPECT_TRUE(source.ok()) << source.status();
  return source.ok() && source->stream_stores;
}

TEST(LoopKernelTest, LargeLightLoopsStreamTheirStores) {
  // A multiply-add, a ReLU and a negation into two outputs of 4M + 5 floats (over 32 MiB
  // together): non-temporal stores where a workgroup's part is aligned, ordinary ones
  // where the splits cut it elsewhere, both against the reference.
  const BodyFn light = [](GraphBuilder& b, const std::vector<Value>& x) {
    Value y = Relu(b, Add(b, Mul(b, x[0], ScalarLike(b, x[0], 2)), ScalarLike(b, x[0], 1)));
    return std::vector<Value>{y, Neg(b, x[0])};
  };
  const Shape large{(int64_t{1} << 22) + 5};
  KernelCase c = FusionCase({Random(DataType::kF32, large, 50)}, light);
  EXPECT_TRUE(Streams(c));
  EXPECT_TRUE(CheckKernel(c, kArithmetic));

  // Small outputs stay in the caches; heavier arithmetic per element gains nothing.
  EXPECT_FALSE(Streams(FusionCase({Random(DataType::kF32, {1000}, 51)}, light)));
  EXPECT_FALSE(Streams(FusionCase({Random(DataType::kF32, large, 52)},
                                  [](GraphBuilder& b, const std::vector<Value>& x) {
    return std::vector<Value>{Tanh(b, x[0]), Neg(b, x[0])};
  })));
}

TEST(LoopKernelTest, UnsupportedClustersSayWhy) {
  KernelCase c = FusionCase({Random(DataType::kF32, {4}, 30)},
                            [](GraphBuilder& b, const std::vector<Value>& x) {
    return std::vector<Value>{Cast(b, x[0], DataType::kF64)};
  });
  Node fusion;
  fusion.name = "fusion_3";
  fusion.op = std::string(kFusionOp);
  fusion.attrs = c.attrs;
  absl::Status status = codegen::CheckLoopFusion(fusion);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(status.message().find("fusion 'fusion_3'"), std::string::npos) << status;
  fusion.attrs[std::string(kFusionKindAttr)] = std::string("reduction");
  EXPECT_NE(codegen::CheckLoopFusion(fusion).message().find("kind"), std::string::npos);

  // An output that copies an input is left to the library's Identity kernel.
  KernelCase copy = FusionCase({Random(DataType::kF32, {4}, 31)},
                               [](GraphBuilder& b, const std::vector<Value>& x) {
    return std::vector<Value>{Neg(b, x[0]), Identity(b, x[0])};
  });
  fusion.attrs = copy.attrs;
  status = codegen::CheckLoopFusion(fusion);
  EXPECT_NE(status.message().find("output 'y1' is a copy"), std::string::npos) << status;
}

}  // namespace
}  // namespace kiln
