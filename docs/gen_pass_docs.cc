// Writes the pass reference generated from the pass table: gen_pass_docs OUT.md
#include <cstdio>
#include <fstream>

#include "passes/registry.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gen_pass_docs OUT.md\n");
    return 2;
  }
  std::ofstream out(argv[1], std::ios::trunc);
  out << kiln::passes::PassReferenceMarkdown();
  out.flush();
  if (!out) {
    std::fprintf(stderr, "gen_pass_docs: error: cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
