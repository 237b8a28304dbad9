// `kiln compile` writes an artifact, generated kernels' code included; kiln-runner and
// `kiln run/bench/inspect MODEL.kiln` (the runtime core alone, no LLVM) load and run it to
// the same bits as `kiln run` on the graph, and reject damaged files and wrong inputs by
// name.
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/models.h"
#include "gmock/gmock.h"
#include "graph/graph_io.h"
#include "gtest/gtest.h"
#include "tests/tools/cli_test_util.h"

namespace kiln {
namespace {

using ::kiln::testing::ReadFile;
using ::kiln::testing::Result;
using ::kiln::testing::RunBinary;
using ::kiln::testing::TempPath;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

Result Kiln(const std::vector<std::string>& args) { return RunBinary("tools/kiln", args); }
Result Runner(const std::vector<std::string>& args) {
  return RunBinary("tools/kiln-runner", args);
}

// A small MLP saved as a graph file, compiled at batch 3 (and 5, a second Executable).
struct Compiled {
  std::string graph;
  std::string executable;
};

Compiled CompileSmallMlp() {
  examples::MlpConfig config;
  config.in = 12;
  config.hidden = 20;
  absl::StatusOr<Graph> graph = examples::BuildMlp(config);
  EXPECT_TRUE(graph.ok());
  Compiled c{TempPath("mlp.pb"), TempPath("mlp.kiln")};
  EXPECT_TRUE(SaveGraph(*graph, c.graph).ok());
  Result r = Kiln({"compile", c.graph, "-o", c.executable, "--batch", "3,5"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith(absl::StrCat("wrote ", c.executable, ": ")));
  return c;
}

TEST(CompileRunnerTest, RunnerMatchesKilnRunBitForBit) {
  const Compiled c = CompileSmallMlp();
  const std::string core_out = TempPath("core_out");
  const std::string session_out = TempPath("session_out");
  Result core = Runner({c.executable, "--input", "x=random", "--seed", "5", "--output", core_out});
  ASSERT_EQ(core.exit_code, 0) << core.err;
  // The artifact holds the kernels `kiln run` uses by default (its Softmax a generated row
  // kernel), so both give the same bits.
  Result session = Kiln({"run", c.graph, "--input", "x=random", "--seed", "5", "--batch", "3",
                         "--output", session_out});
  ASSERT_EQ(session.exit_code, 0) << session.err;
  EXPECT_THAT(core.out, StartsWith("y f32[3,10] "));
  EXPECT_EQ(core.out, session.out);
  const std::string a = ReadFile(core_out + "/y.npy");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, ReadFile(session_out + "/y.npy"));
  // Threads change the workgroup split, not the result.
  Result threaded = Runner({c.executable, "--input", "x=random", "--seed", "5", "--threads", "3"});
  ASSERT_EQ(threaded.exit_code, 0) << threaded.err;
  EXPECT_EQ(threaded.out, core.out);
  // `kiln run MODEL.kiln` is the same runner; --batch picks the other Executable.
  Result kiln_run = Kiln({"run", c.executable, "--input", "x=random", "--seed", "5"});
  ASSERT_EQ(kiln_run.exit_code, 0) << kiln_run.err;
  EXPECT_EQ(kiln_run.out, core.out);
  Result batch5 = Runner({c.executable, "--input", "x=random", "--seed", "5", "--batch", "5"});
  ASSERT_EQ(batch5.exit_code, 0) << batch5.err;
  Result session5 = Kiln({"run", c.graph, "--input", "x=random", "--seed", "5", "--batch", "5"});
  EXPECT_THAT(batch5.out, StartsWith("y f32[5,10] "));
  EXPECT_EQ(batch5.out, session5.out);
  Result batch4 = Runner({c.executable, "--input", "x=random", "--batch", "4"});
  EXPECT_EQ(batch4.exit_code, 2);
  EXPECT_THAT(batch4.err, HasSubstr("compiled for batch sizes 3, 5"));
}

TEST(CompileRunnerTest, InspectAndBenchReadTheArtifact) {
  const Compiled c = CompileSmallMlp();
  Result inspect = Kiln({"inspect", c.executable});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_THAT(inspect.out, HasSubstr("target: cpu-x86_64"));
  EXPECT_THAT(inspect.out, HasSubstr("source: mlp.pb"));
  EXPECT_THAT(inspect.out, HasSubstr("input x: f32[-1,12]"));
  EXPECT_THAT(inspect.out, HasSubstr("output y: f32[-1,10]"));
  EXPECT_THAT(inspect.out, HasSubstr("batch 3: "));
  EXPECT_THAT(inspect.out, HasSubstr("batch 5: "));
  Result bench = Kiln({"bench", c.executable, "--batch", "5", "--iterations", "3",
                       "--threads", "1"});
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  EXPECT_THAT(bench.out, HasSubstr("threads: 1, batch: 5"));
  EXPECT_THAT(bench.out, HasSubstr("\"load_ms\": "));
  EXPECT_THAT(bench.out, HasSubstr("\"first_run_ms\": "));
}

TEST(CompileRunnerTest, RunnerErrorsNameTheFileAndInput) {
  const Compiled c = CompileSmallMlp();
  Result missing = Runner({c.executable});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("input 'x' (f32[-1,12]) is not given"));

