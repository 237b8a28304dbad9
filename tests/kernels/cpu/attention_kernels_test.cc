// The attention kernel (an "attention" Fusion run as one kernel, kernels/cpu/attention.h)
// against the reference interpreter evaluating the fusion's body op by op: BERT's and a
// decoder's head split and merge read in place, cross attention (sq != skv, d != dv),
// masks broadcast over batch, heads and rows, a mask before the scale, fully masked rows
// (NaN, as the reference), odd sizes whose query rows split into several blocks, and
// size 1 and 0 dimensions; then the bodies the kernel refuses.
//
// Tolerance (f32). The kernel's products sum in another order than the reference's: the
// scores differ by at most d u sum|q||k|, which exp turns into the same relative error of
// each probability, and the output adds skv u sum p|v|. Both are within
// (d + skv + 16) u times the attention of |q|, |k|, |v| (the harness's magnitude), plus
// 4 ulp of the value for exp and the rounded 1 / sum.
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "graph/fusion.h"
#include "graph/text_format.h"
#include "kernels/cpu/attention.h"
#include "tests/kernels/cpu/kernel_harness.h"

namespace kiln::testing {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

GraphValue Body(const std::string& text) {
  absl::StatusOr<Graph> body = ParseGraph(text);
  EXPECT_TRUE(body.ok()) << body.status() << "\n" << text;
  return std::make_shared<const Graph>(body.ok() ? *std::move(body) : Graph());
}

KernelCase AttentionCase(const std::string& body, std::vector<Tensor> inputs) {
  return KernelCase{std::string(kFusionOp),
                    std::move(inputs),
                    {{std::string(kFusionBodyAttr), Body(body)},
                     {std::string(kFusionKindAttr), std::string("attention")}}};
}

Tolerance For(int64_t d, int64_t skv) {
  const double u = Ulp(DataType::kF32);
  return {4 * u, 0.0, static_cast<double>(d + skv + 16) * u};
}

// The kernel must run the case: a body it refused would fail Prepare.
void Check(const KernelCase& c, int64_t d, int64_t skv) {
  absl::StatusOr<PreparedKernel> kernel = PrepareCase(c);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_TRUE(absl::StartsWith(kernel->name, "cpu.attention.f32")) << kernel->name;
  CheckKernel(c, For(d, skv));
}

// BERT as exported: [b, s, heads * d] inputs split into heads, k transposed by the
// graph, scores divided by sqrt(d), a padding mask [b, 1, 1, s], heads merged back.
std::string BertBody(int64_t b, int64_t s, int64_t h, int64_t d, const std::string& scale) {
  const std::string x = absl::StrCat("f32[", b, ",", s, ",", h * d, "]");
  const std::string heads = absl::StrCat("[", b, ",", s, ",", h, ",", d, "]");
  return absl::StrCat(
      "graph(%q: ", x, ", %k: ", x, ", %v: ", x, ", %mask: f32[", b, ",1,1,", s, "]) {\n",
      "  %c = Constant() {value = f32[]{", scale, "}}\n",
      "  %qr = Reshape(%q) {shape = ", heads, "}\n",
      "  %qt = Transpose(%qr) {perm = [0,2,1,3]}\n",
      "  %kr = Reshape(%k) {shape = ", heads, "}\n",
      "  %kt = Transpose(%kr) {perm = [0,2,3,1]}\n",
      "  %vr = Reshape(%v) {shape = ", heads, "}\n",
      "  %vt = Transpose(%vr) {perm = [0,2,1,3]}\n",
      "  %s = MatMul(%qt, %kt)\n",
      "  %sd = Div(%s, %c)\n",
      "  %m = Add(%sd, %mask)\n",
      "  %p = Softmax(%m) {axis = 3}\n",
      "  %o = MatMul(%p, %vt)\n",
      "  %ot = Transpose(%o) {perm = [0,2,1,3]}\n",
      "  %y = Reshape(%ot) {shape = [", b, ",", s, ",", h * d, "]}\n",
      "  return y = %y\n}\n");
}

TEST(AttentionKernelsTest, BertHeadsReadInPlace) {
  uint64_t seed = 1;
  struct Size {
    int64_t b, s, h, d;
  };
  for (const Size& z : {Size{1, 7, 3, 5}, Size{2, 13, 2, 16}, Size{1, 1, 1, 1},
                        Size{2, 64, 4, 8}, Size{1, 130, 2, 33}}) {
    Tensor mask = FromSet(DataType::kF32, Shape{z.b, 1, 1, z.s}, seed++, {0.0, 0.0, -10000.0});
    const Shape x{z.b, z.s, z.h * z.d};
    Check(AttentionCase(BertBody(z.b, z.s, z.h, z.d, "8"),
                        {Random(DataType::kF32, x, seed++, -2, 2),
                         Random(DataType::kF32, x, seed++, -2, 2),
                         Random(DataType::kF32, x, seed++), mask}),
          z.d, z.s);
  }
}

// A decoder's self-attention: [s, 1, heads * d] inputs, q already scaled, a causal mask
// [1, s, s] shared by every head, of 0 and -1e30 (exp gives 0 as for -inf; an infinite
// mask would make the harness's error bound, the attention of |inputs|, NaN). Row 0 of
// the second case is -inf throughout: its output is NaN, as the reference's.
TEST(AttentionKernelsTest, DecoderCausalMask) {
  uint64_t seed = 100;
  // 300 keys: query blocks of 109 rows, each reading its own rows of the mask.
  for (int64_t s : {int64_t{9}, int64_t{40}, int64_t{300}}) {
    const int64_t h = 2;
    const int64_t d = 6;
    const std::string x = absl::StrCat("f32[", s, ",1,", h * d, "]");
    const std::string body = absl::StrCat(
        "graph(%q: f32[", s, ",", h, ",", d, "], %k: ", x, ", %v: ", x, ", %mask: f32[1,", s,
        ",", s, "]) {\n",
        "  %kr = Reshape(%k) {shape = [", s, ",", h, ",", d, "]}\n",
        "  %vr = Reshape(%v) {shape = [", s, ",", h, ",", d, "]}\n",
        "  %vt = Transpose(%vr) {perm = [1,0,2]}\n",
        "  %kt = Transpose(%kr) {perm = [1,2,0]}\n",
        "  %qt = Transpose(%q) {perm = [1,0,2]}\n",
        "  %s = MatMul(%qt, %kt)\n",
        "  %m = Add(%s, %mask)\n",
        "  %p = Softmax(%m) {axis = 2}\n",
        "  %o = MatMul(%p, %vt)\n",
        "  %ot = Transpose(%o) {perm = [1,0,2]}\n",
        "  %y = Reshape(%ot) {shape = [", s, ",", h * d, "]}\n",
        "  return y = %y\n}\n");
    Tensor mask = Random(DataType::kF32, Shape{1, s, s}, seed++);
    for (int64_t i = 0; i < s; ++i) {
      for (int64_t j = 0; j < s; ++j) mask.SetFromDouble(i * s + j, j > i ? -1e30 : 0.0);
    }
    if (s == 40) {
      for (int64_t j = 0; j < s; ++j) mask.SetFromDouble(j, -kInf);
    }
    Check(AttentionCase(body, {Random(DataType::kF32, Shape{s, h, d}, seed++),
                               Random(DataType::kF32, Shape{s, 1, h * d}, seed++),
                               Random(DataType::kF32, Shape{s, 1, h * d}, seed++), mask}),
          d, s);
  }
}

// Cross attention: 13 queries over 9 keys, d 4 and dv 6, k given as [keys, d]
// (transpose_b), the mask added before the scale, a mask broadcast along the queries.
TEST(AttentionKernelsTest, CrossAttentionMaskBeforeScale) {
  const std::string body =
      "graph(%q: f32[2,13,4], %k: f32[2,9,4], %v: f32[2,9,6], %mask: f32[9]) {\n"
      "  %s = MatMul(%q, %k) {transpose_b = true}\n"
      "  %m = Add(%mask, %s)\n"
      "  %c = Constant() {value = f32[1]{0.37}}\n"
      "  %sc = Mul(%c, %m)\n"
      "  %p = Softmax(%sc) {axis = -1}\n"
      "  %o = MatMul(%p, %v)\n"
      "  return y = %o\n}\n";
  Check(AttentionCase(body, {Random(DataType::kF32, Shape{2, 13, 4}, 7),
                             Random(DataType::kF32, Shape{2, 9, 4}, 8),
                             Random(DataType::kF32, Shape{2, 9, 6}, 9),
                             Random(DataType::kF32, Shape{9}, 10, -3, 3)}),
        4, 9);
}

// 70 queries over 1000 keys: query blocks of 32 rows (the last one partial), d 33 and
// dv 17, v read through transpose_b, no scale and no mask; shared k and v over a head
// dimension that broadcasts.
TEST(AttentionKernelsTest, ManyKeysSplitIntoRowBlocks) {
  const std::string body =
      "graph(%q: f32[3,70,33], %k: f32[1,1000,33], %v: f32[1,17,1000]) {\n"
      "  %s = MatMul(%q, %k) {transpose_b = true}\n"
      "  %p = Softmax(%s) {axis = 2}\n"
      "  %o = MatMul(%p, %v) {transpose_b = true}\n"
      "  return y = %o\n}\n";
  Check(AttentionCase(body, {Random(DataType::kF32, Shape{3, 70, 33}, 11, -0.5, 0.5),
                             Random(DataType::kF32, Shape{1, 1000, 33}, 12, -0.5, 0.5),
                             Random(DataType::kF32, Shape{1, 17, 1000}, 13)}),
        33, 1000);
}

// No keys (empty probability rows: a zero output), no depth (all scores 0: the mean of
// v's rows), no queries.
TEST(AttentionKernelsTest, EmptyDimensions) {
  const auto body = [](int64_t sq, int64_t skv, int64_t d) {
    return absl::StrCat("graph(%q: f32[2,", sq, ",", d, "], %k: f32[2,", skv, ",", d,
                        "], %v: f32[2,", skv, ",3]) {\n"
                        "  %s = MatMul(%q, %k) {transpose_b = true}\n"
                        "  %p = Softmax(%s)\n"
                        "  %o = MatMul(%p, %v)\n"
                        "  return y = %o\n}\n");
  };
  struct Size {
    int64_t sq, skv, d;
  };
  uint64_t seed = 200;
  for (const Size& z : {Size{4, 0, 5}, Size{4, 6, 0}, Size{0, 6, 5}}) {
    Check(AttentionCase(body(z.sq, z.skv, z.d),
                        {Random(DataType::kF32, Shape{2, z.sq, z.d}, seed++),
                         Random(DataType::kF32, Shape{2, z.skv, z.d}, seed++),
                         Random(DataType::kF32, Shape{2, z.skv, 3}, seed++)}),
          z.d, z.skv);
  }
}

Node FusionNode(const std::string& body) {
  Node node;
  node.name = "attention";
  node.op = std::string(kFusionOp);
  node.attrs[std::string(kFusionBodyAttr)] = Body(body);
  node.attrs[std::string(kFusionKindAttr)] = std::string("attention");
  return node;
}

TEST(AttentionKernelsTest, AcceptsUnknownBatchBeforeBinding) {
  absl::Status status = cpu::CheckAttentionFusion(FusionNode(
      "graph(%q: f32[-1,4,2,8], %k: f32[-1,4,2,8], %v: f32[-1,4,2,8]) {\n"
      "  %qt = Transpose(%q) {perm = [0,2,1,3]}\n"
      "  %kt = Transpose(%k) {perm = [0,2,3,1]}\n"
      "  %vt = Transpose(%v) {perm = [0,2,1,3]}\n"
      "  %s = MatMul(%qt, %kt)\n"
      "  %p = Softmax(%s)\n"
      "  %o = MatMul(%p, %vt)\n"
      "  return y = %o\n}\n"));
  EXPECT_TRUE(status.ok()) << status;
  // Reshapes to a fixed batch of 1: the body binds at batch 1 only, which must pass.
  status = cpu::CheckAttentionFusion(FusionNode(absl::StrReplaceAll(
      BertBody(1, 4, 2, 3, "2"), {{"%q: f32[1,", "%q: f32[-1,"}})));
  EXPECT_TRUE(status.ok()) << status;
}

TEST(AttentionKernelsTest, RefusesBodiesItCannotReadInPlace) {
  struct Refused {
    std::string why;
    std::string body;
  };
  const std::vector<Refused> cases = {
      {"Softmax is not over the last axis",
       "graph(%q: f32[2,4,4], %v: f32[2,4,4]) {\n"
       "  %s = MatMul(%q, %q) {transpose_b = true}\n  %p = Softmax(%s) {axis = 1}\n"
       "  %o = MatMul(%p, %v)\n  return y = %o\n}\n"},
      // Heads transposed and then merged with the sequence: not one stride.
      {"merges dimensions that are not contiguous",
       "graph(%q: f32[4,2,3], %k: f32[6,5], %v: f32[5,7]) {\n"
       "  %t = Transpose(%q) {perm = [1,0,2]}\n  %r = Reshape(%t) {shape = [8,3]}\n"
       "  %qq = Reshape(%r) {shape = [4,6]}\n"
       "  %s = MatMul(%qq, %k)\n  %p = Softmax(%s)\n  %o = MatMul(%p, %v)\n"
       "  return y = %o\n}\n"},
      {"not a scale by a constant",
       "graph(%q: f32[2,4,4], %v: f32[2,4,4], %c: f32[]) {\n"
       "  %s = MatMul(%q, %q) {transpose_b = true}\n  %sc = Mul(%s, %c)\n"
       "  %p = Softmax(%sc)\n  %o = MatMul(%p, %v)\n  return y = %o\n}\n"},
      // The result's last dimension transposed away: the GEMM writes rows contiguously.
      // One query row broadcast by the mask to three: q would be read past its end.
      {"the mask broadcasts the product",
       "graph(%q: f32[2,1,4], %k: f32[2,5,4], %v: f32[2,5,6], %m: f32[2,3,5]) {\n"
       "  %s = MatMul(%q, %k) {transpose_b = true}\n  %a = Add(%s, %m)\n"
       "  %p = Softmax(%a)\n  %o = MatMul(%p, %v)\n  return y = %o\n}\n"},
      {"last dimension is not contiguous",
       "graph(%q: f32[2,4,4], %v: f32[2,4,5]) {\n"
       "  %s = MatMul(%q, %q) {transpose_b = true}\n  %p = Softmax(%s)\n"
       "  %o = MatMul(%p, %v)\n  %y = Transpose(%o) {perm = [0,2,1]}\n  return y = %y\n}\n"},
  };
  for (const Refused& r : cases) {
    absl::Status status = cpu::CheckAttentionFusion(FusionNode(r.body));
    EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented) << r.why << ": " << status;
    EXPECT_TRUE(absl::StrContains(status.message(), r.why)) << status;
  }
  // And the provider leaves such a fusion to be expanded into its ops.
  EXPECT_FALSE(CreateCpuKernelProvider()->RunsFusion(FusionNode(cases[0].body)));
  CpuKernelOptions off;
  off.attention = false;
  EXPECT_FALSE(CreateCpuKernelProvider(off)->RunsFusion(
      FusionNode(BertBody(1, 4, 2, 3, "1.5"))));
  EXPECT_TRUE(CreateCpuKernelProvider()->RunsFusion(FusionNode(BertBody(1, 4, 2, 3, "1.5"))));
}

}  // namespace
}  // namespace kiln::testing
