// End-to-end tests of the `kiln` binary: runs it as a subprocess on graphs from
// testdata/ and graphs built here, and checks exit codes, printed text and .npy outputs.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "graph/graph_io.h"
#include "gtest/gtest.h"
#include "tests/tools/cli_test_util.h"
#include "tests/util/op_test_util.h"
#include "tools/npy.h"

namespace kiln {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::kiln::testing::ReadFile;
using ::kiln::testing::Result;
using ::kiln::testing::RunBinary;
using ::kiln::testing::TempPath;

const char kIdentityGraph[] = "tests/tools/testdata/identity.pbtxt";
const char kTestdata[] = "tests/tools/testdata/";

// Runs the kiln binary from the test's runfiles (the working directory of a Bazel test).
Result Kiln(const std::vector<std::string>& args) { return RunBinary("tools/kiln", args); }

// Saves a built graph as text into the test's temporary directory and returns its path.
std::string SaveBuilt(GraphBuilder& b, absl::string_view name) {
  std::string path = TempPath(absl::StrCat(name, ".pbtxt"));
  absl::StatusOr<Graph> graph = b.BuildGraph();
  EXPECT_TRUE(graph.ok()) << graph.status();
  EXPECT_TRUE(SaveGraph(*graph, path).ok());
  return path;
}

// A fresh, not yet existing directory path.
std::string OutDir(absl::string_view name) {
  std::string dir = TempPath(absl::StrCat("out_", name));
  std::filesystem::remove_all(dir);
  return dir;
}

void ExpectUsageError(const std::vector<std::string>& args, const std::string& message) {
  Result r = Kiln(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, absl::StrCat("kiln: error: ", message, "\n"));
  EXPECT_EQ(r.out, "");
}

// Expects exit code 1 and one error line containing `substring`.
void ExpectFailure(const std::vector<std::string>& args, const std::string& substring) {
  Result r = Kiln(args);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, StartsWith("kiln: error: "));
  EXPECT_THAT(r.err, HasSubstr(substring));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// ---------------------------------------------------------------------------------------
// Help and usage errors.

TEST(KilnCliTest, Help) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"}, {"-h"}, {"help"}}) {
    Result r = Kiln(args);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, StartsWith("Usage: kiln COMMAND [ARGS...]\n"));
    EXPECT_THAT(r.out, HasSubstr("\n  inspect      "));
    EXPECT_THAT(r.out, HasSubstr("\n  run          "));
    EXPECT_THAT(r.out, HasSubstr("Exit status"));
    EXPECT_EQ(r.err, "");
  }
  for (std::vector<std::string> args :
       {std::vector<std::string>{"run", "--help"}, {"help", "run"}, {"run", "g", "--bogus", "-h"}}) {
    Result r = Kiln(args);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, StartsWith("Usage: kiln run GRAPH --input NAME=FILE.npy|NAME=random"));
    EXPECT_THAT(r.out, HasSubstr("--seed N"));
  }
  Result inspect = Kiln({"inspect", "--help"});
  EXPECT_EQ(inspect.exit_code, 0);
  EXPECT_THAT(inspect.out, StartsWith("Usage: kiln inspect GRAPH [--batch N]"));
  EXPECT_THAT(inspect.out, HasSubstr("flops: F [at batch N]"));
}

TEST(KilnCliTest, CommandUsageErrors) {
  ExpectUsageError({}, "no command given; run 'kiln --help'");
  ExpectUsageError({"frobnicate"}, "unknown command 'frobnicate'; run 'kiln --help'");
  ExpectUsageError({"--version"}, "unknown command '--version'; run 'kiln --help'");
  ExpectUsageError({"help", "frobnicate"}, "'kiln help' takes one of the commands, got 'frobnicate'");
}

TEST(KilnCliTest, InspectUsageErrors) {
  ExpectUsageError({"inspect", kIdentityGraph, "--bogus"}, "unknown flag '--bogus' for 'kiln inspect'");
  ExpectUsageError({"inspect", kIdentityGraph, "--batch"}, "flag --batch needs a value");
  ExpectUsageError({"inspect", kIdentityGraph, "--batch", "two"}, "flag --batch: 'two' is not an integer");
  ExpectUsageError({"inspect", kIdentityGraph, "--batch=-1"},
                   "flag --batch: -1 is out of range [0, 1099511627776]");
  ExpectUsageError({"inspect"}, "'kiln inspect' takes one graph file, got 0 arguments");
  ExpectUsageError({"inspect", "a", "b"}, "'kiln inspect' takes one graph file, got 2 arguments");
}

