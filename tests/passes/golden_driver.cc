// Golden pass tests: runs one .kgraph file given as the test's argument. The file holds
// cases separated by "// -----"; each case is a graph in the text form, the passes to run
// ("// RUN: a,b" at the top of the file or in the case; "// RUN: --fixed-point=N a,b"
// repeats them), a one-line intent ("// CASE: name: why"), and either CHECK lines matched
// against the printed result, FileCheck-style, or "// expected-error: text" when parsing,
// verification or a pass must fail with that text. Every successful case is also checked
// numerically: the reference interpreter on random inputs gives the same outputs before and
// after (tests/util/pass_test_util.h states the tolerances).
//
//   CHECK: PAT       PAT on a later line than the previous match
//   CHECK-NEXT: PAT  PAT on the line right after the previous match
//   CHECK-NOT: PAT   PAT absent between the previous match and the next (or the end)
//   CHECK-COUNT-N: PAT  PAT on exactly N lines of the whole output
// PAT is literal text, except that {{RE}} matches the ECMAScript regex RE.
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "graph/text_format.h"
#include "gtest/gtest.h"
#include "passes/pipeline.h"
#include "passes/registry.h"
#include "tests/util/pass_test_util.h"

namespace kiln {
namespace {

struct Check {
  std::string kind;  // CHECK, CHECK-NEXT, CHECK-NOT, CHECK-COUNT
  int count = 0;
  std::string pattern;
  int line = 0;  // in the .kgraph file
};

struct Case {
  std::string name;
  std::string text;
  std::string run;
  std::string expected_error;
  std::vector<Check> checks;
  int first_line = 0;
};

std::regex PatternRegex(const std::string& pattern) {
  std::string re;
  size_t pos = 0;
  while (pos < pattern.size()) {
    size_t open = pattern.find("{{", pos);
    std::string literal = pattern.substr(pos, open == std::string::npos ? std::string::npos : open - pos);
    for (char c : literal) {
      if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) re += '\\';
      re += c;
    }
    if (open == std::string::npos) break;
    size_t close = pattern.find("}}", open + 2);
    if (close == std::string::npos) close = pattern.size();
    re += "(?:" + pattern.substr(open + 2, close - open - 2) + ")";
    pos = close + 2;
  }
  return std::regex(re);
}

bool LineMatches(const std::string& line, const std::string& pattern) {
  if (pattern.find("{{") == std::string::npos) return line.find(pattern) != std::string::npos;
  return std::regex_search(line, PatternRegex(pattern));
}

std::vector<Case> SplitCases(const std::string& file) {
  std::vector<Case> cases(1);
  std::string file_run;
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(file, '\n')) {
    ++line_no;
    std::string line(absl::StripAsciiWhitespace(raw));
    if (line == "// -----") {
      cases.emplace_back();
      cases.back().first_line = line_no + 1;
      continue;
    }
    Case& c = cases.back();
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, "// RUN:")) {
      (cases.size() == 1 && c.text.empty() ? file_run : c.run) =
          std::string(absl::StripAsciiWhitespace(rest));
      continue;
    }
    if (absl::ConsumePrefix(&rest, "// CASE:")) {
      c.name = std::string(absl::StripAsciiWhitespace(rest.substr(0, rest.find(':'))));
      continue;
    }
    if (absl::ConsumePrefix(&rest, "// expected-error:")) {
      c.expected_error = std::string(absl::StripAsciiWhitespace(rest));
      continue;
    }
    if (absl::ConsumePrefix(&rest, "// CHECK")) {
      Check check;
      check.line = line_no;
      size_t colon = rest.find(':');
      std::string suffix(rest.substr(0, colon));
      check.kind = "CHECK" + suffix;
      if (absl::StartsWith(suffix, "-COUNT-")) {
        check.kind = "CHECK-COUNT";
        (void)absl::SimpleAtoi(suffix.substr(7), &check.count);
      }
      check.pattern = std::string(absl::StripAsciiWhitespace(rest.substr(colon + 1)));
      c.checks.push_back(check);
      continue;
    }
    c.text += std::string(raw) + "\n";
  }
  std::vector<Case> kept;
  for (Case& c : cases) {
    if (c.run.empty()) c.run = file_run;
    if (c.text.find("graph(") != std::string::npos) kept.push_back(std::move(c));
  }
  return kept;
}

