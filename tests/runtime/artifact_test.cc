// The artifact file: CompileArtifact -> WriteArtifact -> Artifact::Open -> LoadedArtifact
// runs to the same bits as the compiled Executables, every batch size over one mapped
// copy of the weights, generated kernels from the code section it carries; and every
// damaged file (truncated, corrupted in any section, another version or target, a
// manifest that disagrees with its code or this CPU, not an artifact at all) is a clear
// error, never a crash.
#include "runtime/artifact.h"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "examples/models.h"
#include "gmock/gmock.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "graph/graph_io.h"
#include "gtest/gtest.h"
#include "kernels/kernel_library.h"
#include "proto/artifact.pb.h"
#include "runtime/compile_artifact.h"
#include "runtime/default_provider.h"
#include "runtime/loaded_artifact.h"
#include "runtime/loaded_executable.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

using ::kiln::testing::RandomTensor;
using ::testing::HasSubstr;
using ::testing::StartsWith;

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

// ------------------------------------------------------------ generated kernels' code

// `graph` compiled with the default provider (generated loop and row kernels) for batches
// 1, 3 and 8 and written to `name`.
Written WriteGenerated(const Graph& graph, const std::string& name) {
  Written w;
  w.path = TempFile(name);
  absl::StatusOr<ArtifactContents> contents =
      CompileArtifact(graph, CompileOptions(), {1, 3, 8}, name);
  EXPECT_TRUE(contents.ok()) << contents.status();
  w.contents = *std::move(contents);
  absl::Status written = WriteArtifact(w.contents, w.path);
  EXPECT_TRUE(written.ok()) << written;
  return w;
}

// The header's manifest section: offset 48 {offset, size, CRC-32}.
constexpr size_t kManifestSizeOffset = 56;
constexpr size_t kManifestCrcOffset = 64;
constexpr size_t kWeightsOffsetOffset = 72;
constexpr size_t kCodeOffsetOffset = 96;

// The manifest of an artifact's bytes, changed by `edit` and written back in place (it
// must fit before the weights), its checksum and the header's resealed: a file the
// writer would refuse, as another writer could make it.
template <typename Edit>
std::string RewriteManifest(const std::string& bytes, Edit edit) {
  uint64_t size = 0, weights = 0;
  std::memcpy(&size, &bytes[kManifestSizeOffset], sizeof(size));
  std::memcpy(&weights, &bytes[kWeightsOffsetOffset], sizeof(weights));
  proto::ArtifactManifest manifest;
  EXPECT_TRUE(manifest.ParseFromArray(&bytes[kArtifactHeaderBytes], static_cast<int>(size)));
  edit(manifest);
  const std::string changed = manifest.SerializeAsString();
  EXPECT_LE(kArtifactHeaderBytes + changed.size(), weights);
  std::string out = bytes;
  std::memset(&out[kArtifactHeaderBytes], 0, weights - kArtifactHeaderBytes);
  std::memcpy(&out[kArtifactHeaderBytes], changed.data(), changed.size());
  const uint64_t new_size = changed.size();
  std::memcpy(&out[kManifestSizeOffset], &new_size, sizeof(new_size));
  const uint32_t crc = static_cast<uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(changed.data()),
            changed.size()));
  std::memcpy(&out[kManifestCrcOffset], &crc, sizeof(crc));
  ResealHeader(out);
  return out;
}

