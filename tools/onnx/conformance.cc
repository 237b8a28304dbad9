// The conformance runner: one test folder at a time, import -> Session -> compare.
#include "tools/onnx/conformance.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/types/optional.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "graph/onnx/onnx_importer.h"
#include "graph/onnx/onnx_tensor.h"
#include "base/status_macros.h"
#include "runtime/session.h"

namespace kiln::onnx_conformance {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxFreezeRounds = 8;

TestResult Fail(TestResult r, absl::string_view detail) {
  r.outcome = Outcome::kFail;
  r.detail = std::string(detail);
  return r;
}

// Unimplemented means Kiln does not support something; anything else is a failure.
TestResult FromStatus(TestResult r, const absl::Status& status, absl::string_view stage) {
  r.outcome = status.code() == absl::StatusCode::kUnimplemented ? Outcome::kUnsupported
                                                                  : Outcome::kFail;
  r.detail = absl::StrCat(stage, ": ", status.message());
  return r;
}

absl::StatusOr<onnx::TensorProto> ReadTensorProto(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  std::stringstream buffer;
  buffer << in.rdbuf();
  onnx::TensorProto proto;
  if (!proto.ParseFromString(buffer.str())) {
    return absl::InvalidArgumentError(absl::StrCat(path.filename().string(), " is not a TensorProto"));
  }
  return proto;
}

// input_0.pb, input_1.pb, ... (or output_*) of one data set, in index order.
absl::StatusOr<std::vector<Tensor>> ReadTensors(const fs::path& dir, absl::string_view prefix) {
  std::vector<Tensor> tensors;
  for (int i = 0;; ++i) {
    fs::path path = dir / absl::StrCat(prefix, "_", i, ".pb");
    std::error_code ec;
    if (!fs::exists(path, ec)) break;
    ASSIGN_OR_RETURN(onnx::TensorProto proto, ReadTensorProto(path));
    ASSIGN_OR_RETURN(Tensor t, TensorFromOnnx(proto, dir.string(), path.filename().string()));
    tensors.push_back(std::move(t));
  }
  return tensors;
}

std::vector<fs::path> DataSets(const fs::path& test_dir) {
  std::vector<fs::path> sets;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(test_dir, ec)) {
    if (e.is_directory() && absl::StartsWith(e.path().filename().string(), "test_data_set_")) {
      sets.push_back(e.path());
    }
  }
  std::sort(sets.begin(), sets.end());
  return sets;
}

std::string FormatValue(double v) { return absl::StrFormat("%.9g", v); }

// Empty when `got` matches `want`, else the first difference.
std::string Compare(const Tensor& got, const Tensor& want, const ConformanceOptions& options) {
  if (got.dtype() != want.dtype()) {
    return absl::StrCat("dtype ", DataTypeName(got.dtype()), ", want ", DataTypeName(want.dtype()));
  }
  if (got.shape() != want.shape()) {
    return absl::StrCat("shape ", got.shape().ToString(), ", want ", want.shape().ToString());
  }
  const bool floating = IsFloating(want.dtype());
  for (int64_t i = 0; i < want.NumElements(); ++i) {
    if (!floating) {
      if (got.GetAsInt64(i) != want.GetAsInt64(i)) {
        return absl::StrCat("element ", i, ": got ", got.GetAsInt64(i), ", want ", want.GetAsInt64(i));
      }
      continue;
    }
    const double g = got.GetAsDouble(i);
    const double w = want.GetAsDouble(i);
    if (std::isnan(w) || std::isnan(g)) {
      if (std::isnan(w) && std::isnan(g)) continue;
    } else if (std::isinf(w) || std::isinf(g)) {
      if (g == w) continue;
    } else if (std::fabs(g - w) <= options.atol + options.rtol * std::fabs(w)) {
      continue;
    }
    return absl::StrCat("element ", i, ": got ", FormatValue(g), ", want ", FormatValue(w));
  }
  return "";
}

// Names of the ONNX graph inputs Kiln feeds (not initializers, not frozen), in order,
// with their positions among the ONNX inputs (the index of input_K.pb).
std::vector<int> FedInputPositions(const onnx::ModelProto& model,
                                   const std::map<std::string, Tensor, std::less<>>& frozen) {
  std::set<std::string> initializers;
  for (const onnx::TensorProto& t : model.graph().initializer()) initializers.insert(t.name());
  std::vector<int> positions;
  for (int j = 0; j < model.graph().input_size(); ++j) {
    const std::string& name = model.graph().input(j).name();
    if (initializers.count(name) == 0 && frozen.count(name) == 0) positions.push_back(j);
  }
  return positions;
}