// Runs the FileCheck-style checks over `output`; returns an empty string or the failure.
std::string RunChecks(const std::vector<Check>& checks, const std::string& output) {
  std::vector<std::string> lines = absl::StrSplit(output, '\n');
  size_t pos = 0;          // first line a CHECK may match
  int last_match = -1;     // line of the previous positive match
  std::vector<const Check*> pending_not;
  auto check_nots = [&](size_t from, size_t to) -> std::string {
    for (const Check* n : pending_not) {
      for (size_t i = from; i < to && i < lines.size(); ++i) {
        if (LineMatches(lines[i], n->pattern)) {
          return absl::StrCat("line ", n->line, ": CHECK-NOT: '", n->pattern,
                              "' found in output line ", i + 1, ": ", lines[i]);
        }
      }
    }
    pending_not.clear();
    return "";
  };
  for (const Check& c : checks) {
    if (c.kind == "CHECK-NOT") {
      pending_not.push_back(&c);
      continue;
    }
    if (c.kind == "CHECK-COUNT") {
      int n = 0;
      for (const std::string& l : lines) n += LineMatches(l, c.pattern) ? 1 : 0;
      if (n != c.count) {
        return absl::StrCat("line ", c.line, ": CHECK-COUNT-", c.count, ": '", c.pattern,
                            "' matched ", n, " lines");
      }
      continue;
    }
    size_t found = lines.size();
    if (c.kind == "CHECK-NEXT") {
      size_t next = static_cast<size_t>(last_match + 1);
      if (last_match >= 0 && next < lines.size() && LineMatches(lines[next], c.pattern)) found = next;
    } else {
      for (size_t i = pos; i < lines.size(); ++i) {
        if (LineMatches(lines[i], c.pattern)) {
          found = i;
          break;
        }
      }
    }
    if (found == lines.size()) {
      return absl::StrCat("line ", c.line, ": ", c.kind, ": '", c.pattern, "' not found",
                          last_match >= 0 ? absl::StrCat(" after output line ", last_match + 1) : "");
    }
    std::string not_error = check_nots(pos, found);
    if (!not_error.empty()) return not_error;
    pos = found + 1;
    last_match = static_cast<int>(found);
  }
  return check_nots(pos, lines.size());
}

// gtest prints parameters on failure; the case name is what helps.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class GoldenTest : public ::testing::TestWithParam<Case> {};

TEST_P(GoldenTest, MatchesChecksAndIsNumericallyEqual) {
  const Case& c = GetParam();
  SCOPED_TRACE(absl::StrCat("case '", c.name, "' at line ", c.first_line));
  ASSERT_FALSE(c.name.empty()) << "every case needs a '// CASE: name: intent' line";
  ASSERT_TRUE(!c.checks.empty() || !c.expected_error.empty()) << "a case checks nothing";
  absl::StatusOr<Graph> input = ParseGraph(c.text);
  absl::Status failure = input.status();
  Graph output;
  if (input.ok()) {
    std::string run = c.run;
    passes::PipelineOptions options;
    options.verify_each = true;
    int fixed_point = 1;
    absl::string_view rest = run;
    if (absl::ConsumePrefix(&rest, "--fixed-point=")) {
      size_t space = rest.find(' ');
      ASSERT_TRUE(absl::SimpleAtoi(rest.substr(0, space), &fixed_point)) << run;
      rest = space == absl::string_view::npos ? "" : rest.substr(space + 1);
    }
    passes::Pipeline pipeline(options);
    auto list = passes::CreatePasses(rest, passes::PassOptions());
    ASSERT_TRUE(list.ok()) << list.status();
    ASSERT_FALSE(list->empty()) << "no passes to run: add '// RUN: pass,...'";
    pipeline.AddFixedPoint("run", std::move(*list), fixed_point);
    output = *input;
    failure = pipeline.Run(output).status();
  }
  if (!c.expected_error.empty()) {
    ASSERT_FALSE(failure.ok()) << "expected an error containing '" << c.expected_error << "'";
    EXPECT_NE(failure.message().find(c.expected_error), std::string::npos) << failure;
    return;
  }
  ASSERT_TRUE(failure.ok()) << failure;
  TextPrintOptions print;
  print.max_inline_elements = 16;
  std::string printed = PrintGraph(output, print);
  std::string error = RunChecks(c.checks, printed);
  EXPECT_TRUE(error.empty()) << error << "\noutput:\n" << printed;
  absl::Status numeric = testing::CompareGraphsNumerically(*input, output);
  EXPECT_TRUE(numeric.ok()) << numeric;
}

std::vector<Case> LoadCases() {
  const std::vector<std::string>& argv = ::testing::internal::GetArgvs();
  if (argv.size() < 2) return {};
  std::ifstream in(argv.back());
  std::stringstream text;
  text << in.rdbuf();
  return SplitCases(text.str());
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string name;
  for (char c : info.param.name) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name.empty() ? absl::StrCat("case", info.index) : name;
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, ::testing::ValuesIn(LoadCases()), CaseName);

TEST(GoldenFileTest, HasCases) {
  const std::vector<std::string>& argv = ::testing::internal::GetArgvs();
  ASSERT_GE(argv.size(), 2u) << "pass the .kgraph file as the test's argument";
  EXPECT_FALSE(LoadCases().empty()) << argv.back() << " has no cases";
}

}  // namespace
}  // namespace kiln