  const std::string truncated = TempPath("truncated.kiln");
  const std::string bytes = ReadFile(c.executable);
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  Result damaged = Runner({truncated, "--input", "x=random"});
  EXPECT_EQ(damaged.exit_code, 1);
  EXPECT_THAT(damaged.err, HasSubstr(absl::StrCat("artifact '", truncated, "'")));
  EXPECT_THAT(damaged.err, HasSubstr("truncated"));

  Result absent = Runner({TempPath("absent.kiln"), "--input", "x=random"});
  EXPECT_EQ(absent.exit_code, 1);
  EXPECT_THAT(absent.err, HasSubstr("cannot open artifact"));

  // A feed of another shape: written by `kiln run` at batch 2.
  const std::string other = TempPath("other");
  ASSERT_EQ(Kiln({"run", c.graph, "--input", "x=random", "--batch", "2", "--output", other})
                .exit_code,
            0);
  Result shape = Runner({c.executable, "--input", "x=" + other + "/y.npy"});
  EXPECT_EQ(shape.exit_code, 1);
  EXPECT_THAT(shape.err, HasSubstr("input 'x': f32[2,10], the artifact was compiled for "
                                   "f32[3,12] or f32[5,12]"));

  Result unknown = Runner({c.executable, "--input", "x=random", "--input", "z=random"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err,
              HasSubstr("--input 'z': the artifact has no input of that name (its inputs: x)"));
  EXPECT_EQ(Runner({c.executable, "--input", "x"}).exit_code, 2);

  Result usage = Runner({});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_EQ(Runner({"--help"}).exit_code, 0);
}

TEST(CompileRunnerTest, CompileUsageAndFailures) {
  const Compiled c = CompileSmallMlp();
  Result no_output = Kiln({"compile", c.graph});
  EXPECT_EQ(no_output.exit_code, 2);
  EXPECT_THAT(no_output.err, HasSubstr("-o FILE"));
  // The reference backend's kernels cannot be written out.
  Result reference =
      Kiln({"compile", c.graph, "-o", TempPath("ref.kiln"), "--backend", "reference"});
  EXPECT_EQ(reference.exit_code, 1);
  EXPECT_THAT(reference.err, HasSubstr("runs kernel 'reference.Fusion', which is in no kernel "
                                       "library"));
  Result help = Kiln({"compile", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, StartsWith("Usage: kiln compile MODEL -o FILE.kiln"));
  Result bad_batch = Kiln({"compile", c.graph, "-o", TempPath("b.kiln"), "--batch", "4,2"});
  EXPECT_EQ(bad_batch.exit_code, 1);
  EXPECT_THAT(bad_batch.err, HasSubstr("batch sizes must be positive and increasing"));
  EXPECT_EQ(Kiln({"compile", c.graph, "-o", TempPath("b.kiln"), "--batch", "x"}).exit_code, 2);
}

TEST(CompileRunnerTest, GeneratedKernelsTravelInTheArtifactAndRunOnTheRunner) {
  // The eltwise chain is one loop cluster: `kiln compile` generates its kernel by default,
  // as `kiln run` does, and the artifact carries the code.
  const std::string eltwise = TempPath("eltwise.pb");
  ASSERT_TRUE(SaveGraph(examples::BuildEltwise().value(), eltwise).ok());
  const std::string artifact = TempPath("eltwise.kiln");
  Result compiled = Kiln({"compile", eltwise, "-o", artifact, "--batch", "7,1000"});
  ASSERT_EQ(compiled.exit_code, 0) << compiled.err;
  EXPECT_THAT(compiled.out, HasSubstr(" generated kernels ("));
  EXPECT_THAT(compiled.out, HasSubstr(" bytes of code)"));

  Result inspect = Kiln({"inspect", artifact});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_THAT(inspect.out, HasSubstr("code: "));
  EXPECT_THAT(inspect.out, HasSubstr(" generated kernels for "));
  EXPECT_THAT(inspect.out, HasSubstr("  gen.loop."));
  EXPECT_THAT(inspect.out, HasSubstr(" -> kiln_gen_loop_"));

  // kiln-runner links no LLVM (//tests/runtime:core_deps_test); its bits are the
  // graph's under `kiln run` with generated kernels.
  for (const char* batch : {"7", "1000"}) {
    const std::string core_out = TempPath(absl::StrCat("eltwise_core_", batch));
    const std::string graph_out = TempPath(absl::StrCat("eltwise_graph_", batch));
    Result core = Runner({artifact, "--input", "x=random", "--seed", "3", "--batch", batch,
                          "--threads", "2", "--output", core_out});
    ASSERT_EQ(core.exit_code, 0) << core.err;
    Result graph = Kiln({"run", eltwise, "--input", "x=random", "--seed", "3", "--batch", batch,
                         "--output", graph_out});
    ASSERT_EQ(graph.exit_code, 0) << graph.err;
    EXPECT_EQ(core.out, graph.out);
    const std::string bits = ReadFile(core_out + "/y.npy");
    EXPECT_FALSE(bits.empty());
    EXPECT_EQ(bits, ReadFile(graph_out + "/y.npy")) << "batch " << batch;
  }

  // With --kernels library the artifact carries no code; the chain runs as its ops.
  const std::string library = TempPath("eltwise_library.kiln");
  Result plain = Kiln({"compile", eltwise, "-o", library, "--kernels", "library"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_THAT(plain.out, Not(HasSubstr("generated kernels")));
  Result described = Kiln({"inspect", library});
  EXPECT_THAT(described.out, HasSubstr(", code 0)"));
  EXPECT_THAT(described.out, Not(HasSubstr("gen.loop.")));
}

}  // namespace
}  // namespace kiln
