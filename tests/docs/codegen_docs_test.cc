// docs/codegen.md lists exactly the ops generated loop kernels lower (scalar_ops.cc).
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "kernels/codegen/scalar_ops.h"

namespace kiln::codegen {
namespace {

TEST(CodegenDocsTest, OpListMatchesTheScalarTable) {
  std::ifstream in("docs/codegen.md");
  ASSERT_TRUE(in) << "docs/codegen.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  // The paragraph "- Ops (...): A, B, ..., Z. f32 only for ..."
  const std::string doc = text.str();
  const size_t start = doc.find("- Ops (");
  ASSERT_NE(start, std::string::npos);
  const size_t colon = doc.find("): ", start);
  const size_t end = doc.find(". f32 only", colon);
  ASSERT_NE(end, std::string::npos);
  std::set<std::string> documented;
  for (absl::string_view item : absl::StrSplit(doc.substr(colon + 3, end - colon - 3), ',')) {
    std::string op(absl::StripAsciiWhitespace(item));
    // "Maximum, Minimum (NaN-propagating)", "BiasAdd (any axis)", "Gelu (none and tanh)".
    op = op.substr(0, op.find(' '));
    documented.insert(op);
  }
  const std::vector<std::string> ops = ScalarLoweringOps();
  EXPECT_EQ(documented, std::set<std::string>(ops.begin(), ops.end()));
}

}  // namespace
}  // namespace kiln::codegen
