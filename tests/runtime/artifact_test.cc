// The artifact file: CompileArtifact -> WriteArtifact -> Artifact::Open -> LoadedArtifact
// runs to the same bits as the compiled Executables, every batch size over one mapped
// copy of the weights; and every damaged file (truncated, corrupted in any section,
// another version or target, not an artifact at all) is a clear error, never a crash.
#include "runtime/artifact.h"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/models.h"
#include "gmock/gmock.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "graph/graph_io.h"
#include "gtest/gtest.h"
#include "runtime/compile_artifact.h"
#include "runtime/default_provider.h"
#include "runtime/loaded_artifact.h"
#include "runtime/loaded_executable.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

using ::kiln::testing::RandomTensor;
using ::testing::HasSubstr;

std::string TempFile(const std::string& name) {
  return absl::StrCat(::testing::TempDir(), "/", name);
}

std::string ReadBytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream s;
  s << file.rdbuf();
  return s.str();
}

CompileOptions LibraryKernels() {
  CompileOptions options;
  options.kernel_provider = LibraryKernelProvider();
  return options;
}

Graph SmallMlp() {
  examples::MlpConfig config;
  config.in = 24;
  config.hidden = 40;
  return examples::BuildMlp(config).value();
}

// The MLP compiled for batches 1, 3 and 8 and written to `name`.
struct Written {
  ArtifactContents contents;
  std::string path;
};

Written WriteMlp(const std::string& name) {
  Written w;
  w.path = TempFile(name);
  absl::StatusOr<ArtifactContents> contents =
      CompileArtifact(SmallMlp(), LibraryKernels(), {1, 3, 8}, "mlp.pb");
  EXPECT_TRUE(contents.ok()) << contents.status();
  w.contents = *std::move(contents);
  EXPECT_TRUE(WriteArtifact(w.contents, w.path).ok());
  return w;
}

// The header's fields this test patches, at their offsets in the format.
constexpr size_t kVersionOffset = 8;
constexpr size_t kTargetOffset = 24;
constexpr size_t kHeaderCrcOffset = 124;

void ResealHeader(std::string& bytes) {
  const uint32_t crc = static_cast<uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()),
            kHeaderCrcOffset));
  std::memcpy(&bytes[kHeaderCrcOffset], &crc, sizeof(crc));
}

absl::Status OpenBytes(const std::string& bytes, bool verify = true) {
  Artifact::Options options;
  options.verify_checksums = verify;
  return Artifact::FromBytes(bytes, "damaged.kiln", options).status();
}

TEST(ArtifactTest, EveryBatchRunsLikeItsExecutableOverOneMappedCopyOfTheWeights) {
  Written w = WriteMlp("mlp.kiln");
  absl::StatusOr<std::shared_ptr<const Artifact>> artifact = Artifact::Open(w.path);
  ASSERT_TRUE(artifact.ok()) << artifact.status();
  const Artifact& a = **artifact;
  EXPECT_EQ(a.source(), "mlp.pb");
  EXPECT_EQ(a.target(), HostArtifactTarget());
  ASSERT_EQ(a.inputs().size(), 1u);
  EXPECT_EQ(a.inputs()[0].type.ToString(), "f32[-1,24]");
  ASSERT_EQ(a.outputs().size(), 1u);
  EXPECT_EQ(a.outputs()[0].type.ToString(), "f32[-1,10]");
  ASSERT_EQ(a.executables().size(), 3u);
  EXPECT_EQ(a.file_bytes(), static_cast<int64_t>(ReadBytes(w.path).size()));
  const uint8_t* weights = a.executables()[0].executable.weights.get();
  ASSERT_NE(weights, nullptr);
  // Page aligned inside the mapping, shared, and not the compiler's copy.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(weights) % 4096, 0u);
  EXPECT_NE(weights, w.contents.executables[0].executable.weights.get());
  EXPECT_EQ(std::memcmp(weights, w.contents.executables[0].executable.weights.get(),
                        a.weights_bytes()),
            0);

  ThreadPool pool(2);
  absl::StatusOr<std::unique_ptr<LoadedArtifact>> loaded = LoadedArtifact::Load(*artifact, &pool);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->batch_sizes(), (std::vector<int64_t>{1, 3, 8}));
  EXPECT_EQ((*loaded)->BatchFor(2), 3);
  EXPECT_EQ((*loaded)->BatchFor(8), 8);
  EXPECT_EQ((*loaded)->BatchFor(9), -1);
  for (size_t e = 0; e < a.executables().size(); ++e) {
    EXPECT_EQ(a.executables()[e].executable.weights.get(), weights);
    const int64_t batch = a.executables()[e].batch_size;
    Tensor x = RandomTensor(DataType::kF32, Shape({batch, 24}), 10 + batch);
    absl::StatusOr<std::vector<Tensor>> got = (*loaded)->Run({x});
    ASSERT_TRUE(got.ok()) << got.status();
    absl::StatusOr<std::unique_ptr<LoadedExecutable>> compiled =
        LoadedExecutable::Load(w.contents.executables[e].executable, nullptr);
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    absl::StatusOr<std::vector<Tensor>> want = (*compiled)->Run({x});
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_EQ((*got)[0].shape(), Shape({batch, 10}));
    EXPECT_EQ(std::memcmp((*got)[0].raw_data(), (*want)[0].raw_data(), (*got)[0].ByteSize()),
              0)
        << "batch " << batch;
  }
  Tensor wrong = RandomTensor(DataType::kF32, Shape({2, 24}), 1);
  absl::StatusOr<std::vector<Tensor>> refused = (*loaded)->Run({wrong});
  EXPECT_THAT(refused.status().message(),
              HasSubstr("input 'x': f32[2,24], the artifact was compiled for f32[1,24] or "
                        "f32[3,24] or f32[8,24]"));
}

