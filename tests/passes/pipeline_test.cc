// The pipeline: order, fixed points and their cap, verification naming the pass that broke
// the graph, disabling, dumps, verbose lines, and the pass table.
#include "passes/pipeline.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "graph/text_format.h"
#include "gtest/gtest.h"
#include "passes/registry.h"

namespace kiln::passes {
namespace {

Graph Parse(const char* text) {
  absl::StatusOr<Graph> graph = ParseGraph(text);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return *graph;
}

constexpr char kChain[] = R"(graph(%x: f32[2]) {
  %a = Identity(%x)
  %b = Identity(%a)
  %y = Relu(%b)
  return y = %y
})";

// Counts its runs and reports a change for the first `changes` of them.
class CountingPass : public Pass {
 public:
  CountingPass(std::string name, int changes, std::vector<std::string>* log)
      : name_(std::move(name)), changes_(changes), log_(log) {}
  absl::string_view name() const override { return name_; }
  absl::string_view description() const override { return "test pass"; }
  absl::StatusOr<bool> Run(Graph&) override {
    log_->push_back(name_);
    return runs_++ < changes_;
  }

 private:
  std::string name_;
  int changes_;
  std::vector<std::string>* log_;
  int runs_ = 0;
};

// Leaves a dangling input behind.
class BreakingPass : public Pass {
 public:
  absl::string_view name() const override { return "break-graph"; }
  absl::string_view description() const override { return "breaks the graph"; }
  absl::StatusOr<bool> Run(Graph& graph) override {
    graph.node(graph.num_nodes() - 1).inputs[0].node = 42;
    return true;
  }
};

TEST(PipelineTest, RunsStagesInOrderAndFixedPointsUntilNoChange) {
  std::vector<std::string> log;
  Pipeline pipeline;
  pipeline.AddPass(std::make_unique<CountingPass>("first", 0, &log));
  std::vector<std::unique_ptr<Pass>> group;
  group.push_back(std::make_unique<CountingPass>("a", 2, &log));
  group.push_back(std::make_unique<CountingPass>("b", 0, &log));
  pipeline.AddFixedPoint("group", std::move(group), 10);
  Graph graph = Parse(kChain);
  absl::StatusOr<bool> changed = pipeline.Run(graph);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  // a changes twice, so the group runs three rounds; the third sees no change.
  EXPECT_EQ(log, (std::vector<std::string>{"first", "a", "b", "a", "b", "a", "b"}));
  EXPECT_EQ(pipeline.records().size(), 7u);
  EXPECT_EQ(pipeline.records()[5].iteration, 2);
  EXPECT_EQ(pipeline.PassNames(), (std::vector<std::string>{"first", "a", "b"}));
}

TEST(PipelineTest, FixedPointStopsAtItsCap) {
  std::vector<std::string> log;
  Pipeline pipeline;
  std::vector<std::unique_ptr<Pass>> group;
  group.push_back(std::make_unique<CountingPass>("always", 1000, &log));
  pipeline.AddFixedPoint("group", std::move(group), 3);
  Graph graph = Parse(kChain);
  ASSERT_TRUE(pipeline.Run(graph).ok());
  EXPECT_EQ(log.size(), 3u);
}

TEST(PipelineTest, VerifierErrorNamesThePass) {
  PipelineOptions options;
  options.verify_each = true;
  Pipeline pipeline(options);
  pipeline.AddPass(std::make_unique<BreakingPass>());
  Graph graph = Parse(kChain);
  absl::StatusOr<bool> changed = pipeline.Run(graph);
  ASSERT_FALSE(changed.ok());
  EXPECT_NE(changed.status().message().find("pipeline: after pass 'break-graph': node 'y'"),
            std::string::npos)
      << changed.status();
}

TEST(PipelineTest, DisabledPassesAreSkipped) {
  std::vector<std::string> log;
  PipelineOptions options;
  options.disabled = {"skipped"};
  Pipeline pipeline(options);
  pipeline.AddPass(std::make_unique<CountingPass>("skipped", 1, &log));
  pipeline.AddPass(std::make_unique<CountingPass>("kept", 0, &log));
  Graph graph = Parse(kChain);
  absl::StatusOr<bool> changed = pipeline.Run(graph);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
  EXPECT_EQ(log, (std::vector<std::string>{"kept"}));
}

TEST(PipelineTest, DumpsTextAndDotAfterEachPassAndLogsVerbosely) {
  std::string dir = std::string(::testing::TempDir()) + "/pipeline_dump";
  std::filesystem::create_directories(dir);
  std::ostringstream log;
  PipelineOptions options;
  options.dump_dir = dir;
  options.verbose = true;
  options.log = &log;
  Pipeline pipeline(options);
  absl::StatusOr<std::vector<std::unique_ptr<Pass>>> passes =
      CreatePasses("remove-identities,eliminate-dead-nodes", PassOptions());
  ASSERT_TRUE(passes.ok());
  for (auto& pass : *passes) pipeline.AddPass(std::move(pass));
  Graph graph = Parse(kChain);
  ASSERT_TRUE(pipeline.Run(graph).ok());
  std::ifstream after(dir + "/001-remove-identities.kgraph");
  std::stringstream text;
  text << after.rdbuf();
  EXPECT_NE(text.str().find("%y = Relu(%x)"), std::string::npos) << text.str();
  EXPECT_TRUE(std::filesystem::exists(dir + "/000-input.kgraph"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/001-remove-identities.dot"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/002-eliminate-dead-nodes.kgraph"));
  EXPECT_NE(log.str().find("changed   remove-identities"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("unchanged eliminate-dead-nodes"), std::string::npos) << log.str();
}

TEST(PassRegistryTest, EveryEntryMatchesItsPass) {
  for (const PassInfo& info : AllPasses()) {
    std::unique_ptr<Pass> pass = info.create(PassOptions());
    EXPECT_EQ(pass->name(), info.name);
    EXPECT_FALSE(info.description.empty()) << info.name;
    EXPECT_FALSE(pass->description().empty()) << info.name;
    EXPECT_EQ(FindPass(info.name), &info);
  }
  absl::StatusOr<std::vector<std::unique_ptr<Pass>>> bad = CreatePasses("fold-constants,nope", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown pass 'nope'"), std::string::npos);
}

}  // namespace
}  // namespace kiln::passes