// ---------------------------------------------------------------------------------------
// inspect

TEST(KilnCliTest, InspectPrintsSummary) {
  Result r = Kiln({"inspect", kIdentityGraph, "--batch", "16"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "graph: tests/tools/testdata/identity.pbtxt\n"
            "inputs: 1\n"
            "  x  f32[-1,3]\n"
            "outputs: 2\n"
            "  y  f32[-1,3]\n"
            "  w  f32[2,3]\n"
            "ops: 3 types\n"
            "  Identity  2\n"
            "  Constant  1\n"
            "  Input     1\n"
            "nodes: 4\n"
            "parameters: 6 elements, 24 bytes\n"
            "flops: 0 at batch 16\n");
}

TEST(KilnCliTest, InspectBinaryGraph) {
  GraphBuilder b;
  Value x = b.Input("tokens", DataType::kI64, {-1, 8});
  b.Output("out", ops::Identity(b, x));
  absl::StatusOr<Graph> graph = b.BuildGraph();
  ASSERT_TRUE(graph.ok());
  std::string path = TempPath("tokens.pb");
  ASSERT_TRUE(SaveGraph(*graph, path).ok());
  Result r = Kiln({"inspect", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("inputs: 1\n  tokens  i64[-1,8]\n"));
  EXPECT_THAT(r.out, HasSubstr("parameters: 0 elements, 0 bytes\nflops: 0 at batch 1\n"));
}

TEST(KilnCliTest, InspectFailures) {
  std::string missing = TempPath("missing.pbtxt");
  ExpectFailure({"inspect", missing}, absl::StrCat("cannot open graph file '", missing, "'"));
  std::string garbage = TempPath("garbage.pbtxt");
  std::ofstream(garbage) << "node { name: \"x\" op: ";
  ExpectFailure({"inspect", garbage}, "malformed text GraphDef");
  std::string unknown_op = TempPath("unknown_op.pbtxt");
  std::ofstream(unknown_op) << "node { name: \"n\" op: \"NoSuchOp\" }";
  ExpectFailure({"inspect", unknown_op}, "NoSuchOp");
}

TEST(KilnCliTest, InspectMemoryPlan) {
  // w = Identity(weight) (24 bytes, one 64-byte buffer) runs first: it adds less than
  // y = Identity(x) (16x3 f32, 192 bytes). Both outputs stay to the end, so the largest
  // live step is the last and holds both.
  Result r = Kiln({"inspect", kIdentityGraph, "--memory", "--batch", "16"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "arena: 256 bytes\n"
            "naive: 256 bytes\n"
            "lower bound: 256 bytes\n"
            "largest live step: 1 of 2, node 'y' (Identity), 2 tensors\n"
            "  y  f32[16,3]  192 bytes\n"
            "  w  f32[2,3]   24 bytes\n");
  // Batch 1 by default.
  Result one = Kiln({"inspect", kIdentityGraph, "--memory"});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_THAT(one.out, StartsWith("arena: 128 bytes\nnaive: 128 bytes\nlower bound: 128 bytes\n"));
}

// ---------------------------------------------------------------------------------------
// bench

TEST(KilnCliTest, BenchPrintsLatencies) {
  Result r = Kiln({"bench", kIdentityGraph, "--batch", "2", "--iterations", "3", "--warmup",
                   "1", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, StartsWith("graph: tests/tools/testdata/identity.pbtxt\n"
                                "kernels: cpu-generated+cpu-portable+reference, threads: 1, batch: 2, "
                                "optimization: -O2\n"
                                "compile: "));
  EXPECT_THAT(r.out, HasSubstr(" ms)\nruns: 3 after 1 warm-up runs\nlatency min: "));
  EXPECT_THAT(r.out, HasSubstr(" ms\nlatency median: "));
  EXPECT_THAT(r.out, HasSubstr(" ms\nlatency p90: "));
  EXPECT_THAT(r.out, HasSubstr(" ms\nlatency max: "));
  EXPECT_THAT(r.out, HasSubstr(" ms\nthroughput: "));
  EXPECT_THAT(r.out, HasSubstr("\nwork: 0 GFLOP per run, 0.0 GFLOP/s, 0.0% of the FMA peak ("));
  EXPECT_THAT(r.out, HasSubstr(" GFLOP/s)\nmemory: "));
  EXPECT_THAT(r.out, HasSubstr(" GB per run (inputs read, outputs written), "));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 12) << r.out;
}

// --profile: per-op and per-step lines after the figures, each op's steps counted.
TEST(KilnCliTest, BenchProfile) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, {-1, 64});
  Value w = b.Constant(testing::RandomTensor(DataType::kF32, Shape{64, 32}, 3));
  b.Output("y", ops::Relu(b, ops::MatMul(b, x, w)));
  const std::string path = SaveBuilt(b, "bench_profile");
  Result r = Kiln({"bench", path, "--batch", "4", "--iterations", "3", "--warmup", "1",
                   "--threads", "1", "-O0", "--profile", "--profile-top", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("profile: 2 steps, "));
  EXPECT_THAT(r.out, HasSubstr("(3 profiled runs)"));  // the timed runs, not the warm-up
  EXPECT_THAT(r.out, ContainsRegex("profile by op: +[0-9.]+ +[0-9.]+% +1  MatMul\n"));
  EXPECT_THAT(r.out, ContainsRegex("profile by op: +[0-9.]+ +[0-9.]+% +1  Relu\n"));
  // --profile-top 1: one step line after the heading.
  size_t step_lines = 0;
  for (size_t at = r.out.find("profile step: "); at != std::string::npos;
       at = r.out.find("profile step: ", at + 1)) {
    ++step_lines;
  }
  EXPECT_EQ(step_lines, 2u) << r.out;
  EXPECT_THAT(r.out, ContainsRegex("-> f32\\[4,(32|64)\\]\n"));
}

// The JSON line of a graph with work: its figures agree with each other.
TEST(KilnCliTest, BenchJsonFigures) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, {-1, 64});
  Value w = b.Constant(testing::RandomTensor(DataType::kF32, Shape{64, 32}, 3));
  b.Output("y", ops::MatMul(b, x, w));
  const std::string path = SaveBuilt(b, "bench_matmul");
  Result r = Kiln({"bench", path, "--batch", "8", "--iterations", "5", "--warmup", "1",
                   "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t at = r.out.find("json: {");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string json = r.out.substr(at + 6);
  auto field = [&](const std::string& name) {
    const size_t pos = json.find("\"" + name + "\": ");
    EXPECT_NE(pos, std::string::npos) << name;
    return pos == std::string::npos ? -1.0 : std::atof(json.c_str() + pos + name.size() + 4);
  };
  EXPECT_EQ(field("threads"), 2);
  EXPECT_EQ(field("batch"), 8);
  EXPECT_EQ(field("optimization"), 2);
  // 8 x 64 x 32 multiply-adds.
  EXPECT_NEAR(field("gflop"), 2.0 * 8 * 64 * 32 / 1e9, 1e-9);
  const double min = field("min_ms");
  const double median = field("median_ms");
  const double p90 = field("p90_ms");
  const double max = field("max_ms");
  EXPECT_GT(min, 0);
  EXPECT_LE(min, median);
  EXPECT_LE(median, p90);
  EXPECT_LE(p90, max);
  EXPECT_NEAR(field("gflops"), field("gflop") / (median / 1e3), 1e-3 * field("gflops") + 1e-3);
  EXPECT_GT(field("peak_gflops"), 0);
  EXPECT_NEAR(field("peak_fraction"), field("gflops") / field("peak_gflops"), 1e-3);
  // 8 x 64 inputs read and 8 x 32 outputs written, 4 bytes each.
  EXPECT_NEAR(field("gbytes"), 4.0 * (8 * 64 + 8 * 32) / 1e9, 1e-12);
  EXPECT_NEAR(field("gbs"), field("gbytes") / (median / 1e3), 1e-3 * field("gbs") + 1e-6);
  EXPECT_GT(field("copy_gbs"), 0);
  EXPECT_NEAR(field("bandwidth_fraction"), field("gbs") / field("copy_gbs"), 1e-3);
  EXPECT_NEAR(field("throughput"), 8e3 / median, 1e-2 * field("throughput"));
  EXPECT_GT(field("compile_ms"), 0);
  EXPECT_EQ(json.back(), '\n');
  EXPECT_EQ(json.find('\n'), json.size() - 1) << "one line";
}

// Generated kernels: --kernels chooses them or the library alone (same numbers for this
// chain, within f32 rounding), and --cache-dir keeps their objects for the next process.
TEST(KilnCliTest, KernelSourceAndCacheDirectory) {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, {-1, 33});
  b.Output("y", ops::Neg(b, ops::Exp(b, ops::Mul(b, x, ops::ScalarLike(b, x, 0.5)))));
  const std::string path = SaveBuilt(b, "loop_chain");
  const std::string cache = TempPath("kernel_cache");
  std::filesystem::remove_all(cache);
  Result generated = Kiln({"run", path, "--input", "x=random", "--seed", "3", "--batch", "5",
                           "--cache-dir", cache});
  ASSERT_EQ(generated.exit_code, 0) << generated.err;
  int objects = 0;
  for (const auto& entry : std::filesystem::directory_iterator(cache)) {
    const std::string name = entry.path().filename().string();
    EXPECT_EQ(name.rfind("gen.loop.", 0), 0u) << name;
    objects += entry.path().extension() == ".o";
  }
  EXPECT_EQ(objects, 1);
  Result library = Kiln({"run", path, "--input", "x=random", "--seed", "3", "--batch", "5",
                         "--kernels", "library"});
  ASSERT_EQ(library.exit_code, 0) << library.err;
  EXPECT_THAT(library.out, StartsWith("y f32[5,33] "));
  EXPECT_THAT(generated.out, StartsWith("y f32[5,33] "));
  ExpectUsageError({"run", path, "--kernels", "jit"}, "--kernels 'jit' is not generated or library");
  ExpectUsageError({"run", path, "--kernels", "library", "--cache-dir", cache},
                   "--cache-dir applies to generated kernels only");
  ExpectUsageError({"bench", path, "--backend", "reference", "--cache-dir", cache},
                   "--cache-dir applies to generated kernels only");
}

TEST(KilnCliTest, BenchErrors) {
  ExpectUsageError({"bench"}, "'kiln bench' takes one graph file, got 0 arguments");
  Result zero = Kiln({"bench", kIdentityGraph, "--iterations", "0"});
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_THAT(zero.err, HasSubstr("--iterations"));
  ExpectFailure({"bench", TempPath("missing.pbtxt")}, "cannot open graph file");
  Result help = Kiln({"bench", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, StartsWith("Usage: kiln bench GRAPH [--batch N] [--iterations N]"));
}

// ---------------------------------------------------------------------------------------
// run

TEST(KilnCliTest, RunWithoutOutputPrintsSummariesOnly) {
  std::string input = absl::StrCat(kTestdata, "f32_2x3.npy");
  Result r = Kiln({"run", kIdentityGraph, "--input", absl::StrCat("x=", input)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "y f32[2,3] min=-1 max=1.5 mean=0.25 values=[-1, -0.5, 0, 0.5, 1, 1.5]\n"
            "w f32[2,3] min=1 max=6 mean=3.5 values=[1, 2, 3, 4, 5, 6]\n");
  EXPECT_FALSE(std::filesystem::exists("y.npy"));
}

TEST(KilnCliTest, RunFromNpyWritesOutputsEqualToInputs) {
  std::string dir = OutDir("npy") + "/nested";
  std::string input = absl::StrCat(kTestdata, "f32_2x3.npy");
  Result r = Kiln({"run", kIdentityGraph, "--input", absl::StrCat("x=", input), "--output", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "y f32[2,3] min=-1 max=1.5 mean=0.25 values=[-1, -0.5, 0, 0.5, 1, 1.5]\n"
            "w f32[2,3] min=1 max=6 mean=3.5 values=[1, 2, 3, 4, 5, 6]\n");
  // Identity of a NumPy file: the written file is byte-identical to numpy.save's.
  EXPECT_EQ(ReadFile(dir + "/y.npy"), ReadFile(input));
  absl::StatusOr<Tensor> w = ReadNpy(dir + "/w.npy");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->shape(), (Shape{2, 3}));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(w->data<float>()[i], i + 1.0f);
}

TEST(KilnCliTest, RunRandomIsSeededAndBatched) {
  std::string a = OutDir("random_a"), b = OutDir("random_b"), c = OutDir("random_c");
  Result ra = Kiln({"run", kIdentityGraph, "--input=x=random", "--batch", "4", "--seed", "7",
                    "--output", a});
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  EXPECT_THAT(ra.out, StartsWith("y f32[4,3] min="));
  absl::StatusOr<Tensor> y = ReadNpy(a + "/y.npy");
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->shape(), (Shape{4, 3}));
  double sum_abs = 0;
  for (int i = 0; i < 12; ++i) sum_abs += std::abs(y->data<float>()[i]);
  EXPECT_GT(sum_abs, 0.0);

  Result rb = Kiln({"run", kIdentityGraph, "--seed", "7", "--batch", "4", "--input", "x=random",
                    "--output", b});
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_EQ(rb.out, ra.out);
  EXPECT_EQ(ReadFile(b + "/y.npy"), ReadFile(a + "/y.npy"));

  Result rc = Kiln({"run", kIdentityGraph, "--input", "x=random", "--batch", "4", "--output", c});
  ASSERT_EQ(rc.exit_code, 0) << rc.err;
  EXPECT_NE(ReadFile(c + "/y.npy"), ReadFile(a + "/y.npy"));  // default seed 0
}

TEST(KilnCliTest, RunRandomIntegerBoolAndBFloat16Inputs) {
  GraphBuilder b;
  b.Output("ids", ops::Identity(b, b.Input("ids", DataType::kI32, {-1, 50})));
  b.Output("mask", ops::Identity(b, b.Input("mask", DataType::kBool, {40})));
  b.Output("h", ops::Identity(b, b.Input("h", DataType::kBF16, {3})));
  std::string path = SaveBuilt(b, "mixed");
  std::string dir = OutDir("mixed");
  Result r = Kiln({"run", path, "--input", "ids=random", "--input", "mask=random", "--input",
                   "h=random", "--batch", "2", "--output", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ids i32[2,50] min=0 max=9 "));
  EXPECT_THAT(r.out, HasSubstr("mask bool[40] min=0 max=1 "));
  EXPECT_THAT(r.out, HasSubstr("\nh bf16[3] min="));

  absl::StatusOr<Tensor> ids = ReadNpy(dir + "/ids.npy");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->dtype(), DataType::kI32);
  for (int i = 0; i < 100; ++i) {
    EXPECT_GE(ids->GetAsInt64(i), 0);
    EXPECT_LE(ids->GetAsInt64(i), 9);
  }
  absl::StatusOr<Tensor> mask = ReadNpy(dir + "/mask.npy");
  ASSERT_TRUE(mask.ok()) << mask.status();
  EXPECT_EQ(mask->dtype(), DataType::kBool);
  // bf16 outputs are widened to f32 in the file.
  absl::StatusOr<Tensor> h = ReadNpy(dir + "/h.npy");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->dtype(), DataType::kF32);
  EXPECT_EQ(h->shape(), Shape{3});
}

TEST(KilnCliTest, RunGraphWithoutInputs) {
  GraphBuilder b;
  b.Output("c", ops::Identity(b, b.Constant(Tensor::I64({2}, {-5, 1} ), "c0")));
  std::string path = SaveBuilt(b, "constant");
  std::string dir = OutDir("constant");
  Result r = Kiln({"run", path, "--output", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "c i64[2] min=-5 max=1 mean=-2 values=[-5, 1]\n");
  absl::StatusOr<Tensor> c = ReadNpy(dir + "/c.npy");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->GetAsInt64(0), -5);
}

TEST(KilnCliTest, RunUsageErrors) {
  std::string dir = OutDir("usage");
  ExpectUsageError({"run", kIdentityGraph, "--input", "x", "--output", dir},
                   "--input 'x' is not NAME=FILE.npy or NAME=random");
  ExpectUsageError({"run", kIdentityGraph, "--input", "x=", "--output", dir},
                   "--input 'x=' is not NAME=FILE.npy or NAME=random");
  ExpectUsageError({"run", kIdentityGraph, "--input", "x=random", "--input", "x=a.npy",
                    "--output", dir},
                   "input 'x' is given twice");
  ExpectUsageError({"run", kIdentityGraph, "--input", "x=random", "--output="},
                   "--output needs a directory");
  ExpectUsageError({"run", kIdentityGraph, "--seed", "abc", "--output", dir},
                   "flag --seed: 'abc' is not an integer");
  ExpectUsageError({"run", kIdentityGraph, "--output"}, "flag --output needs a value");
  ExpectUsageError({"run", "--output", dir}, "'kiln run' takes one graph file, got 0 arguments");
  ExpectUsageError({"run", kIdentityGraph, "--inptu", "x=random"}, "unknown flag '--inptu' for 'kiln run'");
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(KilnCliTest, RunFailures) {
  std::string dir = OutDir("failures");
  Result missing_input = Kiln({"run", kIdentityGraph, "--output", dir});
  EXPECT_EQ(missing_input.exit_code, 1);
  EXPECT_EQ(missing_input.err,
            "kiln: error: input 'x' is not given; pass --input x=FILE.npy or --input x=random\n");

  ExpectFailure({"run", kIdentityGraph, "--input", "x=random", "--input", "z=random", "--output", dir},
                "--input 'z': the graph has no input of that name (its inputs: x)");
  // The Session's own checks of dtype and shape.
  ExpectFailure({"run", kIdentityGraph, "--input", absl::StrCat("x=", kTestdata, "f64_2x3.npy"),
                 "--output", dir},
                "feed 'x': dtype f64, expected f32");
  std::string vector = TempPath("vector.npy");
  ASSERT_TRUE(WriteNpy(Tensor::F32({3}, {1, 2, 3}), vector).ok());
  ExpectFailure({"run", kIdentityGraph, "--input", "x=" + vector, "--output", dir},
                "input 'x': shape [3] does not match declared [-1,3]");
  // Files that cannot be read are named.
  std::string absent = TempPath("absent.npy");
  ExpectFailure({"run", kIdentityGraph, "--input", "x=" + absent, "--output", dir},
                absl::StrCat("cannot open '", absent, "'"));
  std::string bad = TempPath("bad.npy");
  std::ofstream(bad) << "\x93NUMPY\x01";
  ExpectFailure({"run", kIdentityGraph, "--input", "x=" + bad, "--output", dir},
                absl::StrCat(bad, ": truncated .npy file"));
  ExpectFailure({"run", absl::StrCat(kTestdata, "f32_2x3.npy"), "--output", dir},
                "malformed binary GraphDef");
}

TEST(KilnCliTest, RunOutputDirectoryProblems) {
  std::string file = TempPath("plain_file");
  std::ofstream(file) << "x";
  ExpectFailure({"run", kIdentityGraph, "--input", "x=random", "--output", file},
                absl::StrCat("cannot create output directory '", file, "'"));

  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, {1});
  b.Output("a/b", ops::Identity(b, x));
  b.Output("a_b", ops::Identity(b, x));
  std::string path = SaveBuilt(b, "collide");
  ExpectFailure({"run", path, "--input", "x=random", "--output", OutDir("collide")},
                "outputs 'a/b' and 'a_b' would both be written to a_b.npy");
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// ---------------------------------------------------------------------------------------
// ONNX models straight from the command line (imported in memory).

const char kTinyResnet[] = "tests/onnx/testdata/resnet_tiny.onnx";

TEST(KilnCliTest, InspectOnnxModel) {
  Result r = Kiln({"inspect", kTinyResnet});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith(absl::StrCat("graph: ", kTinyResnet, "\ninputs: 1\n")));
  EXPECT_THAT(r.out, HasSubstr("Conv2D"));
}

TEST(KilnCliTest, RunOnnxModelMatchesPyTorch) {
  std::string dir = OutDir("onnx_run");
  Result r = Kiln({"run", kTinyResnet, "--input",
                   "x=tests/onnx/testdata/resnet_tiny.in.npy", "--output", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  absl::StatusOr<Tensor> expected = ReadNpy("tests/onnx/testdata/resnet_tiny.out.npy");
  ASSERT_TRUE(expected.ok()) << expected.status();
  std::string name = r.out.substr(0, r.out.find(' '));
  absl::StatusOr<Tensor> got = ReadNpy(absl::StrCat(dir, "/", name, ".npy"));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->shape(), expected->shape());
  // fp32 through a small ResNet: PyTorch and Kiln sum in different orders.
  for (int64_t i = 0; i < got->NumElements(); ++i) {
    EXPECT_NEAR(got->GetAsDouble(i), expected->GetAsDouble(i),
                1e-4 * (1 + std::abs(expected->GetAsDouble(i))))
        << "element " << i;
  }
}

TEST(KilnCliTest, BenchAndOptTakeOnnxModels) {
  Result bench = Kiln({"bench", kTinyResnet, "--iterations", "2", "--warmup", "1", "--threads", "1"});
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  EXPECT_THAT(bench.out, HasSubstr("latency median: "));
  std::string optimized = TempPath("resnet_tiny.opt.pb");
  Result opt = Kiln({"opt", kTinyResnet, "-O2", "-o", optimized});
  ASSERT_EQ(opt.exit_code, 0) << opt.err;
  EXPECT_TRUE(std::filesystem::exists(optimized));
}

// -O0, -O2 and the reference backend agree on the tiny ResNet (BatchNorm folded, NHWC
// layout and fusions expanded at -O2; the reference backend evaluates Fusion bodies).
TEST(KilnCliTest, OptimizationLevelsAndBackendsAgree) {
  std::vector<Tensor> results;
  for (std::vector<std::string> flags :
       {std::vector<std::string>{"-O0"}, {"-O2"}, {"-O1", "--backend", "reference"},
        {"--backend=reference"}, {"-O2", "--disable", "assign-layout"}}) {
    std::string dir = OutDir(absl::StrCat("levels_", results.size()));
    std::vector<std::string> args = {"run", kTinyResnet, "--input",
                                     "x=tests/onnx/testdata/resnet_tiny.in.npy", "--output", dir};
    args.insert(args.end(), flags.begin(), flags.end());
    Result r = Kiln(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    absl::StatusOr<Tensor> y = ReadNpy(dir + "/y.npy");
    ASSERT_TRUE(y.ok()) << y.status();
    results.push_back(*y);
  }
  for (size_t k = 1; k < results.size(); ++k) {
    ASSERT_EQ(results[k].shape(), results[0].shape());
    for (int64_t i = 0; i < results[0].NumElements(); ++i) {
      // fp32: folding BatchNorm into the weights rounds them once more.
      EXPECT_NEAR(results[k].GetAsDouble(i), results[0].GetAsDouble(i),
                  1e-4 * (1 + std::abs(results[0].GetAsDouble(i))))
          << "variant " << k << ", element " << i;
    }
  }
  ExpectUsageError({"run", kTinyResnet, "-O1", "-O2"}, "only one -O level may be given");
  ExpectUsageError({"bench", kTinyResnet, "--backend", "gpu"},
                   "--backend 'gpu' is not cpu or reference");
  ExpectFailure({"run", kTinyResnet, "--input", "x=random", "--disable", "frobnicate"},
                "disabled pass 'frobnicate' is not a pass");
}

TEST(KilnCliTest, OnnxImportFlagsAndErrors) {
  // --input-shape reaches the importer: a wrong rank names the input.
  Result shape = Kiln({"inspect", kTinyResnet, "--input-shape", "x=1,2"});
  EXPECT_EQ(shape.exit_code, 1);
  EXPECT_THAT(shape.err, HasSubstr("input"));
  ExpectFailure({"inspect", kTinyResnet, "--input-shape", "x"},
                "--input-shape 'x' is not NAME=D0,D1,...");
  // A file that is not an ONNX model says so, naming the path.
  std::string bogus = TempPath("bogus.onnx");
  std::ofstream(bogus) << "not a model";
  ExpectFailure({"run", bogus}, "is not an ONNX model");
  ExpectFailure({"bench", TempPath("missing.onnx")}, "cannot open");
}

}  // namespace
}  // namespace kiln