TEST(ArtifactTest, AGraphWithoutABatchDimensionHasOneExecutable) {
  GraphBuilder b;
  b.Output("y", ops::Relu(b, b.Input("x", DataType::kF32, Shape{2, 24})));
  Graph graph = b.BuildGraph().value();
  Written w;
  w.path = TempFile("fixed.kiln");
  CompileOptions options = LibraryKernels();
  absl::StatusOr<ArtifactContents> contents = CompileArtifact(graph, options, {4, 16}, "fixed");
  ASSERT_TRUE(contents.ok()) << contents.status();
  ASSERT_EQ(contents->executables.size(), 1u);
  EXPECT_EQ(contents->executables[0].batch_size, 0);
  ASSERT_TRUE(WriteArtifact(*contents, w.path).ok());
  absl::StatusOr<std::shared_ptr<const Artifact>> artifact = Artifact::Open(w.path);
  ASSERT_TRUE(artifact.ok()) << artifact.status();
  EXPECT_EQ((*artifact)->inputs()[0].type.ToString(), "f32[2,24]");
  EXPECT_EQ((*artifact)->outputs()[0].type.ToString(), "f32[2,24]");
}

TEST(ArtifactTest, WritingRefusesWhatCannotBeLoaded) {
  ArtifactContents empty;
  EXPECT_THAT(WriteArtifact(empty, TempFile("empty.kiln")).message(),
              HasSubstr("no executables"));
  Written w = WriteMlp("order.kiln");
  std::swap(w.contents.executables[0], w.contents.executables[1]);
  EXPECT_THAT(WriteArtifact(w.contents, TempFile("order2.kiln")).message(),
              HasSubstr("batch sizes must increase"));
  EXPECT_THAT(CompileArtifact(SmallMlp(), LibraryKernels(), {3, 3}, "").status().message(),
              HasSubstr("batch sizes must be positive and increasing"));
  EXPECT_THAT(CompileArtifact(SmallMlp(), LibraryKernels(), {}, "").status().message(),
              HasSubstr("no batch size"));
  // Executables over different weights regions cannot share one weights section.
  absl::StatusOr<ArtifactContents> other =
      CompileArtifact(SmallMlp(), LibraryKernels(), {16}, "mlp.pb");
  ASSERT_TRUE(other.ok());
  w.contents = WriteMlp("again.kiln").contents;
  w.contents.executables.push_back(std::move(other->executables[0]));
  EXPECT_THAT(WriteArtifact(w.contents, TempFile("mixed.kiln")).message(),
              HasSubstr("reads another weights region"));
  // Nothing is left behind by a failed write.
  EXPECT_TRUE(ReadBytes(TempFile("mixed.kiln")).empty());
}

