// Writes the op reference generated from the registry: gen_op_docs OUT.md
#include <cstdio>
#include <fstream>

#include "graph/op_docs.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gen_op_docs OUT.md\n");
    return 2;
  }
  std::ofstream out(argv[1], std::ios::trunc);
  out << kiln::OpReferenceMarkdown(kiln::OpRegistry::Global());
  out.flush();
  if (!out) {
    std::fprintf(stderr, "gen_op_docs: error: cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