// Runs every batch of the artifact at `path` and of `contents`' in-process Executables
// (the JIT's code) on the same inputs; the bits must agree. Returns the loaded artifact.
std::unique_ptr<LoadedArtifact> ExpectRunsLikeTheCompiler(const Written& w,
                                                          absl::string_view kernel_prefix) {
  absl::StatusOr<std::shared_ptr<const Artifact>> artifact = Artifact::Open(w.path);
  EXPECT_TRUE(artifact.ok()) << artifact.status();
  if (!artifact.ok()) return nullptr;
  const Artifact& a = **artifact;
  EXPECT_GT(a.code_bytes(), 0);
  EXPECT_FALSE(a.code_kernels().empty());
  EXPECT_EQ(a.code_kernels().size(), w.contents.code.kernels.size());
  bool has_prefix = false;
  for (const CodeKernel& kernel : a.code_kernels()) {
    EXPECT_THAT(kernel.name, StartsWith("gen."));
    EXPECT_EQ(kernel.cpu_features, HostCpuFeatures());
    has_prefix = has_prefix || absl::StartsWith(kernel.name, kernel_prefix);
  }
  EXPECT_TRUE(has_prefix) << "no " << kernel_prefix << " kernel";
  EXPECT_EQ(a.code_target(), w.contents.code.target);
  if (a.code_library() == nullptr) {
    ADD_FAILURE() << "no code loaded";
    return nullptr;
  }
  // Outlives every LoadedArtifact returned.
  static ThreadPool* pool = new ThreadPool(3);
  absl::StatusOr<std::unique_ptr<LoadedArtifact>> loaded = LoadedArtifact::Load(*artifact, pool);
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  if (!loaded.ok()) return nullptr;
  const std::vector<TensorSignature>& inputs = a.inputs();
  for (size_t e = 0; e < a.executables().size(); ++e) {
    const int64_t batch = a.executables()[e].batch_size;
    const LoadedExecutable* from_file = (*loaded)->ForBatch(batch);
    const Executable& compiled = w.contents.executables[e].executable;
    // Every generated step calls the shared object's function, not the JIT's.
    int generated = 0;
    for (size_t s = 0; s < compiled.plan.steps.size(); ++s) {
      const PlanStep& step = from_file->executable().plan.steps[s];
      if (!absl::StartsWith(step.kernel, kGeneratedKernelPrefix)) continue;
      ++generated;
      const KernelSymbol* symbol = a.code_library()->Find(step.kernel);
      if (symbol == nullptr) {
        ADD_FAILURE() << step.kernel << " is not in the artifact's code";
        continue;
      }
      EXPECT_EQ(step.dispatch.fn, symbol->fn);
      EXPECT_NE(step.dispatch.fn, compiled.plan.steps[s].dispatch.fn);
    }
    EXPECT_GT(generated, 0) << "batch " << batch;
    std::vector<Tensor> feeds;
    for (size_t i = 0; i < inputs.size(); ++i) {
      feeds.push_back(RandomTensor(DataType::kF32, compiled.inputs[i].type.shape, 7 + batch));
    }
    absl::StatusOr<std::vector<Tensor>> got = (*loaded)->Run(feeds);
    EXPECT_TRUE(got.ok()) << got.status();
    absl::StatusOr<std::unique_ptr<LoadedExecutable>> in_process =
        LoadedExecutable::Load(compiled, pool);
    EXPECT_TRUE(in_process.ok()) << in_process.status();
    if (!in_process.ok()) continue;
    absl::StatusOr<std::vector<Tensor>> want = (*in_process)->Run(feeds);
    EXPECT_TRUE(want.ok()) << want.status();
    if (!got.ok() || !want.ok()) continue;
    for (size_t o = 0; o < want->size(); ++o) {
      EXPECT_EQ((*got)[o].shape(), (*want)[o].shape());
      EXPECT_EQ((*got)[o].ByteSize(), (*want)[o].ByteSize());
      if ((*got)[o].ByteSize() != (*want)[o].ByteSize()) continue;
      EXPECT_EQ(std::memcmp((*got)[o].raw_data(), (*want)[o].raw_data(), (*got)[o].ByteSize()),
                0)
          << "batch " << batch << ", output " << o;
    }
  }
  return *std::move(loaded);
}

TEST(ArtifactCodeTest, ALoopFusionRunsFromTheCodeSectionToTheCompilersBits) {
  // The eltwise chain is one loop cluster: its kernel is generated.
  Written w = WriteGenerated(examples::BuildEltwise().value(), "eltwise.kiln");
  ASSERT_FALSE(w.contents.code.shared_object.empty());
  EXPECT_EQ(w.contents.code.shared_object.substr(0, 4), "\x7f" "ELF");
  ExpectRunsLikeTheCompiler(w, "gen.loop.");
}

TEST(ArtifactCodeTest, ASoftmaxRowKernelRunsFromTheCodeSectionToTheCompilersBits) {
  // The MLP ends in a Softmax, which the default provider runs as a generated row kernel.
  Written w = WriteGenerated(SmallMlp(), "mlp_generated.kiln");
  ExpectRunsLikeTheCompiler(w, "gen.row.");
}

TEST(ArtifactCodeTest, CodeCallingLibmRunsToTheCompilersBits) {
  // Pow lowers to a call of libm's powf: the shared object binds it to the system's libm.
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{-1, 5});
  b.Output("y", ops::Add(b, ops::Pow(b, ops::Abs(b, x), ops::ScalarLike(b, x, 1.7)), x));
  Written w = WriteGenerated(b.BuildGraph().value(), "pow.kiln");
  ExpectRunsLikeTheCompiler(w, "gen.loop.");
}