TEST(ArtifactTest, TruncatedOrExtendedFilesAreDataLoss) {
  const std::string bytes = ReadBytes(WriteMlp("cut.kiln").path);
  for (size_t size : {size_t{0}, size_t{1}, size_t{8}, size_t{127}, size_t{128}, size_t{129},
                      size_t{4096}, bytes.size() / 2, bytes.size() - 1}) {
    absl::Status status = OpenBytes(bytes.substr(0, size));
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << size << ": " << status;
    EXPECT_THAT(status.message(), HasSubstr("artifact 'damaged.kiln': truncated")) << size;
  }
  EXPECT_THAT(OpenBytes(bytes + "x").message(), HasSubstr("truncated or extended"));
}

TEST(ArtifactTest, EveryCorruptedByteOfHeaderOrSectionsIsCaught) {
  const std::string bytes = ReadBytes(WriteMlp("flip.kiln").path);
  absl::StatusOr<std::shared_ptr<const Artifact>> good = Artifact::FromBytes(bytes, "x", {});
  ASSERT_TRUE(good.ok()) << good.status();
  const int64_t manifest_end = kArtifactHeaderBytes + (*good)->manifest_bytes();
  // The weights start on the page after the manifest; padding is not checked (harmless).
  const int64_t weights_start = (manifest_end + 4095) / 4096 * 4096;
  const int64_t weights_end = weights_start + (*good)->weights_bytes();
  std::vector<int64_t> offsets;
  for (int64_t i = 0; i < manifest_end; i += 7) offsets.push_back(i);
  for (int64_t i = weights_start; i < weights_end; i += 409) offsets.push_back(i);
  offsets.push_back(weights_end - 1);
  for (int64_t offset : offsets) {
    std::string damaged = bytes;
    damaged[offset] ^= 0x20;
    absl::Status status = OpenBytes(damaged);
    EXPECT_FALSE(status.ok()) << "byte " << offset;
    EXPECT_THAT(status.message(), HasSubstr("artifact 'damaged.kiln': ")) << offset;
  }
  std::string weights = bytes;
  weights[weights_start + 5] ^= 1;
  EXPECT_THAT(OpenBytes(weights).message(),
              HasSubstr("the weights section is corrupted (checksum mismatch)"));
  // Without checksums a damaged manifest is still refused by its checks, not run.
  for (int64_t offset = kArtifactHeaderBytes; offset < manifest_end; offset += 5) {
    std::string damaged = bytes;
    damaged[offset] = static_cast<char>(0xff);
    absl::StatusOr<std::shared_ptr<const Artifact>> unchecked =
        Artifact::FromBytes(damaged, "unchecked.kiln", {/*verify_checksums=*/false});
    if (!unchecked.ok()) {
      EXPECT_THAT(unchecked.status().message(), HasSubstr("artifact 'unchecked.kiln': "));
    }
  }
}

TEST(ArtifactTest, OtherVersionsTargetsAndFilesAreNamed) {
  const std::string bytes = ReadBytes(WriteMlp("patch.kiln").path);
  std::string version = bytes;
  version[kVersionOffset] = 2;
  ResealHeader(version);
  absl::Status status = OpenBytes(version);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("format version 2; this runtime reads version 1"));

  std::string target = bytes;
  std::memset(&target[kTargetOffset], 0, 24);
  std::memcpy(&target[kTargetOffset], "cuda-sm90", 9);
  ResealHeader(target);
  status = OpenBytes(target);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("compiled for target 'cuda-sm90'; this runtime runs "
                                          "'cpu-x86_64'"));

  std::string header = bytes;
  header[20] ^= 1;  // file size, without resealing
  EXPECT_THAT(OpenBytes(header).message(), HasSubstr("the header is corrupted"));

  const std::string graph_path = TempFile("mlp.pb");
  ASSERT_TRUE(SaveGraph(SmallMlp(), graph_path).ok());
  status = Artifact::Open(graph_path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("not a Kiln artifact"));
  EXPECT_FALSE(IsArtifactFile(graph_path));
  EXPECT_TRUE(IsArtifactFile(TempFile("patch.kiln")));

  status = Artifact::Open(TempFile("absent.kiln")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("cannot open artifact"));
  EXPECT_FALSE(IsArtifactFile(TempFile("absent.kiln")));
  status = Artifact::Open(::testing::TempDir()).status();
  EXPECT_THAT(status.message(), HasSubstr("is not a file"));
}

}  // namespace
}  // namespace kiln