std::vector<std::string> OpTypes(const onnx::ModelProto& model) {
  std::set<std::string> ops;
  for (const onnx::NodeProto& n : model.graph().node()) {
    ops.insert(n.domain().empty() || n.domain() == "ai.onnx" ? n.op_type()
                                                             : absl::StrCat(n.domain(), ".", n.op_type()));
  }
  return std::vector<std::string>(ops.begin(), ops.end());
}

}  // namespace

TestResult RunConformanceTest(const std::string& test_dir, const ConformanceOptions& options) {
  TestResult r;
  r.name = fs::path(test_dir).filename().string();
  absl::StatusOr<onnx::ModelProto> model = ReadOnnxModel((fs::path(test_dir) / "model.onnx").string());
  if (!model.ok()) return FromStatus(r, model.status(), "read");
  r.op_types = OpTypes(*model);
  const std::vector<fs::path> sets = DataSets(test_dir);
  if (sets.empty()) return Fail(r, "no test_data_set_* folder");

  // Inputs of the first data set: needed to freeze inputs Kiln wants as constants.
  absl::StatusOr<std::vector<Tensor>> first_inputs = ReadTensors(sets[0], "input");

  OnnxImportOptions import;
  import.external_data_dir = test_dir;
  absl::StatusOr<Graph> graph;
  for (int round = 0;; ++round) {
    graph = ImportOnnxModel(*model, import);
    if (graph.ok()) break;
    absl::optional<absl::Cord> needed = graph.status().GetPayload(kOnnxNeedsConstantPayload);
    if (!needed || !options.freeze_inputs || round >= kMaxFreezeRounds || sets.size() != 1 ||
        !first_inputs.ok()) {
      return FromStatus(r, graph.status(), "import");
    }
    bool added = false;
    const std::vector<std::string> names = absl::StrSplit(std::string(*needed), '\n', absl::SkipEmpty());
    for (const std::string& name : names) {
      int position = -1;
      for (int j = 0; j < model->graph().input_size(); ++j) {
        if (model->graph().input(j).name() == name) position = j;
      }
      if (position < 0 || position >= static_cast<int>(first_inputs->size()) ||
          import.frozen_inputs.count(name) > 0) {
        continue;
      }
      import.frozen_inputs[name] = (*first_inputs)[position];
      r.frozen_inputs.push_back(name);
      added = true;
    }
    if (!added) return FromStatus(r, graph.status(), "import");
  }
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(*std::move(graph));
  if (!session.ok()) return FromStatus(r, session.status(), "session");

  const std::vector<int> fed = FedInputPositions(*model, import.frozen_inputs);
  const Graph& g = (*session)->graph();
  if (fed.size() != g.inputs().size()) {
    return Fail(r, absl::StrCat("the graph has ", g.inputs().size(), " inputs, the model feeds ",
                                fed.size()));
  }
  for (const fs::path& set : sets) {
    absl::StatusOr<std::vector<Tensor>> inputs = ReadTensors(set, "input");
    if (!inputs.ok()) return FromStatus(r, inputs.status(), "inputs");
    absl::StatusOr<std::vector<Tensor>> expected = ReadTensors(set, "output");
    if (!expected.ok()) return FromStatus(r, expected.status(), "outputs");
    Feeds feeds;
    for (size_t k = 0; k < fed.size(); ++k) {
      if (fed[k] >= static_cast<int>(inputs->size())) {
        return Fail(r, absl::StrCat(set.filename().string(), " has no input_", fed[k], ".pb"));
      }
      feeds.emplace_back(g.node(g.inputs()[k]).name, (*inputs)[fed[k]]);
    }
    absl::StatusOr<std::vector<Tensor>> outputs = (*session)->Run(feeds);
    if (!outputs.ok()) return FromStatus(r, outputs.status(), "run");
    if (outputs->size() != expected->size()) {
      return Fail(r, absl::StrCat(outputs->size(), " outputs, want ", expected->size()));
    }
    for (size_t k = 0; k < outputs->size(); ++k) {
      std::string diff = Compare((*outputs)[k], (*expected)[k], options);
      if (!diff.empty()) {
        return Fail(r, absl::StrCat(set.filename().string(), " output ", k, " ('",
                                    g.outputs()[k].name, "') ", diff));
      }
    }
  }
  r.outcome = Outcome::kPass;
  return r;
}