TEST(ArtifactCodeTest, ArtifactsWithDifferentCodeLoadSideBySide) {
  // The loader knows objects by path (/proc/self/fd/N): the second artifact's memfd reuses
  // the first's closed descriptor number, and must still get its own code.
  Written eltwise = WriteGenerated(examples::BuildEltwise().value(), "side1.kiln");
  Written mlp = WriteGenerated(SmallMlp(), "side2.kiln");
  std::unique_ptr<LoadedArtifact> first = ExpectRunsLikeTheCompiler(eltwise, "gen.loop.");
  std::unique_ptr<LoadedArtifact> second = ExpectRunsLikeTheCompiler(mlp, "gen.row.");
  std::unique_ptr<LoadedArtifact> again = ExpectRunsLikeTheCompiler(eltwise, "gen.loop.");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(again, nullptr);
  EXPECT_NE(first->artifact().code_library(), again->artifact().code_library());
}

TEST(ArtifactCodeTest, AnExecutableTakenFromTheArtifactKeepsItsCode) {
  Written w = WriteGenerated(examples::BuildEltwise().value(), "keep.kiln");
  absl::StatusOr<std::shared_ptr<const Artifact>> artifact = Artifact::Open(w.path);
  ASSERT_TRUE(artifact.ok()) << artifact.status();
  Executable executable = (*artifact)->executables()[1].executable;
  const std::vector<const KernelLibrary*> libraries = (*artifact)->Libraries();
  ASSERT_EQ(libraries.back(), (*artifact)->code_library());
  EXPECT_EQ(libraries.back()->name(), "artifact code");
  artifact->reset();  // the Executable's keep_alive holds the code
  absl::StatusOr<std::unique_ptr<LoadedExecutable>> loaded =
      LoadedExecutable::Load(executable, nullptr, libraries);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  Tensor x = RandomTensor(DataType::kF32, Shape({3}), 3);
  absl::StatusOr<std::vector<Tensor>> got = (*loaded)->Run({x});
  ASSERT_TRUE(got.ok()) << got.status();
  absl::StatusOr<std::unique_ptr<LoadedExecutable>> compiled =
      LoadedExecutable::Load(w.contents.executables[1].executable, nullptr);
  ASSERT_TRUE(compiled.ok());
  absl::StatusOr<std::vector<Tensor>> want = (*compiled)->Run({x});
  ASSERT_TRUE(want.ok());
  EXPECT_EQ(std::memcmp((*got)[0].raw_data(), (*want)[0].raw_data(), (*got)[0].ByteSize()), 0);
}

TEST(ArtifactCodeTest, ACorruptedCodeSectionIsRefusedByItsChecksum) {
  const std::string bytes = ReadBytes(WriteGenerated(examples::BuildEltwise().value(),
                                                     "flipcode.kiln").path);
  uint64_t code = 0;
  std::memcpy(&code, &bytes[kCodeOffsetOffset], sizeof(code));
  ASSERT_GT(bytes.size(), code);
  for (uint64_t offset : {code, code + 1, code + (bytes.size() - code) / 2,
                          static_cast<uint64_t>(bytes.size() - 1)}) {
    std::string damaged = bytes;
    damaged[offset] ^= 0x10;
    absl::Status status = OpenBytes(damaged);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << offset;
    EXPECT_THAT(status.message(),
                HasSubstr("the code section is corrupted (checksum mismatch)"));
  }
  // Without checksums, damaged code that the loader refuses is named as such (the ELF
  // magic), never run.
  std::string magic = bytes;
  magic[code] = 'X';
  absl::Status status = OpenBytes(magic, /*verify=*/false);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("generated code: the code does not load: "));
}

TEST(ArtifactCodeTest, CodeNeedingAFeatureThisCpuLacksIsRefusedNamingIt) {
  const std::string bytes = ReadBytes(WriteGenerated(examples::BuildEltwise().value(),
                                                     "features.kiln").path);
  // A feature bit this CPU lacks: AVX-512 where it has none, else one no CPU has yet.
  const uint32_t lacking =
      (HostCpuFeatures() & kCpuAvx512) == 0 ? uint32_t{kCpuAvx512} : uint32_t{1} << 30;
  const std::string patched = RewriteManifest(bytes, [&](proto::ArtifactManifest& m) {
    m.mutable_generated_kernels(0)->set_cpu_features(
        m.generated_kernels(0).cpu_features() | lacking);
  });
  absl::Status status = OpenBytes(patched);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(),
              HasSubstr(absl::StrCat("its generated code needs ", CpuFeatureNames(lacking),
                                     ", which this CPU lacks (kernel 'gen.loop.")));
  EXPECT_THAT(status.message(), HasSubstr("it was generated for "));
  // Describing it loads no code, so it is no error.
  Artifact::Options describe;
  describe.load_code = false;
  absl::StatusOr<std::shared_ptr<const Artifact>> described =
      Artifact::FromBytes(patched, "features.kiln", describe);
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_EQ((*described)->code_library(), nullptr);
  EXPECT_EQ((*described)->code_kernels()[0].cpu_features & lacking, lacking);
  // And its Executables have no code to run.
  absl::StatusOr<std::unique_ptr<LoadedArtifact>> loaded =
      LoadedArtifact::Load(*described, nullptr);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(loaded.status().message(), HasSubstr("is in no linked kernel library (cpu)"));
}

