// The model directory and dynamic batching: versions found by polling, served by policy,
// a version that fails to load reported while the previous one keeps serving, unloaded
// versions finishing the requests that hold them; concurrent requests merged into one run
// whose rows come back to the right request.
#include "tools/serve/model_manager.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/models.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/compile_artifact.h"
#include "runtime/default_provider.h"
#include "tests/util/op_test_util.h"

namespace kiln::serve {
namespace {

namespace fs = std::filesystem;
using ::kiln::testing::RandomTensor;
using ::testing::HasSubstr;

// The small MLP (12 -> 20 -> 20 -> 10) with weights from `seed`, compiled for batches
// 1, 4 and 8, written to DIR/NAME/VERSION/model.kiln.
void WriteVersion(const std::string& dir, const std::string& name, int64_t version,
                  uint64_t seed) {
  examples::MlpConfig config;
  config.in = 12;
  config.hidden = 20;
  config.seed = seed;
  CompileOptions options;
  options.kernel_provider = LibraryKernelProvider();
  absl::StatusOr<ArtifactContents> contents =
      CompileArtifact(examples::BuildMlp(config).value(), options, {1, 4, 8}, "mlp");
  ASSERT_TRUE(contents.ok()) << contents.status();
  const fs::path folder = fs::path(dir) / name / absl::StrCat(version);
  fs::create_directories(folder);
  ASSERT_TRUE(WriteArtifact(*contents, (folder / "model.kiln").string()).ok());
}

std::string FreshDir(const std::string& name) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/", name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string StatesOf(const ModelManager& models, const std::string& name) {
  absl::StatusOr<std::vector<VersionStatus>> statuses = models.GetStatus(name, std::nullopt);
  if (!statuses.ok()) return std::string(statuses.status().message());
  std::string out;
  for (const VersionStatus& s : *statuses) {
    absl::StrAppend(&out, out.empty() ? "" : " ", s.version, ":", VersionStateName(s.state));
  }
  return out;
}

// Runs a request through a version's batcher and waits for its reply; with `expected`, the
// request was announced (Batcher::Expect) and arrives with its Submit.
absl::StatusOr<std::vector<Tensor>> Predict(const Servable& servable, std::vector<Tensor> inputs,
                                            int64_t rows, bool expected = false) {
  std::promise<absl::StatusOr<std::vector<Tensor>>> promise;
  servable.batcher().Submit(std::move(inputs), rows,
                            [&](absl::Status status, std::vector<Tensor> outputs) {
                              if (status.ok()) {
                                promise.set_value(std::move(outputs));
                              } else {
                                promise.set_value(status);
                              }
                            });
  if (expected) servable.batcher().Arrived();
  return promise.get_future().get();
}

TEST(ModelManagerTest, ServesTheLatestVersionThatLoadsAndReportsTheOthers) {
  const std::string dir = FreshDir("latest");
  WriteVersion(dir, "mlp", 1, 1);
  ModelManager::Options options;
  options.model_dir = dir;
  ModelManager models(options);
  EXPECT_FALSE(models.Ready());
  models.Poll();
  EXPECT_TRUE(models.Ready());
  EXPECT_EQ(StatesOf(models, "mlp"), "1:AVAILABLE");
  absl::StatusOr<std::shared_ptr<Servable>> v1 = models.Find("mlp", std::nullopt);
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ((*v1)->version(), 1);
  ASSERT_EQ((*v1)->inputs().size(), 1u);
  EXPECT_EQ((*v1)->inputs()[0].dims, (std::vector<int64_t>{-1, 12}));
  EXPECT_TRUE((*v1)->inputs()[0].batched());

  // Version 2 arrives: it takes over; version 1 ends but finishes what holds it.
  WriteVersion(dir, "mlp", 2, 2);
  models.Poll();
  EXPECT_EQ(StatesOf(models, "mlp"), "2:AVAILABLE 1:END");
  EXPECT_EQ(models.Find("mlp", std::nullopt).value()->version(), 2);
  EXPECT_THAT(models.Find("mlp", 1).status().message(),
              HasSubstr("Servable not found for request: Specific(mlp, 1)"));
  absl::StatusOr<std::vector<Tensor>> held =
      Predict(**v1, {RandomTensor(DataType::kF32, Shape({1, 12}), 3)}, 1);
  ASSERT_TRUE(held.ok()) << held.status();
  v1->reset();

  // Version 3 is damaged: reported, and version 2 keeps serving.
  const fs::path broken = fs::path(dir) / "mlp" / "3";
  fs::create_directories(broken);
  std::ofstream(broken / "model.kiln") << std::string(200, 'x');  // no magic number
  models.Poll();
  EXPECT_EQ(StatesOf(models, "mlp"), "3:END 2:AVAILABLE 1:END");
  absl::StatusOr<std::vector<VersionStatus>> v3 = models.GetStatus("mlp", 3);
  ASSERT_TRUE(v3.ok());
  EXPECT_THAT((*v3)[0].status.message(), HasSubstr("not a Kiln artifact"));
  EXPECT_EQ(models.Find("mlp", std::nullopt).value()->version(), 2);
  // Not retried until the file changes; then it loads.
  models.Poll();
  EXPECT_EQ(StatesOf(models, "mlp"), "3:END 2:AVAILABLE 1:END");
  fs::remove(broken / "model.kiln");
  WriteVersion(dir, "mlp", 3, 3);
  models.Poll();
  EXPECT_EQ(StatesOf(models, "mlp"), "3:AVAILABLE 2:END 1:END");

  EXPECT_THAT(models.Find("other", std::nullopt).status().message(),
              HasSubstr("Servable not found for request: Latest(other)"));
  EXPECT_EQ(models.GetStatus("other", std::nullopt).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(models.GetStatus("mlp", 7).status().code(), absl::StatusCode::kNotFound);
}

TEST(ModelManagerTest, VersionPoliciesAllAndSpecific) {
  const std::string dir = FreshDir("policies");
  for (int v = 1; v <= 3; ++v) {
    WriteVersion(dir, "all", v, v);
    WriteVersion(dir, "some", v, v);
    WriteVersion(dir, "two", v, v);
  }
  ModelManager::Options options;
  options.model_dir = dir;
  proto::ModelServeConfig* all = options.config.add_models();
  all->set_name("all");
  all->mutable_version_policy()->mutable_all();
  proto::ModelServeConfig* some = options.config.add_models();
  some->set_name("some");
  some->mutable_version_policy()->mutable_specific()->add_versions(1);
  some->mutable_version_policy()->mutable_specific()->add_versions(3);
  proto::ModelServeConfig* two = options.config.add_models();
  two->set_name("two");
  two->mutable_version_policy()->mutable_latest()->set_num_versions(2);
  ASSERT_TRUE(ValidateServeConfig(options.config).ok());
  ModelManager models(options);
  models.Poll();
  EXPECT_EQ(StatesOf(models, "all"), "3:AVAILABLE 2:AVAILABLE 1:AVAILABLE");
  EXPECT_EQ(StatesOf(models, "some"), "3:AVAILABLE 1:AVAILABLE");
  EXPECT_EQ(StatesOf(models, "two"), "3:AVAILABLE 2:AVAILABLE");
  EXPECT_TRUE(models.Find("all", 2).ok());
  EXPECT_FALSE(models.Find("some", 2).ok());
  // A removed version directory unloads.
  fs::remove_all(fs::path(dir) / "all" / "3");
  models.Poll();
  EXPECT_EQ(StatesOf(models, "all"), "3:END 2:AVAILABLE 1:AVAILABLE");
  EXPECT_EQ(models.Find("all", std::nullopt).value()->version(), 2);
}

TEST(ModelManagerTest, ConfigErrorsNameTheModel) {
  proto::ServeConfig config;
  config.add_models()->set_name("a");
  config.add_models()->set_name("a");
  EXPECT_THAT(ValidateServeConfig(config).message(), HasSubstr("model 'a': configured twice"));
  config.Clear();
  config.add_models()->set_name("../etc");
  EXPECT_THAT(ValidateServeConfig(config).message(), HasSubstr("not a directory name"));
  config.Clear();
  proto::ModelServeConfig* m = config.add_models();
  m->set_name("m");
  m->mutable_version_policy()->mutable_specific();
  EXPECT_THAT(ValidateServeConfig(config).message(), HasSubstr("specific lists no versions"));
  m->mutable_batching()->set_batch_timeout_micros(-1);
  m->mutable_version_policy()->mutable_latest();
  EXPECT_THAT(ValidateServeConfig(config).message(), HasSubstr("batching values"));
}

TEST(BatcherTest, ConcurrentRequestsMergeAndGetTheirOwnRows) {
  const std::string dir = FreshDir("batching");
  WriteVersion(dir, "mlp", 1, 7);
  Metrics metrics;
  ModelManager::Options options;
  options.model_dir = dir;
  options.metrics = &metrics;
  proto::ModelServeConfig* config = options.config.add_models();
  config->set_name("mlp");
  // A long wait: every request below is announced first, so they form one batch of 8 rows.
  config->mutable_batching()->set_batch_timeout_micros(2'000'000);
  ModelManager models(options);
  models.Poll();
  std::shared_ptr<Servable> servable = models.Find("mlp", std::nullopt).value();
  EXPECT_EQ(servable->batcher().max_rows(), 8);

  const std::vector<int64_t> rows = {1, 3, 2, 2};  // 8 rows in all: the batch fills
  std::vector<Tensor> inputs;
  for (size_t r = 0; r < rows.size(); ++r) {
    inputs.push_back(RandomTensor(DataType::kF32, Shape({rows[r], 12}), 100 + r));
  }
  std::vector<std::future<absl::StatusOr<std::vector<Tensor>>>> replies;
  for (size_t r = 0; r < rows.size(); ++r) servable->batcher().Expect();
  for (size_t r = 0; r < rows.size(); ++r) {
    replies.push_back(std::async(std::launch::async, [&, r] {
      return Predict(*servable, {inputs[r].Clone()}, rows[r], /*expected=*/true);
    }));
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    absl::StatusOr<std::vector<Tensor>> got = replies[r].get();
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ((*got)[0].shape(), Shape({rows[r], 10}));
    // Alone, the request runs at the smallest compiled batch that holds it (padded).
    const int64_t padded = servable->model().BatchFor(rows[r]);
    Tensor alone_input = RandomTensor(DataType::kF32, Shape({padded, 12}), 0);
    std::memset(alone_input.data<float>(), 0, alone_input.ByteSize());
    std::memcpy(alone_input.data<float>(), inputs[r].raw_data(), inputs[r].ByteSize());
    absl::StatusOr<std::vector<Tensor>> alone =
        servable->model().ForBatch(padded)->Run({alone_input});
    ASSERT_TRUE(alone.ok()) << alone.status();
    const float* a = (*got)[0].data<float>();
    const float* b = (*alone)[0].data<float>();
    // Softmax outputs in [0, 1]; the GEMMs may block rows differently at another batch.
    for (int64_t i = 0; i < rows[r] * 10; ++i) {
      EXPECT_NEAR(a[i], b[i], 1e-6f) << "request " << r << " element " << i;
    }
  }
  const std::string text = metrics.PrometheusText();
  EXPECT_THAT(text, HasSubstr("kiln_batch_rows_count{model=\"mlp\",version=\"1\"} 1"));
  EXPECT_THAT(text, HasSubstr("kiln_queue_rows{model=\"mlp\",version=\"1\"} 0"));

  // A lone request expected by nobody runs at once, not after the 2 s timeout.
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(Predict(*servable, {RandomTensor(DataType::kF32, Shape({1, 12}), 1)}, 1).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));

  // Too many rows for one request are refused at once.
  absl::StatusOr<std::vector<Tensor>> big =
      Predict(*servable, {RandomTensor(DataType::kF32, Shape({9, 12}), 1)}, 9);
  EXPECT_THAT(big.status().message(), HasSubstr("the request has 9 rows; model 'mlp' version 1 "
                                                "takes 1 to 8 per request"));
}

TEST(BatcherTest, ManyClientsManyVersionsNoRequestLost) {
  const std::string dir = FreshDir("stress");
  WriteVersion(dir, "mlp", 1, 1);
  ModelManager::Options options;
  options.model_dir = dir;
  ModelManager models(options);
  models.Poll();
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 40; ++i) {
        absl::StatusOr<std::shared_ptr<Servable>> servable = models.Find("mlp", std::nullopt);
        ASSERT_TRUE(servable.ok()) << servable.status();
        const int64_t rows = 1 + (c + i) % 3;
        absl::StatusOr<std::vector<Tensor>> got = Predict(
            **servable, {RandomTensor(DataType::kF32, Shape({rows, 12}), c * 100 + i)}, rows);
        ASSERT_TRUE(got.ok()) << got.status();
        ASSERT_EQ((*got)[0].shape(), Shape({rows, 10}));
        ++ok;
      }
    });
  }
  // New versions land while the clients run: none of their requests fails.
  for (int v = 2; v <= 4; ++v) {
    WriteVersion(dir, "mlp", v, v);
    models.Poll();
  }
  for (std::thread& t : clients) t.join();
  models.Poll();
  EXPECT_EQ(ok.load(), 8 * 40);
  EXPECT_EQ(models.Find("mlp", std::nullopt).value()->version(), 4);
}

}  // namespace
}  // namespace kiln::serve
