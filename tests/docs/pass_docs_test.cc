// docs/passes.md must equal the reference generated from the pass table (`make docs`).
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "passes/registry.h"

namespace kiln::passes {
namespace {

TEST(PassDocsTest, CheckedInReferenceMatchesThePassTable) {
  std::ifstream in("docs/passes.md");
  ASSERT_TRUE(in) << "docs/passes.md is missing; run `make docs`";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(text.str() == PassReferenceMarkdown()) << "docs/passes.md is stale; run `make docs`";
}

TEST(PassDocsTest, EveryPassIsDocumented) {
  std::string doc = PassReferenceMarkdown();
  for (const PassInfo& info : AllPasses()) {
    EXPECT_NE(doc.find("\n## " + std::string(info.name) + "\n"), std::string::npos) << info.name;
  }
}

}  // namespace
}  // namespace kiln::passes