TEST(ArtifactCodeTest, ASymbolTheCodeLacksIsRefusedNamingIt) {
  const std::string bytes = ReadBytes(WriteGenerated(examples::BuildEltwise().value(),
                                                     "symbol.kiln").path);
  std::string kernel;
  const std::string patched = RewriteManifest(bytes, [&](proto::ArtifactManifest& m) {
    kernel = m.generated_kernels(0).name();
    m.mutable_generated_kernels(0)->set_entry_symbol("kiln_gen_loop_absent");
  });
  absl::Status status = OpenBytes(patched);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(),
              HasSubstr(absl::StrCat("generated code: generated kernel '", kernel,
                                     "': the code has no symbol 'kiln_gen_loop_absent'")));
}

TEST(ArtifactCodeTest, AKernelListThatDisagreesWithTheStepsOrTheCodeIsRefused) {
  const std::string bytes = ReadBytes(WriteGenerated(examples::BuildEltwise().value(),
                                                     "list.kiln").path);
  auto open = [](const std::string& patched) { return OpenBytes(patched); };
  absl::Status status = open(RewriteManifest(bytes, [](proto::ArtifactManifest& m) {
    proto::GeneratedKernel* extra = m.add_generated_kernels();
    *extra = m.generated_kernels(0);
    extra->set_name("gen.loop.0123456789abcdef");
  }));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("generated kernel 'gen.loop.0123456789abcdef' is run by no step"));

  status = open(RewriteManifest(bytes, [](proto::ArtifactManifest& m) {
    *m.add_generated_kernels() = m.generated_kernels(0);
  }));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("' is listed twice"));

  // A step's generated kernel renamed: the list no longer holds what it runs.
  status = open(RewriteManifest(bytes, [](proto::ArtifactManifest& m) {
    for (proto::ArtifactExecutable& e : *m.mutable_executables()) {
      for (proto::PlanStep& step : *e.mutable_executable()->mutable_steps()) {
        if (absl::StartsWith(step.kernel(), "gen.")) step.set_kernel("gen.loop.fedcba9876543210");
      }
    }
  }));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("runs generated kernel 'gen.loop.fedcba9876543210', "
                                          "which the manifest does not list"));

  status = open(RewriteManifest(bytes, [](proto::ArtifactManifest& m) {
    m.clear_generated_kernels();
  }));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("the manifest lists 0 generated kernels, the code "
                                          "section has "));

  status = open(RewriteManifest(bytes, [](proto::ArtifactManifest& m) {
    m.mutable_generated_kernels(0)->clear_entry_symbol();
  }));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("no name or no entry symbol"));
}

TEST(ArtifactCodeTest, WritingRefusesCodeThatDisagreesWithTheSteps) {
  Written w = WriteGenerated(examples::BuildEltwise().value(), "write.kiln");
  const ArtifactContents good = w.contents;
  ArtifactContents contents = good;
  contents.code = ArtifactCode();
  absl::Status status = WriteArtifact(contents, TempFile("nocode.kiln"));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("runs kernel 'gen.loop."));

  contents = good;
  contents.code.shared_object.clear();
  EXPECT_THAT(WriteArtifact(contents, TempFile("x.kiln")).message(),
              HasSubstr("an artifact has both or neither"));

  contents = good;
  contents.code.kernels.push_back(contents.code.kernels[0]);
  EXPECT_THAT(WriteArtifact(contents, TempFile("x.kiln")).message(), HasSubstr("listed twice"));

  contents = good;
  contents.code.kernels.push_back({"gen.loop.unused", "kiln_gen_loop_unused", 0});
  EXPECT_THAT(WriteArtifact(contents, TempFile("x.kiln")).message(),
              HasSubstr("generated kernel 'gen.loop.unused' is run by no step"));
  EXPECT_TRUE(ReadBytes(TempFile("x.kiln")).empty());

  // Library kernels only: no code section at all.
  Written library = WriteMlp("library.kiln");
  EXPECT_TRUE(library.contents.code.kernels.empty());
  absl::StatusOr<std::shared_ptr<const Artifact>> artifact = Artifact::Open(library.path);
  ASSERT_TRUE(artifact.ok()) << artifact.status();
  EXPECT_EQ((*artifact)->code_bytes(), 0);
  EXPECT_EQ((*artifact)->code_library(), nullptr);
}

}  // namespace
}  // namespace kiln
