// ONNX's backend node tests through the importer and a default Session: fails when
// fewer tests pass than the floor recorded in conformance_floor.txt, or when a test that
// passed when the floor was set (a sample named below) stops passing.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tools/onnx/conformance.h"

namespace kiln::onnx_conformance {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

int ReadFloor() {
  std::ifstream in("tests/onnx/conformance_floor.txt");
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    int floor = 0;
    if (absl::SimpleAtoi(text, &floor)) return floor;
  }
  return -1;
}

class ConformanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(absl::StrCat(TempDir(), "/onnx_backend"));
    std::string cmd = absl::StrCat("mkdir -p '", *dir_, "' && tar -xf tests/onnx/onnx_backend_tests.tar -C '",
                                   *dir_, "'");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static std::string* dir_;
};
std::string* ConformanceTest::dir_ = nullptr;

TEST_F(ConformanceTest, PassCountStaysAboveFloor) {
  const int floor = ReadFloor();
  ASSERT_GT(floor, 0) << "tests/onnx/conformance_floor.txt holds no floor";
  absl::StatusOr<ConformanceSummary> summary =
      RunConformance(absl::StrCat(*dir_, "/node"), ConformanceOptions{}, &std::cout);
  ASSERT_TRUE(summary.ok()) << summary.status();
  std::cout << FormatConformanceSummary(*summary);
  // ONNX 1.12 generates 922 node tests; every one is counted, none skipped.
  EXPECT_EQ(summary->results.size(), 922u);
  EXPECT_EQ(summary->passed + summary->failed + summary->unsupported,
            static_cast<int>(summary->results.size()));
  EXPECT_GE(summary->passed, floor) << "conformance regressed below the recorded floor";

  // A sample across the converters; each must pass.
  const std::set<std::string> must_pass = {
      "test_abs", "test_add_bcast", "test_averagepool_2d_same_upper", "test_batchnorm_epsilon",
      "test_cast_FLOAT_to_DOUBLE", "test_clip_default_inbounds", "test_constant",
      "test_conv_with_autopad_same", "test_conv_with_strides_and_asymmetric_padding",
      "test_flatten_negative_axis1", "test_gather_negative_indices", "test_gemm_all_attributes",
      "test_layer_normalization_4d_axis_negative_1", "test_logsoftmax_axis_1",
      "test_maxpool_2d_ceil", "test_maxpool_2d_same_lower", "test_reduce_log_sum_exp_keepdims_random",
      "test_reshape_reordered_all_dims", "test_shape_start_1_end_negative_1",
      "test_sce_mean_weight_ii_3d_log_prob", "test_split_variable_parts_1d",
      "test_unsqueeze_negative_axes", "test_where_example", "test_erf"};
  std::set<std::string> seen;
  for (const TestResult& r : summary->results) {
    if (must_pass.count(r.name) == 0) continue;
    seen.insert(r.name);
    EXPECT_EQ(r.outcome, Outcome::kPass) << r.name << ": " << r.detail;
  }
  for (const std::string& name : must_pass) {
    EXPECT_EQ(seen.count(name), 1u) << name << " was not generated";
  }
}

// Without freezing, tests whose shape-like inputs are fed at run time are unsupported,
// never failures.
TEST_F(ConformanceTest, WithoutFreezingShapeInputsAreUnsupported) {
  ConformanceOptions options;
  options.freeze_inputs = false;
  options.filter = "test_reshape_";
  absl::StatusOr<ConformanceSummary> summary = RunConformance(absl::StrCat(*dir_, "/node"), options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_GT(summary->results.size(), 5u);
  EXPECT_EQ(summary->passed, 0);
  EXPECT_EQ(summary->failed, 0);
  for (const TestResult& r : summary->results) {
    EXPECT_NE(r.detail.find("must be a constant"), std::string::npos) << r.name << ": " << r.detail;
  }
}

}  // namespace
}  // namespace kiln::onnx_conformance
