// ModelRunner, the interface the C API and the Python package run models through: an
// artifact (OpenArtifactRunner) and a graph file (OpenModelRunner, through a Session)
// describe the same signature and compute the same outputs into caller buffers, aligned
// or not; wrong counts, types, shapes and batch sizes are errors naming the input or
// output, and the runner stays usable after them.
#include "runtime/model_runner.h"

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/models.h"
#include "gmock/gmock.h"
#include "graph/graph_io.h"
#include "graph/proto_convert.h"
#include "gtest/gtest.h"
#include "runtime/compile_artifact.h"
#include "runtime/open_model.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

using ::kiln::testing::RandomTensor;
using ::testing::HasSubstr;

constexpr int64_t kIn = 24;
constexpr int64_t kOut = 10;

Graph SmallMlp() {
  examples::MlpConfig config;
  config.in = kIn;
  config.hidden = 40;
  config.out = kOut;
  return examples::BuildMlp(config).value();
}

struct Files {
  std::string graph;
  std::string artifact;
};

// The MLP as a GraphDef and as an artifact for batches 1 and 3, written once.
const Files& MlpFiles() {
  static const Files* files = [] {
    auto* f = new Files{absl::StrCat(::testing::TempDir(), "/mlp.pb"),
                        absl::StrCat(::testing::TempDir(), "/mlp.kiln")};
    Graph graph = SmallMlp();
    EXPECT_TRUE(SaveGraph(graph, f->graph).ok());
    const int64_t batches[] = {1, 3};
    absl::StatusOr<ArtifactContents> contents =
        CompileArtifact(graph, CompileOptions(), batches, "mlp.pb");
    EXPECT_TRUE(contents.ok()) << contents.status();
    EXPECT_TRUE(WriteArtifact(*contents, f->artifact).ok());
    return f;
  }();
  return *files;
}

std::unique_ptr<ModelRunner> Open(const std::string& path) {
  RunnerOptions options;
  options.num_threads = 2;
  absl::StatusOr<std::unique_ptr<ModelRunner>> runner = OpenModelRunner(path, options);
  EXPECT_TRUE(runner.ok()) << runner.status();
  return runner.ok() ? *std::move(runner) : nullptr;
}

TEST(ModelRunnerTest, GraphAndArtifactDescribeTheSameSignature) {
  std::unique_ptr<ModelRunner> graph = Open(MlpFiles().graph);
  std::unique_ptr<ModelRunner> artifact = Open(MlpFiles().artifact);
  ASSERT_NE(graph, nullptr);
  ASSERT_NE(artifact, nullptr);
  EXPECT_STREQ(graph->kind(), "graph");
  EXPECT_STREQ(artifact->kind(), "artifact");
  ASSERT_EQ(graph->inputs().size(), 1u);
  EXPECT_EQ(graph->inputs(), artifact->inputs());
  EXPECT_EQ(graph->inputs()[0].type.shape, (Shape{-1, kIn}));
  EXPECT_EQ(graph->outputs().size(), artifact->outputs().size());
  EXPECT_EQ(graph->outputs()[0].name, artifact->outputs()[0].name);

  const TensorType batch3{DataType::kF32, Shape{3, kIn}};
  absl::StatusOr<std::vector<TensorType>> from_graph = graph->OutputTypes({batch3});
  absl::StatusOr<std::vector<TensorType>> from_artifact = artifact->OutputTypes({batch3});
  ASSERT_TRUE(from_graph.ok()) << from_graph.status().ToString();
  ASSERT_TRUE(from_artifact.ok()) << from_artifact.status();
  EXPECT_EQ(*from_graph, *from_artifact);
  EXPECT_EQ((*from_graph)[0].shape, (Shape{3, kOut}));
}

// Runs `runner` on `x` into a fresh buffer at `offset` bytes past a 64-byte boundary.
std::vector<float> RunInto(const ModelRunner& runner, const Tensor& x, size_t offset) {
  const int64_t rows = x.shape().dims()[0];
  std::vector<float> storage(rows * kOut + 16 + 64);
  auto address = reinterpret_cast<uintptr_t>(storage.data());
  void* data = reinterpret_cast<void*>(((address + 63) & ~uintptr_t{63}) + offset);
  std::vector<Tensor> outputs = {Tensor::Borrow(DataType::kF32, Shape{rows, kOut}, data)};
  absl::Status ran = runner.Run({x}, absl::MakeSpan(outputs));
  EXPECT_TRUE(ran.ok()) << ran;
  const float* y = static_cast<const float*>(data);
  return std::vector<float>(y, y + rows * kOut);
}

