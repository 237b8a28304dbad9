// `kiln opt` in-process: pass lists, -O levels, printing, output files, dumps, verbose
// counts, --list-passes and usage errors.
#include "tools/cli/opt.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "graph/graph_io.h"
#include "gtest/gtest.h"
#include "tools/cli/command.h"

namespace kiln::cli {
namespace {

constexpr char kGraph[] = R"(graph(%x: f32[-1,4]) {
  %one = Constant() {value = f32[]{1}}
  %i = Identity(%x)
  %m = Mul(%i, %one)
  %e = Exp(%m)
  %y = Neg(%e)
  return y = %y
}
)";

class OptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(::testing::TempDir()) + "/opt_test";
    std::filesystem::create_directories(dir_);
    input_ = dir_ + "/in.kgraph";
    std::ofstream(input_) << kGraph;
  }
  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    return OptCommand().main(args, out_, err_);
  }
  std::string dir_, input_;
  std::ostringstream out_, err_;
};

TEST_F(OptTest, PassListRunsInOrderAndPrints) {
  ASSERT_EQ(Run({input_, "--passes=remove-identities,simplify-algebra", "--print"}), kExitOk)
      << err_.str();
  EXPECT_NE(out_.str().find("%e = Exp(%x)"), std::string::npos) << out_.str();
  EXPECT_EQ(out_.str().find("Identity"), std::string::npos);
}

TEST_F(OptTest, DefaultPipelineFusesAndReportsCounts) {
  ASSERT_EQ(Run({input_, "-O2", "--print", "--verbose"}), kExitOk) << err_.str();
  EXPECT_NE(out_.str().find("%fusion = Fusion(%x)"), std::string::npos) << out_.str();
  EXPECT_NE(err_.str().find("before: nodes 6, kernels 3, fusions 0, transposes 0"),
            std::string::npos)
      << err_.str();
  EXPECT_NE(err_.str().find("after:  nodes 2, kernels 1, fusions 1, transposes 0"),
            std::string::npos)
      << err_.str();
  EXPECT_NE(err_.str().find("fuse-elementwise"), std::string::npos);
  EXPECT_NE(err_.str().find("pipeline: "), std::string::npos);
}

TEST_F(OptTest, WritesGraphDefAndDumps) {
  std::string output = dir_ + "/out.pbtxt";
  std::string dumps = dir_ + "/dumps";
  ASSERT_EQ(Run({input_, "-O1", "-o", output, "--dump-after-each", dumps}), kExitOk) << err_.str();
  absl::StatusOr<Graph> written = LoadGraph(output);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->num_nodes(), 3);  // x, Exp, Neg
  EXPECT_TRUE(std::filesystem::exists(dumps + "/000-input.kgraph"));
  EXPECT_TRUE(std::filesystem::exists(dumps + "/001-remove-identities.dot"));
}

TEST_F(OptTest, DisableSkipsAPass) {
  ASSERT_EQ(Run({input_, "-O2", "--disable", "fuse-elementwise", "--print"}), kExitOk);
  EXPECT_EQ(out_.str().find("Fusion"), std::string::npos) << out_.str();
}

TEST_F(OptTest, DebugPrintsDecisionsWithReasons) {
  std::string shared = dir_ + "/shared.kgraph";
  std::ofstream(shared) << "graph(%x: f32[4]) {\n  %e = Exp(%x)\n  %a = Neg(%e)\n"
                           "  %b = Abs(%e)\n  return y = %a, z = %b\n}\n";
  ASSERT_EQ(Run({shared, "--passes=fuse-elementwise", "--debug"}), kExitOk) << err_.str();
  EXPECT_NE(err_.str().find("fuse-elementwise: fuse 'e' into 'b': no: no-recomputation: 'a' "
                            "outside the cluster reads it too"),
            std::string::npos)
      << err_.str();
}

TEST_F(OptTest, ListsPasses) {
  ASSERT_EQ(Run({"--list-passes"}), kExitOk);
  EXPECT_NE(out_.str().find("fold-constants  "), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("fuse-attention"), std::string::npos);
  EXPECT_EQ(out_.str(), ListPassesText());
}

TEST_F(OptTest, UsageErrors) {
  EXPECT_EQ(Run({input_, "--passes=frobnicate"}), kExitUsage);
  EXPECT_NE(err_.str().find("unknown pass 'frobnicate'"), std::string::npos) << err_.str();
  EXPECT_EQ(Run({input_, "--passes=fold-constants", "-O2"}), kExitUsage);
  EXPECT_EQ(Run({input_, "--disable=nope"}), kExitUsage);
  EXPECT_EQ(Run({}), kExitUsage);
  EXPECT_EQ(Run({dir_ + "/missing.kgraph"}), kExitFailure);
}

TEST_F(OptTest, ParseErrorsNameTheFileAndLine) {
  std::string bad = dir_ + "/bad.kgraph";
  std::ofstream(bad) << "graph(%x: f32[2]) {\n  %y = Relu(%z)\n  return y = %y\n}\n";
  EXPECT_EQ(Run({bad, "-O2"}), kExitFailure);
  EXPECT_NE(err_.str().find("bad.kgraph: line 2: '%z' names no node"), std::string::npos)
      << err_.str();
}

TEST_F(OptTest, EmitPrintsEachStageOfTheGeneratedKernel) {
  // The -O2 graph's Exp/Neg chain is one loop cluster; -1 dimensions take --batch.
  const std::vector<std::pair<std::string, std::string>> stages = {
      {"mlir", "linalg.generic"},
      {"loops", "scf.for"},
      {"llvm-dialect", "llvm.func @kiln_loop"},
      {"llvm", "define i32 @kiln_gen_loop_"},
      {"asm", "kiln_gen_loop_"}};
  for (const auto& [stage, marker] : stages) {
    ASSERT_EQ(Run({input_, "--emit", stage, "--batch", "5"}), kExitOk) << stage << err_.str();
    EXPECT_NE(out_.str().find("// cluster 0: fusion '"), std::string::npos) << out_.str();
    EXPECT_NE(out_.str().find("// kernel gen.loop."), std::string::npos) << out_.str();
    EXPECT_NE(out_.str().find(marker), std::string::npos) << stage << ":\n" << out_.str();
  }
  // The batch is in the generated shapes.
  ASSERT_EQ(Run({input_, "--emit", "mlir", "--batch", "5"}), kExitOk);
  EXPECT_NE(out_.str().find("tensor<20xf32>"), std::string::npos) << out_.str();
  // --dump-after-each also writes the lowering trace.
  const std::string dump = dir_ + "/emit_dump";
  ASSERT_EQ(Run({input_, "--emit", "llvm-dialect", "--cluster", "0", "--dump-after-each", dump}),
            kExitOk)
      << err_.str();
  std::ifstream trace(dump + "/cluster-0.lowering.mlir");
  std::stringstream text;
  text << trace.rdbuf();
  EXPECT_NE(text.str().find("IR Dump After"), std::string::npos);
  EXPECT_NE(text.str().find("math polynomial approximation"), std::string::npos);
}

TEST_F(OptTest, EmitErrors) {
  EXPECT_EQ(Run({input_, "--emit", "ptx"}), kExitUsage);
  EXPECT_NE(err_.str().find("not one of mlir, loops, llvm-dialect, llvm, asm"), std::string::npos)
      << err_.str();
  EXPECT_EQ(Run({input_, "--emit", "mlir", "--cluster", "7"}), kExitFailure);
  EXPECT_NE(err_.str().find("--cluster 7: the graph has 1 Fusion clusters"), std::string::npos)
      << err_.str();
}

}  // namespace
}  // namespace kiln::cli
