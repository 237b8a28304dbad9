// docs/ops.md must equal the reference generated from the registry (`make docs`).
#include <fstream>
#include <sstream>

#include "graph/op_docs.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

TEST(OpDocsTest, CheckedInReferenceMatchesTheRegistry) {
  std::ifstream in("docs/ops.md");
  ASSERT_TRUE(in) << "docs/ops.md is missing; run `make docs`";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(text.str() == OpReferenceMarkdown(OpRegistry::Global()))
      << "docs/ops.md is stale; run `make docs`";
}

TEST(OpDocsTest, EveryOpIsDocumented) {
  std::string doc = OpReferenceMarkdown(OpRegistry::Global());
  for (const OpDef* def : OpRegistry::Global().ops()) {
    EXPECT_NE(doc.find("\n## " + def->name + "\n"), std::string::npos) << def->name;
    EXPECT_FALSE(def->summary.empty()) << def->name << " has no summary";
  }
}

}  // namespace
}  // namespace kiln