TEST(ModelRunnerTest, ArtifactAndGraphComputeTheSameIntoAlignedAndUnalignedBuffers) {
  std::unique_ptr<ModelRunner> graph = Open(MlpFiles().graph);
  std::unique_ptr<ModelRunner> artifact = Open(MlpFiles().artifact);
  ASSERT_NE(graph, nullptr);
  ASSERT_NE(artifact, nullptr);
  for (int64_t rows : {1, 3}) {
    const Tensor x = RandomTensor(DataType::kF32, Shape{rows, kIn}, 7 + rows);
    const std::vector<float> expected = RunInto(*graph, x, 0);
    // The same compiler and kernels made both: the bits agree.
    EXPECT_EQ(RunInto(*artifact, x, 0), expected) << "rows " << rows;
    // Unaligned buffers are written through an aligned stand-in.
    EXPECT_EQ(RunInto(*artifact, x, 4), expected) << "rows " << rows;
    EXPECT_EQ(RunInto(*graph, x, 4), expected) << "rows " << rows;
  }
  // The graph takes any batch; the artifact only its compiled ones.
  const Tensor x5 = RandomTensor(DataType::kF32, Shape{5, kIn}, 3);
  EXPECT_EQ(RunInto(*graph, x5, 0).size(), 5u * kOut);
  absl::StatusOr<std::vector<TensorType>> types =
      artifact->OutputTypes({TensorType{DataType::kF32, Shape{5, kIn}}});
  ASSERT_FALSE(types.ok());
  EXPECT_THAT(types.status().message(), HasSubstr("input 'x'"));
  EXPECT_THAT(types.status().message(), HasSubstr("compiled for f32[1,24] or f32[3,24]"));
}

TEST(ModelRunnerTest, BadRunArgumentsAreErrorsNamingTheInputOrOutput) {
  for (const std::string& path : {MlpFiles().graph, MlpFiles().artifact}) {
    SCOPED_TRACE(path);
    std::unique_ptr<ModelRunner> runner = Open(path);
    ASSERT_NE(runner, nullptr);
    const Tensor x = RandomTensor(DataType::kF32, Shape{1, kIn}, 1);
    Tensor y = *Tensor::Allocate(DataType::kF32, Shape{1, kOut});

    std::vector<Tensor> outputs = {y};
    EXPECT_THAT(runner->Run({}, absl::MakeSpan(outputs)).message(), HasSubstr("expected 1 inputs"));
    std::vector<Tensor> none;
    EXPECT_THAT(runner->Run({x}, absl::MakeSpan(none)).message(),
                HasSubstr("expected 1 output buffers"));

    Tensor wrong_shape = *Tensor::Allocate(DataType::kF32, Shape{1, kOut + 1});
    std::vector<Tensor> wrong = {wrong_shape};
    absl::Status status = runner->Run({x}, absl::MakeSpan(wrong));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("f32[1,11]"));

    const Tensor wrong_dtype = RandomTensor(DataType::kF64, Shape{1, kIn}, 1);
    status = runner->Run({wrong_dtype}, absl::MakeSpan(outputs));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("'x'"));

    // Still usable.
    EXPECT_TRUE(runner->Run({x}, absl::MakeSpan(outputs)).ok());
  }
}

TEST(ModelRunnerTest, OpeningBadFilesIsAnErrorNamingThePath) {
  RunnerOptions options;
  const std::string missing = absl::StrCat(::testing::TempDir(), "/missing.pb");
  absl::StatusOr<std::unique_ptr<ModelRunner>> runner = OpenModelRunner(missing, options);
  ASSERT_FALSE(runner.ok());
  EXPECT_THAT(runner.status().message(), HasSubstr("missing.pb"));

  runner = OpenArtifactRunner(MlpFiles().graph, options);
  ASSERT_FALSE(runner.ok());
  EXPECT_THAT(runner.status().message(), HasSubstr("not a Kiln artifact"));

  options.num_threads = -1;
  EXPECT_FALSE(OpenArtifactRunner(MlpFiles().artifact, options).ok());
  EXPECT_FALSE(OpenModelRunner(MlpFiles().graph, options).ok());
}

}  // namespace
}  // namespace kiln