absl::StatusOr<ConformanceSummary> RunConformance(const std::string& dir,
                                                  const ConformanceOptions& options,
                                                  std::ostream* progress) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return absl::NotFoundError(absl::StrCat("'", dir, "' is not a directory"));
  std::vector<fs::path> tests;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) return absl::NotFoundError(absl::StrCat("cannot read '", dir, "': ", ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) return absl::NotFoundError(absl::StrCat("cannot read '", dir, "': ", ec.message()));
    if (it.depth() > 2) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory() && fs::exists(it->path() / "model.onnx")) {
      if (options.filter.empty() || absl::StrContains(it->path().filename().string(), options.filter)) {
        tests.push_back(it->path());
      }
      it.disable_recursion_pending();
    }
  }
  if (tests.empty()) return absl::NotFoundError(absl::StrCat("no test folders (with model.onnx) under '", dir, "'"));
  std::sort(tests.begin(), tests.end(), [](const fs::path& a, const fs::path& b) {
    return a.filename() != b.filename() ? a.filename() < b.filename() : a < b;
  });
  ConformanceSummary summary;
  for (const fs::path& test : tests) {
    TestResult r = RunConformanceTest(test.string(), options);
    switch (r.outcome) {
      case Outcome::kPass:
        ++summary.passed;
        if (!r.frozen_inputs.empty()) ++summary.passed_frozen;
        break;
      case Outcome::kFail: ++summary.failed; break;
      case Outcome::kUnsupported: ++summary.unsupported; break;
    }
    if (progress != nullptr) {
      const char* label = r.outcome == Outcome::kPass   ? "PASS"
                           : r.outcome == Outcome::kFail ? "FAIL"
                                                         : "UNSUPPORTED";
      *progress << label << " " << r.name;
      if (!r.frozen_inputs.empty()) *progress << " (frozen: " << absl::StrJoin(r.frozen_inputs, ", ") << ")";
      if (r.outcome != Outcome::kPass) *progress << ": " << r.detail;
      *progress << "\n";
    }
    summary.results.push_back(std::move(r));
  }
  return summary;
}

namespace {

// "node 'x' (Loop, opset 16): op Loop is not supported" -> "Loop"; other details keep
// their stage ("import: graph input 'x' is a sequence...") cut to a readable length.
std::string ReasonKey(const std::string& detail) {
  size_t open = detail.find("' (");
  if (open != std::string::npos) {
    size_t comma = detail.find(", opset", open);
    if (comma != std::string::npos) {
      std::string op = detail.substr(open + 3, comma - open - 3);
      size_t colon = detail.find("): ", comma);
      std::string why = colon == std::string::npos ? "" : detail.substr(colon + 3);
      if (absl::StartsWith(why, "op ")) return absl::StrCat(op, ": no converter");
      if (why.size() > 70) why = why.substr(0, 70) + "...";
      return absl::StrCat(op, ": ", why);
    }
  }
  return detail.size() > 90 ? detail.substr(0, 90) + "..." : detail;
}

}  // namespace

std::string FormatConformanceSummary(const ConformanceSummary& s) {
  std::string text = absl::StrCat("conformance: ", s.passed, " passed (", s.passed_frozen,
                                  " with frozen inputs), ", s.failed, " failed, ", s.unsupported,
                                  " unsupported, of ", s.results.size(), " tests\n");
  std::map<std::string, int> failing_ops;
  std::map<std::string, int> reasons;
  for (const TestResult& r : s.results) {
    if (r.outcome == Outcome::kFail) {
      for (const std::string& op : r.op_types) ++failing_ops[op];
    } else if (r.outcome == Outcome::kUnsupported) {
      ++reasons[ReasonKey(r.detail)];
    }
  }
  std::vector<std::string> ops;
  for (const auto& [op, n] : failing_ops) ops.push_back(absl::StrCat(op, " (", n, ")"));
  absl::StrAppend(&text, "failing ops: ", ops.empty() ? "none" : absl::StrJoin(ops, ", "), "\n");
  std::vector<std::pair<int, std::string>> by_count;
  for (const auto& [reason, n] : reasons) by_count.emplace_back(-n, reason);
  std::sort(by_count.begin(), by_count.end());
  absl::StrAppend(&text, "unsupported reasons:\n");
  for (const auto& [n, reason] : by_count) absl::StrAppend(&text, "  ", -n, "  ", reason, "\n");
  return text;
}

}  // namespace kiln::onnx_conformance
