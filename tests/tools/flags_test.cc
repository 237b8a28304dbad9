// Tests of the `kiln` subcommand flag parser (tools/cli/flags.h).
#include "tools/cli/flags.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Parsed {
  std::string output;
  int64_t batch = 1;
  std::vector<std::string> inputs;
  bool verbose = false;
};

// A FlagSet over `p` with one flag of each kind.
absl::StatusOr<std::vector<std::string>> ParseInto(Parsed& p, std::vector<std::string> args,
                                                   bool* help = nullptr) {
  FlagSet flags("kiln test");
  flags.AddString("output", &p.output);
  flags.AddInt64("batch", &p.batch, 0, 100);
  flags.AddStringList("input", &p.inputs);
  flags.AddBool("verbose", &p.verbose);
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (help != nullptr) *help = flags.help_requested();
  return positional;
}

void ExpectUsageError(std::vector<std::string> args, const std::string& substring) {
  Parsed p;
  absl::StatusOr<std::vector<std::string>> result = ParseInto(p, std::move(args));
  ASSERT_FALSE(result.ok()) << "expected: " << substring;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(substring));
}

TEST(FlagSetTest, ParsesEveryFormAndKeepsPositionals) {
  Parsed p;
  auto positional = ParseInto(p, {"graph.pbtxt", "--output", "out", "--batch=7", "--input",
                                  "x=a.npy", "--input=y=random", "--verbose", "extra"});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_THAT(*positional, ElementsAre("graph.pbtxt", "extra"));
  EXPECT_EQ(p.output, "out");
  EXPECT_EQ(p.batch, 7);
  EXPECT_THAT(p.inputs, ElementsAre("x=a.npy", "y=random"));
  EXPECT_TRUE(p.verbose);
}

TEST(FlagSetTest, DefaultsStayWhenFlagsAreAbsent) {
  Parsed p;
  p.output = "default";
  auto positional = ParseInto(p, {});
  ASSERT_TRUE(positional.ok());
  EXPECT_TRUE(positional->empty());
  EXPECT_EQ(p.output, "default");
  EXPECT_EQ(p.batch, 1);
  EXPECT_FALSE(p.verbose);
}

TEST(FlagSetTest, DoubleDashEndsFlagsAndDashIsPositional) {
  Parsed p;
  auto positional = ParseInto(p, {"-", "--", "--batch", "-h"});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_THAT(*positional, ElementsAre("-", "--batch", "-h"));
  EXPECT_EQ(p.batch, 1);
}

TEST(FlagSetTest, ValueMayStartWithDash) {
  Parsed p;
  auto positional = ParseInto(p, {"--output", "-dir"});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_EQ(p.output, "-dir");
}

TEST(FlagSetTest, HelpWinsOverOtherErrors) {
  for (const char* help_flag : {"--help", "-h"}) {
    Parsed p;
    bool help = false;
    auto positional = ParseInto(p, {"--bogus", help_flag, "--batch"}, &help);
    ASSERT_TRUE(positional.ok()) << positional.status();
    EXPECT_TRUE(help);
  }
}

TEST(FlagSetTest, UsageErrors) {
  ExpectUsageError({"--bogus"}, "unknown flag '--bogus' for 'kiln test'");
  ExpectUsageError({"--bogus=1"}, "unknown flag '--bogus'");
  ExpectUsageError({"-batch", "3"}, "unknown flag '-batch'");
  ExpectUsageError({"--output"}, "flag --output needs a value");
  ExpectUsageError({"--batch"}, "flag --batch needs a value");
  ExpectUsageError({"--batch", "abc"}, "flag --batch: 'abc' is not an integer");
  ExpectUsageError({"--batch="}, "flag --batch: '' is not an integer");
  ExpectUsageError({"--batch", "3x"}, "'3x' is not an integer");
  ExpectUsageError({"--batch", " 3"}, "' 3' is not an integer");
  ExpectUsageError({"--batch", "99999999999999999999"}, "is not an integer");
  ExpectUsageError({"--batch", "101"}, "flag --batch: 101 is out of range [0, 100]");
  ExpectUsageError({"--batch", "-1"}, "out of range");
  ExpectUsageError({"--verbose=true"}, "flag --verbose takes no value");
  ExpectUsageError({"--output", "a", "--output", "b"}, "flag --output is given more than once");
}

TEST(FlagSetTest, WasSet) {
  Parsed p;
  FlagSet flags("kiln test");
  flags.AddString("output", &p.output);
  flags.AddInt64("batch", &p.batch, 0, 100);
  ASSERT_TRUE(flags.Parse(std::vector<std::string>{"--batch", "2"}).ok());
  EXPECT_TRUE(flags.WasSet("batch"));
  EXPECT_FALSE(flags.WasSet("output"));
  EXPECT_FALSE(flags.WasSet("nonexistent"));
}

}  // namespace
}  // namespace kiln::cli
